"""`--change` instructions (import, commit) applied to an image config's `config`.

Podman accepts `INSTRUCTION value` or `INSTRUCTION=value` for CMD, ENTRYPOINT,
ENV, EXPOSE, LABEL, USER, WORKDIR, VOLUME, STOPSIGNAL (and ONBUILD); CMD,
ENTRYPOINT and VOLUME take JSON (exec) form or shell form.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from engine.errors import InvalidArgument

SUPPORTED = ("CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "ONBUILD", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR")


def _json_list(value: str) -> list[str] | None:
    if not value.lstrip().startswith("["):
        return None
    try:
        doc = json.loads(value)
    except ValueError:
        return None
    if isinstance(doc, list) and all(isinstance(x, str) for x in doc):
        return doc
    return None


def _split(change: str) -> tuple[str, str]:
    text = change.strip()
    word = text.split(None, 1)[0] if text else ""
    name, eq, rest = word.partition("=")
    if eq and name.upper() in SUPPORTED:
        return name.upper(), text[len(name) + 1 :].strip()
    parts = text.split(None, 1)
    if not parts:
        raise InvalidArgument("invalid change \"\": empty instruction")
    return parts[0].upper(), parts[1].strip() if len(parts) > 1 else ""


def _pairs(value: str, what: str) -> list[tuple[str, str]]:
    """`K=V K2="V 2"`, or the legacy one-pair form `K V`."""
    try:
        words = shlex.split(value)
    except ValueError as exc:
        raise InvalidArgument(f"invalid {what} change {value!r}: {exc}") from None
    if words and "=" not in words[0]:
        if len(words) < 2:
            raise InvalidArgument(f"invalid {what} change {value!r}: expected KEY=VALUE")
        return [(words[0], value.split(None, 1)[1].strip())]
    pairs = []
    for word in words:
        key, eq, val = word.partition("=")
        if not eq or not key:
            raise InvalidArgument(f"invalid {what} change {value!r}: expected KEY=VALUE")
        pairs.append((key, val))
    return pairs


def apply_changes(config: dict[str, Any], changes: list[str]) -> dict[str, Any]:
    """Apply each change to `config` (the image config's `config` object) in order."""
    for change in changes:
        instruction, value = _split(change)
        if instruction not in SUPPORTED:
            raise InvalidArgument(f"invalid change {change!r}: {instruction} is not one of {', '.join(SUPPORTED)}")
        if not value:
            raise InvalidArgument(f"invalid change {change!r}: {instruction} needs a value")
        if instruction in ("CMD", "ENTRYPOINT"):
            words = _json_list(value)
            key = "Cmd" if instruction == "CMD" else "Entrypoint"
            config[key] = words if words is not None else ["/bin/sh", "-c", value]
        elif instruction == "ENV":
            env = [e for e in config.get("Env") or []]
            for key, val in _pairs(value, "ENV"):
                env = [e for e in env if e.partition("=")[0] != key] + [f"{key}={val}"]
            config["Env"] = env
        elif instruction == "LABEL":
            labels = dict(config.get("Labels") or {})
            labels.update(_pairs(value, "LABEL"))
            config["Labels"] = labels
        elif instruction == "EXPOSE":
            ports = dict(config.get("ExposedPorts") or {})
            for port in value.split():
                number, _, proto = port.partition("/")
                if not number.replace("-", "").isdigit() or proto not in ("", "tcp", "udp", "sctp"):
                    raise InvalidArgument(f"invalid change {change!r}: bad port {port!r}")
                ports[f"{number}/{proto or 'tcp'}"] = {}
            config["ExposedPorts"] = ports
        elif instruction == "VOLUME":
            paths = _json_list(value) or value.split()
            volumes = dict(config.get("Volumes") or {})
            volumes.update({p: {} for p in paths})
            config["Volumes"] = volumes
        elif instruction == "USER":
            config["User"] = value
        elif instruction == "WORKDIR":
            config["WorkingDir"] = value
        elif instruction == "STOPSIGNAL":
            config["StopSignal"] = value
        elif instruction == "ONBUILD":
            config["OnBuild"] = [*(config.get("OnBuild") or []), value]
    return config
