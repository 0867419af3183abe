"""Instructions that change only the image config (no layer): ENV, LABEL, CMD,
ENTRYPOINT, EXPOSE, USER, WORKDIR, VOLUME, STOPSIGNAL, HEALTHCHECK, ONBUILD,
SHELL, MAINTAINER.  Each takes the expanded arguments and the stage's config
(`config` object of the image config) and changes it in place.
"""

from __future__ import annotations

import posixpath
from typing import Any, Callable

from engine.build.dockerfile import Instruction, json_form
from engine.build.expand import expand, split_raw, words
from engine.errors import InvalidArgument


def pairs(text: str, env: dict[str, str], escape: str, what: str, legacy: bool = True) -> list[tuple[str, str]]:
    """`K=V K2="v 2"` (values expanded), or the legacy one-pair form `K V`."""
    raw = split_raw(text, escape)
    if not raw:
        raise InvalidArgument(f"{what} requires at least one argument")
    if legacy and "=" not in raw[0]:
        key, _, value = text.strip().partition(" ")
        if not value.strip():
            raise InvalidArgument(f"{what} names can not be blank" if not key else f"{what} requires two arguments")
        return [(key, expand(value.strip(), env, escape))]
    out = []
    for word in raw:
        key, eq, value = word.partition("=")
        if not eq:
            raise InvalidArgument(f"{what} must be of the form: name=value (got {word!r})")
        key = expand(key, env, escape)
        if not key:
            raise InvalidArgument(f"{what} names can not be blank")
        out.append((key, expand(value, env, escape)))
    return out


def _duration(text: str, flag: str) -> int:
    from engine.spec.parse import parse_duration

    return int(parse_duration(text, flag) * 1_000_000_000) if text else 0


def healthcheck(ins: Instruction, shell: list[str]) -> dict[str, Any]:
    args = ins.args.strip()
    if args.upper() == "NONE":
        return {"Test": ["NONE"]}
    word, _, rest = args.partition(" ")
    if word.upper() != "CMD":
        raise InvalidArgument(f'unknown type "{word}" in HEALTHCHECK (try CMD)')
    rest = rest.strip()
    exec_form = json_form(rest)
    test = ["CMD", *exec_form] if exec_form is not None else ["CMD-SHELL", rest]
    hc: dict[str, Any] = {"Test": test}
    for name, key in (("interval", "Interval"), ("timeout", "Timeout"), ("start-period", "StartPeriod"),
                      ("start-interval", "StartInterval")):
        if name in ins.flags:
            hc[key] = _duration(ins.flags[name], f"--{name}")
    if "retries" in ins.flags:
        try:
            hc["Retries"] = int(ins.flags["retries"])
        except ValueError:
            raise InvalidArgument(f"invalid HEALTHCHECK --retries {ins.flags['retries']!r}") from None
    for name in ins.flags:
        if name not in ("interval", "timeout", "start-period", "start-interval", "retries"):
            raise InvalidArgument(f"unknown flag: --{name}")
    return hc


def command_form(ins: Instruction, shell: list[str]) -> list[str]:
    exec_form = ins.exec_form
    return exec_form if exec_form is not None else [*shell, ins.args]


def apply(ins: Instruction, conf: dict[str, Any], env: dict[str, str], escape: str, shell: list[str],
          warn: Callable[[str], None], cmd_set: bool = False) -> str:
    """Apply `ins` to `conf`; returns the text for the history entry (`ENV A=b`)."""
    cmd = ins.cmd
    if cmd == "ENV":
        kv = pairs(ins.args, env, escape, "ENV")
        current = [e for e in conf.get("Env") or []]
        for key, value in kv:
            current = [e for e in current if e.partition("=")[0] != key] + [f"{key}={value}"]
            env[key] = value
        conf["Env"] = current
        return "ENV " + " ".join(f"{k}={v}" for k, v in kv)
    if cmd == "LABEL":
        kv = pairs(ins.args, env, escape, "LABEL")
        labels = dict(conf.get("Labels") or {})
        labels.update(kv)
        conf["Labels"] = labels
        return "LABEL " + " ".join(f"{k}={v}" for k, v in kv)
    if cmd == "MAINTAINER":
        return "MAINTAINER " + ins.args
    if cmd in ("CMD", "ENTRYPOINT"):
        value = command_form(ins, shell)
        if cmd == "CMD":
            conf["Cmd"] = value
        else:
            conf["Entrypoint"] = value
            if not cmd_set:
                conf.pop("Cmd", None)  # Docker: ENTRYPOINT resets a CMD inherited from the base
        return f"{cmd} {_json(value)}"
    if cmd == "EXPOSE":
        ports = dict(conf.get("ExposedPorts") or {})
        for port in words(ins.args, env, escape):
            number, _, proto = port.partition("/")
            proto = (proto or "tcp").lower()
            if not number.replace("-", "").isdigit() or proto not in ("tcp", "udp", "sctp"):
                raise InvalidArgument(f"invalid containerPort: {port}")
            ports[f"{number}/{proto}"] = {}
        conf["ExposedPorts"] = ports
        return "EXPOSE " + " ".join(sorted(ports))
    if cmd == "USER":
        conf["User"] = expand(ins.args, env, escape)
        return "USER " + conf["User"]
    if cmd == "WORKDIR":
        path = expand(ins.args, env, escape)
        if not path:
            raise InvalidArgument("WORKDIR requires exactly one argument")
        base = conf.get("WorkingDir") or "/"
        conf["WorkingDir"] = posixpath.normpath(posixpath.join(base, path))
        return "WORKDIR " + path
    if cmd == "VOLUME":
        paths = json_form(ins.args)
        if paths is None:
            paths = words(ins.args, env, escape)
        else:
            paths = [expand(p, env, escape) for p in paths]
        if not paths or any(not p.strip() for p in paths):
            raise InvalidArgument("VOLUME specified can not be an empty string")
        vols = dict(conf.get("Volumes") or {})
        vols.update({p: {} for p in paths})
        conf["Volumes"] = vols
        return "VOLUME " + _json(paths)
    if cmd == "STOPSIGNAL":
        sig = expand(ins.args, env, escape)
        from engine.spec.parse import parse_signal

        parse_signal(sig)
        conf["StopSignal"] = sig
        return "STOPSIGNAL " + sig
    if cmd == "HEALTHCHECK":
        conf["Healthcheck"] = healthcheck(ins, shell)
        return "HEALTHCHECK " + ins.args
    if cmd == "ONBUILD":
        trigger = ins.args.strip()
        first = trigger.split(None, 1)[0].upper() if trigger else ""
        if first in ("ONBUILD", "FROM", "MAINTAINER") or not first:
            raise InvalidArgument(f"{first or 'ONBUILD'} isn't allowed as an ONBUILD trigger")
        conf["OnBuild"] = [*(conf.get("OnBuild") or []), trigger]
        return "ONBUILD " + trigger
    if cmd == "SHELL":
        value = ins.exec_form
        if not value:
            raise InvalidArgument("SHELL requires the arguments to be in JSON form")
        conf["Shell"] = value
        return "SHELL " + _json(value)
    raise InvalidArgument(f"unknown instruction: {cmd}")


def _json(value: list[str]) -> str:
    import json

    return json.dumps(value)
