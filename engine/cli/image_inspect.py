"""`hull image inspect`: Podman's JSON document for each image, or a template."""

from __future__ import annotations

import sys
from typing import Any, Callable

from engine.cli.output import Printer, format_spec
from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Display the configuration of an image"
EXAMPLES = ("hull image inspect alpine", "hull image inspect --format '{{.Id}} {{.Size}}' alpine")


def build(p: HullParser) -> None:
    p.add_argument("names", nargs="+", metavar="IMAGE")
    p.add_argument("-f", "--format", metavar="string", default="json",
                   help="Format the output to a Go template or json")


def print_documents(names: list[str], fmt: str, lookup: Callable[[str], dict[str, Any]],
                    missing: Callable[[str, Exception], str],
                    row: Callable[[dict[str, Any]], Any] | None = None) -> int:
    """Inspect each name; print what was found (JSON: a list, `[]` when every name missed,
    as Podman), then one error line per miss.  `row` turns a document into what a
    template sees."""
    from engine.errors import HullError, NotFound

    docs: list[dict[str, Any]] = []
    errors: list[str] = []
    code = 0
    for name in names:
        try:
            docs.append(lookup(name))
        except NotFound as err:
            errors.append(missing(name, err))
            code = 125
        except HullError as err:
            errors.append(str(err))
            code = err.exit_code
    out = Printer()
    spec = format_spec(fmt)
    if spec is None or spec.kind == "json":
        out.json(docs)
    else:
        out.formatted(spec, [row(d) for d in docs] if row else docs)
    sys.stdout.flush()
    for line in errors:
        sys.stderr.write(f"Error: {line}\n")
    return code


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options] IMAGE [IMAGE...]")
    from engine.services import images as svc

    cfg = ctx.config()
    return print_documents(args.names, args.format, lambda n: svc.inspect(cfg, n), lambda n, e: str(e))
