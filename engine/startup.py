"""Start-up trims for Hull's own processes (the CLI launcher, the container monitor).

Every hull command imports pathlib, which imports urllib.parse, which imports
`ipaddress` at its top for one check in urlsplit() of a bracketed host: ~1.5 ms
per process that most commands never use.  And ntpath (imported by pathlib) tries
the Windows-only `nt` and `_winapi` modules, each a failed search of sys.path.

`lean_imports()` makes `ipaddress` load on its first attribute access (a module
object standing in for it until then, which takes the real module's contents
then) and marks the Windows modules missing, as the import system documents
(None in sys.modules: ImportError at once).  Called first thing by the launcher
(engine/cli/launcher.py) and the monitor; never by library code or tests.
"""

from __future__ import annotations

import os
import sys

_WINDOWS_ONLY = ("nt", "_winapi")


def lean_imports() -> None:
    if os.name == "posix":
        for name in _WINDOWS_ONLY:
            sys.modules.setdefault(name, None)  # type: ignore[arg-type]
    _lazy_module("ipaddress")


def _lazy_module(name: str) -> None:
    if name in sys.modules:
        return

    class _Lazy(type(sys)):  # type: ignore[misc]
        def __getattr__(self, attr: str):
            if attr.startswith("__"):  # the import system's probes (__path__, ...)
                raise AttributeError(attr)
            return getattr(_load(), attr)

    stub = _Lazy(name)

    def _load():
        if sys.modules.get(name) is stub:
            del sys.modules[name]
        real = __import__(name)
        stub.__dict__.update(real.__dict__)  # modules that bound the stand-in see it all now
        return real

    sys.modules[name] = stub
