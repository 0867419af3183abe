"""`hull quadlet install|list|print|rm`: the user's Quadlet files (Podman 5.6's commands).

install copies files into the Quadlet directory (rootless: $XDG_CONFIG_HOME/containers/
systemd; root: /etc/containers/systemd; the first of QUADLET_UNIT_DIRS when set) and
asks systemd to reload when one runs; list shows the installed files with the unit each
becomes; print shows one; rm deletes them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from engine.cli.parser import Context, HullParser, parse
from engine.cli.resource_cmds import run_verbs

VERBS = {"install": "Install a quadlet file or quadlet application", "list": "List Quadlets",
         "ls": "List Quadlets", "print": "Display the contents of a quadlet",
         "rm": "Remove quadlets", "remove": "Remove quadlets"}


def install_dir(rootless: bool) -> str:
    given = os.environ.get("QUADLET_UNIT_DIRS")
    if given:
        return given.split(":")[0]
    if not rootless:
        return "/etc/containers/systemd"
    home = os.environ.get("HOME") or os.path.expanduser("~")
    return os.path.join(os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config"), "containers", "systemd")


def _reload(ctx: Context, wanted: bool) -> None:
    if not wanted or not os.path.isdir("/run/systemd/system"):
        return  # no systemd running here (containers, CI): nothing to tell
    argv = ["systemctl", "--user", "daemon-reload"] if ctx.config().rootless else ["systemctl", "daemon-reload"]
    subprocess.run(argv, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main(prog: str, argv: list[str], ctx: Context) -> int:
    handlers = {"install": _install, "list": _list, "ls": _list, "print": _print, "rm": _rm, "remove": _rm}
    return run_verbs(prog, argv, ctx, "Allows users to manage Quadlets", VERBS, handlers, hidden=("ls", "remove"))


def _sources(ctx: Context) -> list:
    from engine.services import quadlet as q

    return q.load_sources([install_dir(ctx.config().rootless)])


def _find(ctx: Context, name: str):
    from engine.errors import NotFound

    for src in _sources(ctx):
        if src.name == name:
            return src
    raise NotFound(f"quadlet {name!r} not found: no such file")


def _install(prog: str, argv: list[str], ctx: Context) -> int:
    def build(p: HullParser) -> None:
        p.add_argument("paths", nargs="+", metavar="PATH")
        p.add_bool("--reload-systemd", default=True, help="Reload systemd after installing Quadlets (default true)")
        p.add_bool("--replace", help="Replace the installation even if the quadlet already exists")

    args = parse(ctx, prog, argv, build, VERBS["install"], ("hull quadlet install /path/myquadlet.container",),
                 usage=f"{prog} [options] PATH-OR-URL [FILES...]")
    from engine.errors import Conflict, InvalidArgument
    from engine.services.quadlet import EXTENSIONS

    files: list[str] = []
    for path in args.paths:
        if os.path.isdir(path):
            files += [os.path.join(path, n) for n in sorted(os.listdir(path))
                      if os.path.splitext(n)[1] in EXTENSIONS]
        elif os.path.splitext(path)[1] in EXTENSIONS:
            files.append(path)
        elif not os.path.exists(path):
            raise InvalidArgument(f"{path}: no such file or directory")
        else:
            raise InvalidArgument(f"{path} is not a supported Quadlet file: {', '.join(EXTENSIONS)}")
    target = install_dir(ctx.config().rootless)
    os.makedirs(target, mode=0o755, exist_ok=True)
    for path in files:
        dest = os.path.join(target, os.path.basename(path))
        if os.path.exists(dest) and not args.replace:
            raise Conflict(f"a Quadlet with name {os.path.basename(path)} already exists, refusing to overwrite")
    for path in files:
        dest = os.path.join(target, os.path.basename(path))
        shutil.copyfile(path, dest + ".tmp")
        os.replace(dest + ".tmp", dest)
        sys.stdout.write(dest + "\n")
    _reload(ctx, args.reload_systemd)
    return 0


def _list(prog: str, argv: list[str], ctx: Context) -> int:
    def build(p: HullParser) -> None:
        p.add_argument("--format", default="", metavar="string", help="Pretty-print output to JSON or using a "
                       "Go template")

    args = parse(ctx, prog, argv, build, VERBS["list"], ("hull quadlet list",), usage=f"{prog} [options]")
    from engine.cli.output import Printer, format_spec
    from engine.services.quadlet import service_name

    rows = [{"Name": s.name, "UnitName": service_name(s), "Path": s.path,
             "Status": "Not loaded" if not os.path.isdir("/run/systemd/system") else "unknown"}
            for s in _sources(ctx)]
    columns = [("Name", "NAME"), ("UnitName", "UNIT NAME"), ("Path", "PATH ON DISK"), ("Status", "STATUS")]
    spec = format_spec(args.format, {k: h for k, h in columns})
    if spec is None:
        Printer().table(rows, columns)
    else:
        Printer().formatted(spec, rows)
    return 0


def _print(prog: str, argv: list[str], ctx: Context) -> int:
    def build(p: HullParser) -> None:
        p.add_argument("name", metavar="QUADLET")

    args = parse(ctx, prog, argv, build, VERBS["print"], ("hull quadlet print myquadlet.container",),
                 usage=f"{prog} QUADLET")
    src = _find(ctx, args.name)
    with open(src.path, encoding="utf-8") as fh:
        sys.stdout.write(fh.read())
    return 0


def _rm(prog: str, argv: list[str], ctx: Context) -> int:
    def build(p: HullParser) -> None:
        p.add_argument("names", nargs="*", metavar="QUADLET")
        p.add_bool("-a", "--all", help="Remove all Quadlets for the current user")
        p.add_bool("-f", "--force", help="Remove running quadlets")
        p.add_bool("-i", "--ignore", help="Do not error for Quadlets that do not exist")
        p.add_bool("--reload-systemd", default=True, help="Reload systemd after removal (default true)")

    args = parse(ctx, prog, argv, build, VERBS["rm"], ("hull quadlet rm test.container",),
                 usage=f"{prog} [options] QUADLET [QUADLET...]")
    from engine.errors import InvalidArgument, NotFound

    if not args.names and not args.all:
        raise InvalidArgument("must provide at least 1 quadlet to remove")
    names = [s.name for s in _sources(ctx)] if args.all else args.names
    code = 0
    for name in names:
        try:
            src = _find(ctx, name)
        except NotFound as exc:
            if args.ignore:
                continue
            sys.stderr.write(f"Error: {exc}\n")
            code = 125
            continue
        os.unlink(src.path)
        dropins = src.path + ".d"
        if os.path.isdir(dropins):
            shutil.rmtree(dropins)
        sys.stdout.write(name + "\n")
    _reload(ctx, args.reload_systemd)
    return code
