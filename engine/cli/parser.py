"""Argument parsing shared by every command: Podman-style errors and bool flags.

argparse usage errors become InvalidArgument (exit 125) worded as cobra words
them ("unknown flag: --x").  Global flags (--root, ...) are accepted before
the command and after it.  Boolean flags accept Podman's `--flag=false` form.
"""

from __future__ import annotations

import os
import sys


def _import_argparse():
    """argparse without gettext: it looks each message up through gettext (importing
    gettext and locale, and probing /usr/share/locale on every parser: ~2 ms per
    command), and Hull's messages are Podman's, in English.  The stand-in is seen by
    argparse alone: later importers of gettext get the real module."""
    if "argparse" in sys.modules or "gettext" in sys.modules:
        import argparse
        return argparse
    stub = type(sys)("gettext")
    stub.gettext = lambda message: message  # type: ignore[attr-defined]
    stub.ngettext = lambda singular, plural, n: singular if n == 1 else plural  # type: ignore[attr-defined]
    sys.modules["gettext"] = stub
    try:
        import argparse
    finally:
        del sys.modules["gettext"]
    return argparse


argparse = _import_argparse()
TYPE_CHECKING = False  # typing costs milliseconds to import: annotations only
if TYPE_CHECKING:
    from typing import Any, Callable, Sequence

from engine.errors import InvalidArgument

GLOBAL_VALUE_FLAGS = ("--root", "--runroot", "--log-level", "--registries-conf", "--runtime",
                      "--url", "--connection", "--identity")
# Environment that makes an invocation remote (engine/remote/destination.py decides where to).
_REMOTE_ENV = ("CONTAINER_HOST", "CONTAINER_CONNECTION")
LOG_LEVELS = ("trace", "debug", "info", "warn", "warning", "error", "fatal", "panic")


class Context:
    """Global options of one invocation; builds the EngineConfig on demand."""

    def __init__(self) -> None:
        self.root: str | None = None
        self.runroot: str | None = None
        self.log_level = "warn"
        self.registries_conf: str | None = None
        self.runtime: str | None = None  # --runtime: builtin (default), crun, runc or a path
        self.url: str | None = None  # --url / --connection / --identity / -r: remote use (engine/remote)
        self.connection: str | None = None
        self.identity: str | None = None
        self.remote_flag = False
        self._config: Any = None
        self._destination: Any = False  # False: not resolved yet
        self.remote_refused: str | None = None  # set by main.run_command for commands without REMOTE

    def set_global(self, flag: str, value: str) -> None:
        if flag == "--log-level":
            if value not in LOG_LEVELS:
                raise InvalidArgument(f'log level "{value}" not supported, choose from: {", ".join(LOG_LEVELS)}')
            self.log_level = value
        elif value == "":
            raise InvalidArgument(f"{flag} must not be empty")
        else:
            setattr(self, flag[2:].replace("-", "_"), value)
            if flag in ("--url", "--connection", "--identity"):
                self._destination = False

    def apply(self, ns: argparse.Namespace) -> None:
        """Global flags given after the command name."""
        for flag in GLOBAL_VALUE_FLAGS:
            dest = flag[2:].replace("-", "_")
            if dest in ns:
                self.set_global(flag, getattr(ns, dest))
                delattr(ns, dest)

    @property
    def debug(self) -> bool:
        return self.log_level in ("debug", "trace")

    def destination(self) -> Any:
        """Where a remote invocation goes, or None (local).  The local path reads two
        environment variables and imports nothing."""
        if self._destination is False:
            if self.url is None and self.connection is None and not self.remote_flag and \
                    not any(os.environ.get(k) for k in _REMOTE_ENV):
                self._destination = None
            else:
                from engine.remote.destination import resolve

                self._destination = resolve(self.url, self.connection, self.remote_flag, self.identity)
        return self._destination

    @property
    def remote(self) -> bool:
        return self.destination() is not None

    def service(self, name: str) -> Any:
        """The services facade: engine.services.NAME, or its remote twin."""
        return service_module(self.remote, name)

    def config(self):  # -> engine.config.EngineConfig, or engine.remote.client.Client when remote
        if self._config is None and self.remote:
            from engine.remote.client import Client

            if self.remote_refused:
                raise InvalidArgument(f"{self.remote_refused} is not supported with a remote connection "
                                      "(--url, --connection, CONTAINER_HOST)")

            self._config = Client(self.destination())
        if self._config is None:
            from pathlib import Path

            from engine.config import EngineConfig

            kwargs: dict[str, Any] = {}
            if self.root:
                kwargs["root"] = Path(self.root).absolute()
            if self.runroot:
                kwargs["runroot"] = Path(self.runroot).absolute()
            if self.registries_conf:
                kwargs["registries_conf"] = Path(self.registries_conf)
            self._config = EngineConfig(**kwargs)
        return self._config


