"""`hull login`: check credentials with the registry, then store them in auth.json."""

from __future__ import annotations

import sys

from engine.cli.parser import Context, HullParser, parse
from engine.cli.registry_flags import add_registry_flags

DESCRIPTION = "Log in to a container registry"
EXAMPLES = ("hull login quay.io", "hull login --username USERNAME --password-stdin quay.io",
            "hull login --tls-verify=false -u USER -p PASS localhost:5000")


def build(p: HullParser) -> None:
    p.add_argument("registry", nargs="?", metavar="REGISTRY")
    p.add_argument("-u", "--username", metavar="string", help="Username for registry")
    p.add_argument("-p", "--password", metavar="string", help="Password for registry")
    p.add_bool("--password-stdin", dest="password_stdin", help="Take the password from stdin")
    p.add_bool("--get-login", dest="get_login", help="Return the current login user for the registry")
    p.add_bool("-v", "--verbose", help="Write more detailed information to stdout")
    add_registry_flags(p, creds=False)


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options] REGISTRY")
    from engine.errors import InvalidArgument
    from engine.services import auth

    from engine.cli.registry_flags import registry_or_default

    cfg = ctx.config()
    args.registry = registry_or_default(cfg, args.registry)
    if args.get_login:
        print(auth.get_login(cfg, args.registry, args.authfile))
        return 0
    if args.password and args.password_stdin:
        raise InvalidArgument("--password and --password-stdin are mutually exclusive")
    username = args.username
    if not username:
        if not sys.stdin.isatty() or args.password_stdin:
            raise InvalidArgument("username must be given with -u when the password comes from stdin")
        username = input("Username: ").strip()
    password = args.password
    if args.password_stdin:
        password = sys.stdin.read().rstrip("\r\n")
    elif password is None:
        if not sys.stdin.isatty():
            raise InvalidArgument("cannot prompt for a password without a terminal: use -p or --password-stdin")
        import getpass

        password = getpass.getpass("Password: ")
    auth.login(cfg, args.registry, auth.LoginOptions(username=username, password=password,
                                                      tls_verify=args.tls_verify, authfile=args.authfile))
    print("Login Succeeded!")
    return 0
