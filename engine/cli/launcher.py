"""Writes .venv/bin/hull: a start-up-lean replacement for pip's console script.

pip's script imports `re` and runs with site.py, which scans every .pth file in
site-packages: together 5-10 ms on every command.  This launcher runs Python
with -S and puts the two paths site.py would have added on sys.path itself,
and ends with os._exit once the command has returned (its output flushed):
interpreter teardown and sqlite's checkpoint-on-close cost 10-15 ms more.
engine/startup.py trims what pathlib drags in before anything is imported.
`make` runs it after installing: .venv/bin/python -m engine.cli.launcher PATH
"""

from __future__ import annotations

import os
import sys
import sysconfig
from pathlib import Path

TEMPLATE = """#!{python} -S
# Hull's launcher, written by engine/cli/launcher.py (see there for why -S).
import sys
sys.path[0] = {project!r}
sys.path.append({site_packages!r})
from engine.startup import lean_imports
lean_imports()
from engine.cli.main import main
code = main()
try:
    sys.stdout.flush()
    sys.stderr.flush()
except BrokenPipeError:
    pass
# Every command has finished its work and committed its state by now: skip the
# interpreter's teardown (module cleanup, sqlite's WAL checkpoint on close).
import os
os._exit(code)
"""


def render() -> str:
    project = str(Path(__file__).resolve().parents[2])
    python = os.path.join(sys.prefix, "bin", "python")
    return TEMPLATE.format(python=python, project=project,
                           site_packages=sysconfig.get_paths()["purelib"])


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m engine.cli.launcher PATH", file=sys.stderr)
        return 2
    target = Path(argv[0])
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(render())
    tmp.chmod(0o755)
    os.replace(tmp, target)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