def service_module(remote: Any, name: str) -> Any:
    """engine.services.NAME, or engine.remote.services.NAME when `remote` is true (a bool,
    or the Client that ctx.config() gave a remote invocation)."""
    import importlib

    is_remote = remote if isinstance(remote, bool) else bool(getattr(remote, "remote", False))
    return importlib.import_module(("engine.remote.services." if is_remote else "engine.services.") + name)


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Asks the terminal's width through os, not shutil: argparse builds a
    formatter for every add_argument, and shutil costs milliseconds to import."""

    def __init__(self, prog: str) -> None:
        try:
            width = int(os.environ.get("COLUMNS", "")) or os.get_terminal_size().columns
        except (ValueError, OSError):
            width = 80
        super().__init__(prog, width=max(width - 2, 20))


class HullParser(argparse.ArgumentParser):
    """ArgumentParser whose errors are HullErrors and whose bools take =false."""

    def __init__(self, prog: str, description: str = "", examples: Sequence[str] = (), **kw: Any) -> None:
        epilog = None
        if examples:
            epilog = "Examples:\n" + "\n".join(f"  {e}" for e in examples)
        self._examples = tuple(examples)
        super().__init__(
            prog=prog,
            description=description,
            epilog=epilog,
            allow_abbrev=False,
            formatter_class=_HelpFormatter,
            **kw,
        )
        self._bool_flags: dict[str, str] = {}

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:  # type: ignore[override]
        self._adding = True  # argparse builds a help formatter per flag to check its metavar
        try:
            return super().add_argument(*args, **kwargs)
        finally:
            self._adding = False

    def _get_formatter(self) -> argparse.HelpFormatter:
        """While flags are added, one formatter serves every metavar check (run adds
        ~120 flags: a formatter each cost ~1 ms in all); help and usage get a fresh one."""
        if not self.__dict__.get("_adding"):
            return super()._get_formatter()
        checker = self.__dict__.get("_checker")
        if checker is None:
            checker = self._checker = super()._get_formatter()
        return checker

    def add_bool(self, *names: str, dest: str | None = None, default: bool = False, help: str = "") -> None:
        """A flag that is true when given, and also accepts `--flag=true|false`."""
        action = self.add_argument(*names, dest=dest, action="store_true", default=default, help=help)
        for name in names:
            self._bool_flags[name] = action.dest
        self.add_argument(f"--hull-false-{action.dest}", dest=action.dest, action="store_false",
                          help=argparse.SUPPRESS)

    def parse_args(self, args: Sequence[str] | None = None, namespace: Any = None) -> argparse.Namespace:  # type: ignore[override]
        return super().parse_args(self._rewrite_bools(list(args or [])), namespace)

    def _rewrite_bools(self, args: list[str]) -> list[str]:
        out: list[str] = []
        for i, arg in enumerate(args):
            if arg == "--":
                return out + args[i:]
            name, eq, value = arg.partition("=")
            if eq and name in self._bool_flags:
                truth = _parse_bool_text(value, name)
                out.append(name if truth else f"--hull-false-{self._bool_flags[name]}")
            else:
                out.append(arg)
        return out

    def error(self, message: str) -> None:  # type: ignore[override]
        raise InvalidArgument(_cobra_message(message))

    def format_help(self) -> str:
        """Cobra's layout, as `podman CMD --help`: summary, Usage:, Examples:, then
        Options: sorted by name, `  -a, --all` / `      --long TYPE`, help in one column."""
        usage = (self.usage or f"{self.prog} [options]").replace("%(prog)s", self.prog)
        lines = [self.description or "", "", "Usage:", f"  {usage}", ""]
        if self._examples:
            lines += ["Examples:", *(f"  {e}" for e in self._examples), ""]
        rows = []
        for action in self._actions:
            if not action.option_strings or action.help == argparse.SUPPRESS or action.dest == "help":
                continue  # cobra lists no help flag
            short = next((o for o in action.option_strings if len(o) == 2), "")
            long = next((o for o in action.option_strings if o.startswith("--")), "")
            left = f"  {short}, {long}" if short and long else f"      {long}" if long else f"  {short}"
            if action.nargs != 0:
                left += f" {action.metavar or 'string'}"
            rows.append(((long or short).lstrip("-"), left, action.help or ""))
        width = max((len(left) for _, left, _ in rows), default=0)
        lines += ["Options:", *(f"{left.ljust(width)}   {text}".rstrip() for _, left, text in sorted(rows))]
        return "\n".join(lines) + "\n"

    def exit(self, status: int = 0, message: str | None = None) -> None:  # type: ignore[override]
        if message:
            sys.stderr.write(message)
        raise SystemExit(status)


def _parse_bool_text(value: str, flag: str) -> bool:
    lowered = value.lower()
    if lowered in ("true", "1", "t"):
        return True
    if lowered in ("false", "0", "f"):
        return False
    raise InvalidArgument(f'invalid argument "{value}" for "{flag}" flag: strconv.ParseBool: parsing "{value}": invalid syntax')


def _cobra_message(message: str) -> str:
    """argparse's wording -> cobra's, which scripts written for Podman grep for."""
    if message.startswith("unrecognized arguments: "):
        extra = message.split(": ", 1)[1].split()
        flags = [a for a in extra if a.startswith("-")]
        if flags:
            return f"unknown flag: {flags[0].split('=')[0]}"
        return f"accepts fewer arguments, received extra: {' '.join(extra)}"
    if message.startswith("argument ") and message.endswith("expected one argument"):
        flag = message[len("argument "):].split(":")[0].split("/")[-1]
        return f"flag needs an argument: {flag}"
    return message


def add_global_flags(parser: HullParser) -> None:
    group = parser.add_argument_group("global flags")
    for flag in GLOBAL_VALUE_FLAGS:
        group.add_argument(flag, default=argparse.SUPPRESS, metavar="string", help=argparse.SUPPRESS)


def parse(
    ctx: Context,
    prog: str,
    argv: Sequence[str],
    build: Callable[[HullParser], None],
    description: str,
    examples: Sequence[str] = (),
    usage: str | None = None,
) -> argparse.Namespace:
    """Build a command's parser, parse `argv`, apply global flags found in it."""
    parser = HullParser(prog=prog, description=description, examples=examples, usage=usage)
    build(parser)
    add_global_flags(parser)
    ns = parser.parse_args(argv)
    ctx.apply(ns)
    return ns


def run_group(
    table: dict[str, tuple[str, str]], prog: str, argv: Sequence[str], ctx: Context, summary: str
) -> int:
    """`hull image <sub>` / `hull system <sub>`: help, or dispatch to the sub-table."""
    args = list(argv)
    if not args:
        raise InvalidArgument(f"missing command '{prog} COMMAND'")
    if args[0] in ("-h", "--help", "help"):
        width = max(len(n) for n in table) + 1
        lines = [summary, "", "Usage:", f"  {prog} [command]", "", "Available Commands:"]
        lines += [f"  {n.ljust(width)} {h}" for n, (_, h) in sorted(table.items())]
        sys.stdout.write("\n".join(lines) + "\n")
        return 0
    from engine.cli.main import run_command

    return run_command(table, prog, args, ctx)
