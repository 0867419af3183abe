"""`hull secret create|ls|inspect|rm|exists`: secrets for --secret.

`create NAME FILE` reads the file, `create NAME -` reads stdin.  The data is
never printed: inspect shows metadata only (as Podman without --showsecret).
"""

from __future__ import annotations

from engine.cli.parser import Context, HullParser, parse
from engine.cli.resource_cmds import list_output, print_removal, read_source, run_exists, run_verbs

VERBS = {
    "create": "Create a new secret",
    "exists": "Check if a secret exists in local storage",
    "inspect": "Inspect a secret",
    "ls": "List secrets",
    "list": "List secrets",
    "rm": "Remove one or more secrets",
}
HEADERS = {"ID": "ID", "CreatedAt": "CREATED", "UpdatedAt": "UPDATED"}
MAX_SECRET = 512 * 1024  # Podman's limit


def main(prog: str, argv: list[str], ctx: Context) -> int:
    handlers = {"create": _create, "exists": _exists, "inspect": _inspect, "ls": _ls, "list": _ls, "rm": _rm}
    return run_verbs(prog, argv, ctx, "Manage secrets", VERBS, handlers, hidden=("list",))


def read_secret_data(source: str) -> bytes:
    from engine.errors import InvalidArgument

    data = read_source(source, MAX_SECRET)
    if len(data) > MAX_SECRET:
        raise InvalidArgument("secret data must be larger than 0 and less than 512000 bytes")
    if not data:
        raise InvalidArgument("secret data must be larger than 0 and less than 512000 bytes")
    return data


def _create(prog: str, argv: list[str], ctx: Context) -> int:
    def build(p: HullParser) -> None:
        p.add_argument("name", metavar="NAME")
        p.add_argument("source", metavar="FILE|-")
        p.add_argument("-d", "--driver", default="file", metavar="string",
                       help='Specify secret driver (default "file")')
        p.add_bool("--env", help="Read secret data from environment variable")
        p.add_argument("-l", "--label", action="append", default=[], metavar="stringArray",
                       help="Specify labels on the secret")
        p.add_argument("--driver-opts", action="append", default=[], metavar="stringToString",
                       help="Specify driver specific options")
        p.add_bool("--replace", help="If a secret with the same name exists, replace it")

    args = parse(ctx, prog, argv, build, VERBS["create"], ("hull secret create mysecret /path/to/secret",
                 "printf \"secretdata\" | hull secret create mysecret -"), usage=f"{prog} [options] NAME FILE|-")
    import os

    from engine.errors import InvalidArgument
    from engine.services import secrets as svc
    from engine.spec.parse import parse_key_values

    if args.env:
        if args.source not in os.environ:
            raise InvalidArgument(f"cannot create store secret data: environment variable {args.source} is not set")
        data = os.environ[args.source].encode()
    else:
        data = read_secret_data(args.source)
    opts = svc.CreateOptions(driver=args.driver, labels=parse_key_values(args.label, "--label"),
                             driver_options=parse_key_values(",".join(args.driver_opts).split(",")
                                                             if args.driver_opts else [], "--driver-opts"),
                             replace=args.replace)
    print(svc.create(ctx.config(), args.name, data, opts))
    return 0


def _exists(prog: str, argv: list[str], ctx: Context) -> int:
    from engine.services import secrets as svc

    return run_exists(prog, argv, ctx, "SECRET", VERBS["exists"], "hull secret exists mysecret",
                      lambda name: svc.exists(ctx.config(), name))


def _inspect(prog: str, argv: list[str], ctx: Context) -> int:
    def build(p: HullParser) -> None:
        p.add_argument("names", nargs="*", metavar="SECRET")
        p.add_bool("-a", "--all", help="Inspect all secrets")
        p.add_argument("-f", "--format", default="json", metavar="string",
                       help="Format inspect output using Go template")
        p.add_bool("--pretty", help="Print inspect output in human-readable format")

    args = parse(ctx, prog, argv, build, VERBS["inspect"], ("hull secret inspect mysecret",),
                 usage=f"{prog} [options] SECRET [SECRET...]")
    from engine.cli.image_inspect import print_documents
    from engine.errors import InvalidArgument
    from engine.services import secrets as svc

    cfg = ctx.config()
    names = list(args.names)
    if args.all:
        names = [s["ID"] for s in svc.list_secrets(cfg, {})]
    elif not names:
        raise InvalidArgument("requires at least 1 arg(s), only received 0")
    return print_documents(names, args.format, lambda n: svc.inspect(cfg, [n])[0],
                           lambda n, e: f"inspecting secret: {e}")


def secret_row(doc: dict) -> dict:
    """An inspect document plus the flat fields `secret ls` templates use."""
    from engine.cli.humanize import time_ago
    from engine.services.common import parse_time

    spec = doc.get("Spec") or {}
    return {**doc, "Name": spec.get("Name", ""), "Driver": (spec.get("Driver") or {}).get("Name", ""),
            "Labels": spec.get("Labels") or {}, "CreatedAt": time_ago(parse_time(doc.get("CreatedAt"))),
            "UpdatedAt": time_ago(parse_time(doc.get("UpdatedAt"))), "Created": doc.get("CreatedAt"),
            "Updated": doc.get("UpdatedAt")}


def _ls(prog: str, argv: list[str], ctx: Context) -> int:
    def build(p: HullParser) -> None:
        p.add_argument("-f", "--filter", action="append", default=[], metavar="stringArray",
                       help="Filter secret output")
        p.add_argument("--format", metavar="string", help="Format volume output using Go template")
        p.add_bool("-n", "--noheading", help="Do not print headers")
        p.add_bool("-q", "--quiet", help="Print secret IDs only")

    args = parse(ctx, prog, argv, build, VERBS["ls"], ("hull secret ls",), usage=f"{prog} [options]")
    from engine.cli.output import parse_filters
    from engine.services import secrets as svc

    found = svc.list_secrets(ctx.config(), parse_filters(args.filter))
    return list_output(args, (s["ID"] for s in found), lambda: [secret_row(s) for s in found], HEADERS,
                       [("ID", "ID"), ("Name", "NAME"), ("Driver", "DRIVER"), ("CreatedAt", "CREATED"),
                        ("UpdatedAt", "UPDATED")])


def _rm(prog: str, argv: list[str], ctx: Context) -> int:
    def build(p: HullParser) -> None:
        p.add_argument("names", nargs="*", metavar="SECRET")
        p.add_bool("-a", "--all", help="Remove all secrets")
        p.add_bool("-i", "--ignore", help="Ignore errors when a specified secret is missing")

    args = parse(ctx, prog, argv, build, VERBS["rm"], ("hull secret rm mysecret1 mysecret2",),
                 usage=f"{prog} [options] SECRET [SECRET...]")
    from engine.services import secrets as svc

    return print_removal(svc.remove(ctx.config(), list(args.names), all=args.all, ignore=args.ignore))
