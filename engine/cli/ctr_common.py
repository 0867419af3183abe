"""Shared by the container commands: acting on several containers at once,
--all/--latest selection, --cidfile reading.

Podman's verbs (stop, kill, rm, pause, ...) act on each name in turn, print
what they acted on to stdout, print one `Error: ...` line per failure to
stderr and exit with the last failure's code.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Iterable

from engine.errors import HullError, InvalidArgument


def for_each(names: "Iterable[str]", action: "Callable[[str], Any]", *,
             printed: "Callable[[str, Any], str | None] | None" = None,
             ignore_missing: bool = False, missing_code: int | None = None) -> int:
    """Run `action(name)` for every name; print `printed(name, result)` (default:
    the name as given) for successes and one error line per failure."""
    from engine.errors import NotFound

    code = 0
    out = sys.stdout
    for name in names:
        try:
            result = action(name)
        except NotFound as err:
            if ignore_missing:
                continue
            sys.stdout.flush()
            sys.stderr.write(f"Error: {err}\n")
            code = missing_code if missing_code is not None else err.exit_code
            continue
        except HullError as err:
            sys.stdout.flush()
            sys.stderr.write(f"Error: {err}\n")
            code = err.exit_code
            continue
        line = name if printed is None else printed(name, result)
        if line is not None:
            out.write(line + "\n")
            out.flush()
    return code


def read_cidfiles(paths: "Iterable[str]") -> list[str]:
    ids = []
    for path in paths:
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read().strip()
        except OSError as exc:
            raise InvalidArgument(f"reading CIDFile: open {path}: {(exc.strerror or str(exc)).lower()}") from None
        if text:
            ids.append(text)
    return ids


def targets(cfg: "Any", names: "list[str]", *, all_: bool = False, latest: bool = False,
            cidfiles: "Iterable[str]" = (), running_only: bool = False) -> list[str]:
    """The containers a verb acts on: names, --cidfile contents, --all, --latest."""
    names = list(names) + read_cidfiles(cidfiles)
    chosen = sum(1 for x in (bool(names), all_, latest) if x)
    if chosen > 1:
        if all_ and latest:
            raise InvalidArgument("--all and --latest cannot be used together")
        raise InvalidArgument("--all, --latest, and containers cannot be used together")
    if all_ or latest:
        from engine.cli.parser import service_module

        svc = service_module(cfg, "container_list")
        found = svc.list_containers(cfg, svc.ListOptions(all=not running_only, latest=latest))
        if latest and not found:
            raise InvalidArgument("no containers to act on: no such container")
        return [c.id for c in found]
    if not names:
        raise InvalidArgument("you must provide at least one name or id")
    return names


def parse_time_arg(text: str, flag: str, now: "float | None" = None, context: str = "") -> float:
    """--since/--until: a Go duration before now ("10m"), Unix seconds, or RFC 3339 / date.
    A bad value: `context` (default logs' `parsing --since "X"`) and Podman's reason."""
    import time as _time

    now = _time.time() if now is None else now
    value = text.strip()
    try:
        return float(value)
    except ValueError:
        pass
    if value and value[-1] in "smhun" and value[0].isdigit():
        from engine.spec.parse import parse_duration

        # Podman's ParseInputTime: a duration goes back for --since, forward for --until
        delta = parse_duration(value, flag)
        return now + delta if flag == "--until" else now - delta
    from datetime import datetime

    from engine.services.common import parse_time

    stamp = parse_time(value)
    if stamp:
        return stamp
    for fmt in ("%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(value, fmt).timestamp()
        except ValueError:
            continue
    where = context or f'parsing {flag} "{text}"'
    raise InvalidArgument(f"{where}: unable to interpret time value")


def rfc3339_nano(stamp: float) -> str:
    from datetime import datetime

    dt = datetime.fromtimestamp(stamp).astimezone()
    nanos = int(round((stamp % 1) * 1e9))
    if nanos >= 1_000_000_000:
        nanos = 999_999_999
    off = dt.strftime("%z")
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos:09d}" + off[:3] + ":" + off[3:]
