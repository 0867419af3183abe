"""Named connections, kept in Podman 5's file so both tools share them:
$PODMAN_CONNECTIONS_CONF, else $XDG_CONFIG_HOME/containers/podman-connections.json
(default ~/.config/containers/...).  Shape:
{"Connection": {"Default": NAME, "Connections": {NAME: {"URI", "Identity", "IsMachine"}}}, "Farm": {}}
Writes go to a temp file renamed into place, under an flock, so concurrent edits don't tear."""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from engine.errors import InvalidArgument, NotFound
from engine.record import Record


class Connection(Record):
    name: str
    uri: str
    identity: str = ""
    default: bool = False
    is_machine: bool = False


def path() -> Path:
    env = os.environ.get("PODMAN_CONNECTIONS_CONF")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "containers" / "podman-connections.json"


def _read(p: Path) -> dict[str, Any]:
    try:
        doc = json.loads(p.read_text(encoding="utf-8") or "{}")
    except FileNotFoundError:
        doc = {}
    except (OSError, ValueError) as exc:
        raise InvalidArgument(f"reading {p}: {exc}") from None
    if not isinstance(doc, dict):
        raise InvalidArgument(f"reading {p}: not a JSON object")
    conn = doc.setdefault("Connection", {})
    conn.setdefault("Default", "")
    conn.setdefault("Connections", {})
    doc.setdefault("Farm", {})
    return doc


def list_connections() -> list[Connection]:
    doc = _read(path())["Connection"]
    return [Connection(name=name, uri=str(c.get("URI", "")), identity=str(c.get("Identity", "")),
                       default=name == doc["Default"], is_machine=bool(c.get("IsMachine")))
            for name, c in sorted(doc["Connections"].items())]


def get(name: str) -> Connection:
    for c in list_connections():
        if c.name == name:
            return c
    raise NotFound(f'connection "{name}" not found')


def default() -> Connection | None:
    return next((c for c in list_connections() if c.default), None)


@contextmanager
def _editing() -> Iterator[dict[str, Any]]:
    import fcntl

    p = path()
    p.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{p}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        doc = _read(p)
        yield doc
        tmp = p.with_name(f".{p.name}.{os.getpid()}")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=2)
            fh.write("\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, p)


def add(name: str, uri: str, identity: str = "", make_default: bool = False) -> None:
    from engine.remote.destination import parse_uri

    if not name:
        raise InvalidArgument("a connection needs a name")
    parse_uri(uri)  # refuse a malformed URI now, not at first use
    with _editing() as doc:
        conns = doc["Connection"]["Connections"]
        entry: dict[str, Any] = {"URI": uri}
        if identity:
            entry["Identity"] = os.path.abspath(identity)
        conns[name] = entry
        if make_default or not doc["Connection"]["Default"]:
            doc["Connection"]["Default"] = name


def remove(names: list[str], all_: bool = False) -> None:
    with _editing() as doc:
        conn = doc["Connection"]
        if all_:
            conn["Connections"] = {}
            conn["Default"] = ""
            return
        for name in names:
            conn["Connections"].pop(name, None)  # Podman: removing a missing name is not an error
            if conn["Default"] == name:
                conn["Default"] = next(iter(sorted(conn["Connections"])), "")


def set_default(name: str) -> None:
    with _editing() as doc:
        if name not in doc["Connection"]["Connections"]:
            raise NotFound(f'connection "{name}" not found')
        doc["Connection"]["Default"] = name


def rename(old: str, new: str) -> None:
    with _editing() as doc:
        conns = doc["Connection"]["Connections"]
        if old not in conns:
            raise NotFound(f'connection "{old}" not found')
        if new in conns and new != old:
            raise InvalidArgument(f'connection "{new}" already exists')
        conns[new] = conns.pop(old)
        if doc["Connection"]["Default"] == old:
            doc["Connection"]["Default"] = new
