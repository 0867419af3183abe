"""The pre-parsed cffi module must match syscalls._CDEF, or Hull silently falls back
to parsing declarations at every start (a 30 ms regression on every command)."""

from pathlib import Path

from engine.runtime import libc_build
from engine.runtime.syscalls import SYSCALLS


def test_generated_module_is_current(tmp_path: Path) -> None:
    fresh = libc_build.generate(tmp_path).read_text()
    assert libc_build.TARGET.read_text() == fresh, "run: .venv/bin/python -m engine.runtime.libc_build"


def test_syscalls_use_the_generated_module() -> None:
    import engine.runtime._libc_cffi as generated

    assert SYSCALLS._ffi is generated.ffi
    assert SYSCALLS.has_openat2  # Linux >= 5.6 on every machine Hull is tested on
