"""`hull cp`: copy files between a container and the host (or a tar on stdin/stdout).

`CTR:PATH` names a path in a container; `-` is a tar stream (stdout when it is
the destination, stdin when it is the source).  Resolution inside the
container's root is the service's job (in-root, never following a symlink out).
"""

from __future__ import annotations

from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Copy files/folders between a container and the local filesystem"
EXAMPLES = ("hull cp [options] [CONTAINER:]SRC_PATH [CONTAINER:]DEST_PATH",
            "hull cp /myapp/app.conf containerID:/myapp/app.conf",
            "hull cp containerID:/myapp/ /myapp/", "hull cp - containerID:/myfiles.tar.gz < myfiles.tar.gz")


def build(p: HullParser) -> None:
    p.add_argument("src", metavar="SRC_PATH")
    p.add_argument("dest", metavar="DEST_PATH")
    p.add_bool("-a", "--archive", default=True, help="Chown copied files to the primary uid/gid of the "
               "destination container. (default true)")
    p.add_bool("-L", "--follow-link", dest="follow_link", help="Always follow symbol link in SRC_PATH")
    p.add_bool("--overwrite", help="Allow to overwrite directories with non-directories and vice versa")


def split_target(text: str) -> tuple[str | None, str]:
    """"ctr:/p" -> ("ctr", "/p"); a host path (absolute, ./, or no colon) -> (None, text)."""
    if text == "-" or text.startswith(("/", ".")):
        return None, text
    name, sep, path = text.partition(":")
    if not sep:
        return None, text
    return name, path


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES,
                 usage=f"{prog} [options] [CONTAINER:]SRC_PATH [CONTAINER:]DEST_PATH")
    from engine.errors import ContainerNotFound, InvalidArgument
    from engine.services import container_fs as svc
    from engine.services.container_cp import CopyOptions

    src_ctr, src = split_target(args.src)
    dst_ctr, dst = split_target(args.dest)
    if src_ctr and dst_ctr:
        raise InvalidArgument("copying between containers is not supported")
    if not src_ctr and not dst_ctr:
        raise InvalidArgument("invalid arguments " f"{args.src}, {args.dest} you must use just one container")
    if not src and src_ctr:
        raise InvalidArgument(f'"{args.src}" could not be parsed as a container path')
    # Podman always copies what a symlink SRC points to (its LinkTarget); -L is Docker's spelling
    opts = CopyOptions(archive=args.archive, follow_link=True)
    cfg = ctx.config()
    try:
        if src_ctr:
            svc.copy_from_container(cfg, src_ctr, src, dst, opts)
        else:
            svc.copy_to_container(cfg, dst_ctr, src, dst or "/", opts)
    except ContainerNotFound:
        raise ContainerNotFound(f'container "{src_ctr or dst_ctr}" does not exist') from None
    return 0
