"""`hull version`: version information, or `--format {{.Client.Version}}` / json."""

from __future__ import annotations

from engine.cli.output import Printer, format_spec
from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Display the hull version information"
REMOTE = True  # runs against a remote service too (engine/remote)
EXAMPLES = ("hull version", "hull version --format json", "hull version --format '{{.Client.Version}}'")


def build(p: HullParser) -> None:
    p.add_argument("-f", "--format", metavar="string", help="Change the output format to JSON or a Go template")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options]")
    from engine.services.system import version

    doc = version()
    if ctx.remote:  # podman --remote: the client's block and the service's
        doc["Server"] = ctx.service("system").server_version(ctx.config())
    out = Printer()
    spec = format_spec(args.format)
    if spec is not None:
        if spec.kind == "json":
            out.json(doc)
        else:
            out.formatted(spec, [doc])
        return 0
    c = doc["Client"]
    out.lines([
        "Client:         Hull Engine",
        f"Version:        {c['Version']}",
        f"API Version:    {c['APIVersion']}",
        f"Python Version: {c['PythonVersion']}",
        f"Built:          {c['BuiltTime']}",
        f"OS/Arch:        {c['OsArch']}",
    ])
    if "Server" in doc:
        srv = doc["Server"]
        out.lines([
            "",
            "Server:         Hull Engine",
            f"Version:        {srv['Version']}",
            f"API Version:    {srv['APIVersion']}",
            f"Python Version: {srv['GoVersion'].removeprefix('python')}",
            f"Built:          {srv['BuiltTime']}",
            f"OS/Arch:        {srv['OsArch']}",
        ])
    return 0
