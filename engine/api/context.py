"""The engine configuration of the connection being served.

The service's parent builds nothing: each forked child asks for the
configuration here, and enters Hull's user namespace on first use (rootless),
while it is still single-threaded.
"""

from __future__ import annotations

from typing import Any, Callable

_factory: Callable[[], Any] | None = None
_config: Any = None


def set_factory(factory: Callable[[], Any]) -> None:
    global _factory, _config
    _factory, _config = factory, None


def config() -> Any:
    """The EngineConfig, with the user namespace entered (rootless)."""
    global _config
    if _config is None:
        if _factory is None:
            raise RuntimeError("API context used outside a connection")
        from engine.services.common import enter_userns

        cfg = _factory()
        enter_userns(cfg)
        _config = cfg
    return _config
