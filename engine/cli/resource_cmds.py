"""What the resource command groups (network, volume, secret, pod, quadlet, ...) share:
verb dispatch with Podman's group help, `ls` output (-q, --format, the table), the
per-name report of `rm`, and `prune`'s confirmation prompt."""

from __future__ import annotations

import sys

from engine.cli.parser import Context

TYPE_CHECKING = False  # typing costs milliseconds on every command of these groups
if TYPE_CHECKING:
    from typing import Any, Callable, Iterable, Mapping, Sequence

    Handler = Callable[[str, list[str], Context], int]


def run_verbs(prog: str, argv: list[str], ctx: Context, summary: str, verbs: Mapping[str, str],
              handlers: Mapping[str, Handler], hidden: Iterable[str] = ()) -> int:
    """`hull <group> VERB ...`: the group's help (aliases in `hidden` left out), or the
    verb's handler called with "<prog> <verb>" and the rest of argv."""
    from engine.errors import InvalidArgument

    if not argv:
        raise InvalidArgument(f"missing command '{prog} COMMAND'")
    verb, rest = argv[0], argv[1:]
    if verb in ("-h", "--help", "help"):
        skip = set(hidden)
        width = max(len(v) for v in verbs) + 1
        lines = [summary, "", "Usage:", f"  {prog} [command]", "", "Available Commands:"]
        lines += [f"  {v.ljust(width)} {h}" for v, h in sorted(verbs.items()) if v not in skip]
        sys.stdout.write("\n".join(lines) + "\n")
        return 0
    handler = handlers.get(verb)
    if handler is None:
        raise InvalidArgument(f"unrecognized command `{prog} {verb}`")
    return handler(f"{prog} {verb}", rest, ctx)


def run_exists(prog: str, argv: list[str], ctx: Context, metavar: str, description: str, example: str,
               exists: Callable[[str], bool]) -> int:
    """`exists NAME`: exit 0 when `exists(NAME)`, else 1 (nothing printed)."""
    from engine.cli.parser import parse

    args = parse(ctx, prog, argv, lambda p: p.add_argument("name", metavar=metavar), description, (example,),
                 usage=f"{prog} {metavar}")
    return 0 if exists(args.name) else 1


def list_output(args: Any, ids: Iterable[str], rows: Callable[[], Sequence[Mapping[str, Any]]],
                headers: Mapping[str, str], columns: Sequence[tuple[str, str]],
                json_docs: Callable[[], Any] | None = None) -> int:
    """`ls`: -q prints `ids`; --format json prints `json_docs()` when given (else the rows);
    another --format renders the rows; no --format prints the `columns` table."""
    from engine.cli.output import Printer, format_spec

    out = Printer()
    if args.quiet:
        out.lines(ids)
        return 0
    spec = format_spec(args.format, headers)
    if spec is not None and spec.kind == "json" and json_docs is not None:
        out.json(json_docs())
    elif spec is not None:
        out.formatted(spec, rows(), noheading=args.noheading)
    else:
        out.table(rows(), columns, noheading=args.noheading)
    return 0


def print_report(report: Any) -> None:
    """Each removed name on stdout, then an `Error:` line per failure."""
    for name in report.removed:
        sys.stdout.write(name + "\n")
    sys.stdout.flush()
    for err in report.errors:
        sys.stderr.write(f"Error: {err}\n")


def print_removal(report: Any) -> int:
    """`rm`: the report printed; its exit code (Podman's 1 for a missing name, 2 for one
    in use, 125 otherwise)."""
    print_report(report)
    return report.exit_code


def confirm_prune(force: bool, warning: str) -> bool:
    """`prune`: go ahead with -f, else ask `warning` plus Podman's question on the terminal."""
    from engine.cli.image_prune import confirm

    return force or confirm(warning + "Are you sure you want to continue? [y/N] ")


def print_names(names: Iterable[str]) -> int:
    """One name a line (what `prune` removed)."""
    for name in names:
        sys.stdout.write(name + "\n")
    return 0


def read_source(source: str, limit: int) -> bytes:
    """FILE, or stdin for "-": at most `limit` + 1 bytes, so the caller can tell an input
    that is too large."""
    from engine.errors import InvalidArgument

    try:
        if source == "-":
            return sys.stdin.buffer.read(limit + 1)
        with open(source, "rb") as fh:
            return fh.read(limit + 1)
    except OSError as exc:
        raise InvalidArgument(f"open {source}: {(exc.strerror or str(exc)).lower()}") from None
