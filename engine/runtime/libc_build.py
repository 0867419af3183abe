"""Generates engine/runtime/_libc_cffi.py: cffi's out-of-line ABI module.

Parsing C declarations with pycparser costs 25-45 ms at every start; the generated
module carries them pre-parsed and loads in about 2 ms.  Run after changing
syscalls._CDEF:  .venv/bin/python -m engine.runtime.libc_build
(tests/unit/runtime/test_libc_build.py fails while the file is stale).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

MODULE_NAME = "_libc_cffi"
TARGET = Path(__file__).with_name(MODULE_NAME + ".py")


def generate(directory: Path) -> Path:
    """Write the generated module into `directory` and return its path."""
    from cffi import FFI

    from engine.runtime.syscalls import _CDEF

    builder = FFI()
    builder.cdef(_CDEF)
    builder.set_source(MODULE_NAME, None)
    return Path(builder.emit_python_code(str(directory / (MODULE_NAME + ".py"))) or directory / (MODULE_NAME + ".py"))


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        generated = generate(Path(tmp))
        TARGET.write_text(generated.read_text())
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
