"""Global flags, bool flags with =false, Podman-style usage errors and exit codes."""

import io
import sys

import pytest

from engine.cli import main as cli_main
from engine.cli.parser import Context, HullParser, parse
from engine.errors import InvalidArgument


def run(argv, capsys):
    code = cli_main.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_global_flags_before_command():
    ctx = Context()
    rest = cli_main.split_global(["--root", "/r", "--runroot=/rr", "--log-level", "debug", "images", "-q"], ctx)
    assert rest == ["images", "-q"]
    assert (ctx.root, ctx.runroot, ctx.log_level) == ("/r", "/rr", "debug")


def test_global_flags_after_command_are_applied():
    ctx = Context()

    def build(p):
        p.add_bool("-q", "--quiet")

    ns = parse(ctx, "hull images", ["-q", "--root", "/x"], build, "d")
    assert ns.quiet is True and ctx.root == "/x"
    assert not hasattr(ns, "root")


def test_bool_flags_take_false_and_true():
    p = HullParser("hull x")
    p.add_bool("--tls-verify", dest="tls_verify", default=None)
    p.add_bool("-H", "--human", default=True)
    p.add_argument("image")
    assert p.parse_args(["img"]).tls_verify is None
    assert p.parse_args(["--tls-verify", "img"]).tls_verify is True
    assert p.parse_args(["--tls-verify=false", "img"]).tls_verify is False
    assert p.parse_args(["-H=false", "img"]).human is False
    assert p.parse_args(["--human=true", "img"]).human is True
    with pytest.raises(InvalidArgument, match="ParseBool"):
        p.parse_args(["--tls-verify=maybe", "img"])


def test_unknown_flag_is_cobra_worded_exit_125(capsys):
    code, out, err = run(["images", "--bogus"], capsys)
    assert code == 125
    assert err.splitlines() == ["Error: unknown flag: --bogus"]


def test_missing_and_unknown_command(capsys):
    code, out, err = run([], capsys)
    assert code == 125 and err.startswith("Error: missing command 'hull COMMAND'")
    assert out.startswith("Manage pods, containers and images\n\nUsage:\n")  # Podman prints its help too
    code, _, err = run(["frobnicate"], capsys)
    assert code == 125 and err.startswith("Error: unrecognized command `hull frobnicate`")


def test_bad_log_level(capsys):
    code, _, err = run(["--log-level", "loud", "version"], capsys)
    assert code == 125 and "log level" in err


def test_help_and_version_exit_0(capsys):
    code, out, _ = run(["--help"], capsys)
    assert code == 0 and "images" in out and "Usage:" in out
    code, out, _ = run(["--version"], capsys)
    assert code == 0 and out.startswith("hull version ")
    code, out, _ = run(["images", "--help"], capsys)
    assert code == 0 and "--no-trunc" in out


def test_command_help_has_cobras_shape(capsys):
    """`hull ps --help` is laid out as `podman ps --help`: summary, Usage:, Examples:,
    Options: sorted, `  -a, --all` / `      --long TYPE`, help texts in one column."""
    code, out, _ = run(["ps", "--help"], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[:4] == ["List containers", "", "Usage:", "  hull ps [options]"]
    assert lines[5] == "Examples:" and "Options:" in lines
    opts = lines[lines.index("Options:") + 1:]
    assert opts[0].startswith("  -a, --all   ") and any(o.startswith("      --external   ") for o in opts)
    assert any(o.startswith("  -f, --filter strings   ") for o in opts)
    assert len({o.index(o.split("  ")[-1].lstrip()) for o in opts if o.strip()}) == 1  # one help column
    assert not any("--help" in o or "--hull-false" in o for o in opts)


def test_flag_needs_argument(capsys):
    code, _, err = run(["images", "--format"], capsys)
    assert code == 125 and "Error: flag needs an argument: --format" in err


def test_unexpected_exception_one_line_and_traceback_only_in_debug(monkeypatch, capsys):
    def boom(*a, **k):
        raise RuntimeError("kaput\nsecond line")

    monkeypatch.setattr(cli_main, "run_command", boom)
    code, _, err = run(["version"], capsys)
    assert code == 125 and err == "Error: RuntimeError: kaput second line\n"
    code, _, err = run(["--log-level=debug", "version"], capsys)
    assert code == 125 and "Traceback" in err


def test_keyboard_interrupt_exits_130(monkeypatch, capsys):
    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_main, "run_command", interrupted)
    code, _, err = run(["version"], capsys)
    assert code == 130 and "Traceback" not in err


def test_every_command_module_builds_its_help(capsys):
    import importlib

    from engine.cli.image import SUBCOMMANDS as IMAGE
    from engine.cli.system import SUBCOMMANDS as SYSTEM

    for table, prefix in ((cli_main.COMMANDS, "hull"), (IMAGE, "hull image"), (SYSTEM, "hull system")):
        for name, (module, _) in table.items():
            importlib.import_module(module)  # each module in the table exists
            code, out, err = run(prefix.split()[1:] + [name, "--help"], capsys)
            assert code == 0, (name, err)
            assert "usage:" in out.lower(), name


def test_images_path_imports_no_heavy_modules(tmp_path):
    import subprocess

    code = ("import sys; from engine.cli.main import main; "
            f"sys.argv=['hull','--root','{tmp_path}/root','--runroot','{tmp_path}/run','images']\n"
            "assert main() == 0\n"
            "bad=[m for m in ('rich','httpx','cffi','django','yaml','engine.registry.client') if m in sys.modules]\n"
            "print('HEAVY:' + ','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "HEAVY:", out
