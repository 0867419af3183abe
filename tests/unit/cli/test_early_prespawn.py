"""engine/cli/early.py: which invocations spawn the monitor before argparse."""

from __future__ import annotations

import sys

import pytest

from engine.cli.early import scan


@pytest.mark.parametrize("argv, expected", [
    (["run", "--rm", "busybox", "true"], {}),
    (["--root", "/r", "--runroot=/rr", "run", "-d", "busybox"], {"--root": "/r", "--runroot": "/rr"}),
    (["--runtime", "crun", "container", "run", "busybox"], {"--runtime": "crun"}),
    (["start", "-a", "ctr"], {}),
    (["start", "--detach-keys", "ctrl-a", "-ai", "ctr"], {}),
    (["container", "start", "--filter=x", "ctr"], {}),
    (["--root", "/r", "pod", "start", "mypod"], {"--root": "/r"}),
])
def test_spawns_for_local_run_and_start_of_one(argv, expected):
    assert scan(argv) == expected


@pytest.mark.parametrize("argv", [
    ["ps", "-a"],
    ["images"],
    [],
    ["--url", "unix:///x", "run", "busybox"],           # remote
    ["-r", "run", "busybox"],
    ["--root"],                                         # a flag without its value
    ["--root=", "run", "busybox"],
    ["run", "--root", "/other", "busybox"],             # a global flag after the command
    ["run", "busybox", "ls", "--runroot=/x"],            # (or the container's: we cannot tell)
    ["run", "--help"],
    ["start", "a", "b"],                                # several containers
    ["start", "--all"],
    ["start", "-l"],
    ["start", "--detach-keys", "ctr"],                  # the value is no name
    ["--bogus", "run", "busybox"],
    ["pod", "start", "a", "b"],                         # several pods
    ["pod", "start", "--all"],
    ["pod", "start", "--pod-id-file", "f"],             # the pods are in the file
    ["pod", "stop", "p"],
    ["pod", "run", "p"],
])
def test_no_early_spawn(argv):
    assert scan(argv) is None


def test_main_with_argv_imports_no_argparse_first(tmp_path):
    """A real invocation (argv None) of a command that is not run/start: nothing spawned,
    and argparse still comes without gettext."""
    import subprocess
    from pathlib import Path

    import engine

    repo = str(Path(engine.__file__).resolve().parent.parent)
    code = ("import sys; from engine.cli.main import main; sys.argv = ['hull', '--version']; "
            "rc = main(); print('gettext' in sys.modules, 'argparse' in sys.modules)")
    out = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True,
                         cwd=str(tmp_path), env={"PYTHONPATH": repo})
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1] == "False True"


@pytest.mark.parametrize("root, runroot", [
    ("/r", "/rr"), ("rel/../x", "./run/"), ("//srv/a//b/.", "///c"), (".", "x/."), (None, None),
])
def test_early_config_names_the_store_as_the_parsed_one(root, runroot, tmp_path, monkeypatch):
    """The monitor spawned before argparse is handed its container only when the store
    (root, runroot) the CLI later builds is the same: both must print alike."""
    from engine.cli.parser import Context
    from engine.config import EngineConfig

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HULL_ROOT", "/h//root/")
    monkeypatch.setenv("HULL_RUNROOT", "h/run")
    ctx = Context()
    ctx.root, ctx.runroot = root, runroot
    early = EngineConfig.early(root, runroot)
    parsed = ctx.config()
    assert (early.root, early.runroot, early.rootless) == (str(parsed.root), str(parsed.runroot), parsed.rootless)
    assert early.replace() == parsed
