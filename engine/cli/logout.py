"""`hull logout`: forget the credentials stored for a registry (all with -a)."""

from __future__ import annotations

from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Log out of a container registry"
EXAMPLES = ("hull logout quay.io", "hull logout --all")


def build(p: HullParser) -> None:
    p.add_argument("registry", nargs="?", metavar="REGISTRY")
    p.add_bool("-a", "--all", help="Remove the cached credentials for all registries in the auth file")
    p.add_argument("--authfile", metavar="string", help="path of the authentication file")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options] REGISTRY")
    from engine.errors import InvalidArgument
    from engine.services import auth

    if args.all and args.registry:
        raise InvalidArgument("--all takes no registry")
    if not args.all:
        from engine.cli.registry_flags import registry_or_default

        args.registry = registry_or_default(ctx.config(), args.registry)
    auth.logout(ctx.config(), args.registry, all_=args.all, authfile_path=args.authfile)
    print("Removed login credentials for all registries" if args.all else f"Removed login credentials for {args.registry}")
    return 0
