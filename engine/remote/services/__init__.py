"""Remote twins of engine/services modules: the same function names, arguments and
return types, with a remote `Client` where the local ones take an EngineConfig.
`Context.service(name)` picks engine.services.NAME or engine.remote.services.NAME;
a function a twin lacks is a clean error (`unsupported()`), not an AttributeError."""

from __future__ import annotations

from engine.errors import HullError


class NotSupportedRemotely(HullError):
    pass


def unsupported(module: str, name: str) -> NotSupportedRemotely:
    return NotSupportedRemotely(f"{module.rsplit('.', 1)[-1]}.{name} is not supported with a remote connection")
