"""`hull mount` / `hull unmount` (container mount|unmount|umount): a container's rootfs.

Rootless this only works inside `hull unshare` (the mount lives in Hull's
mount namespace), as Podman requires.  Without names, mount lists what is
mounted.
"""

from __future__ import annotations

import sys

from engine.cli.parser import Context, HullParser, parse


def _build_mount(p: HullParser) -> None:
    p.add_argument("names", nargs="*", metavar="CONTAINER")
    p.add_bool("-a", "--all", help="Mount all containers")
    p.add_argument("--format", metavar="string", help="Print the mounted containers in specified format (json)")
    p.add_bool("-l", "--latest", help="Act on the latest container hull is aware of")
    p.add_bool("--no-trunc", dest="no_trunc", help="Do not truncate output")


def _build_unmount(p: HullParser) -> None:
    p.add_argument("names", nargs="*", metavar="CONTAINER")
    p.add_bool("-a", "--all", help="Unmount all of the currently mounted containers")
    p.add_bool("-f", "--force", help="Force the complete unmount of the specified mounted containers")
    p.add_bool("-l", "--latest", help="Act on the latest container hull is aware of")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    verb = prog.rsplit(" ", 1)[-1]
    from engine.services import containers as svc

    if verb == "mount":
        args = parse(ctx, prog, argv, _build_mount, "Mount a working container's root filesystem",
                     ("hull mount", "hull mount ctrID"), usage=f"{prog} [options] [CONTAINER...]")
        cfg = ctx.config()
        names = list(args.names)
        if args.latest:
            from engine.cli.ctr_common import targets

            names = targets(cfg, [], latest=True)
        if args.all:
            from engine.cli.ctr_common import targets

            names = targets(cfg, [], all_=True)
        if not names:
            mounted = svc.mounted(cfg)
            if args.format == "json":
                from engine.cli.output import Printer

                Printer().json([{"id": cid, "Names": [], "mountpoint": path} for cid, path in mounted])
            else:
                for cid, path in mounted:
                    sys.stdout.write(f"{cid if args.no_trunc else cid[:12]} {path}\n")
            return 0
        for _cid, path in svc.mount(cfg, names):
            sys.stdout.write(path + "\n")
        return 0
    args = parse(ctx, prog, argv, _build_unmount, "Unmount working container's root filesystem",
                 ("hull unmount ctrID", "hull unmount --all"), usage=f"{prog} [options] CONTAINER [CONTAINER...]")
    cfg = ctx.config()
    names = list(args.names)
    if args.latest:
        from engine.cli.ctr_common import targets

        names = targets(cfg, [], latest=True)
    if not names and not args.all:
        from engine.errors import InvalidArgument

        raise InvalidArgument("when neither --all nor --latest is specified, you must provide at least one "
                              "container name or ID")
    for cid in svc.unmount(cfg, names, all=args.all, force=args.force):
        sys.stdout.write(cid + "\n")
    return 0
