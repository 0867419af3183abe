"""`hull container clone`: a new container with the options of an existing one."""

from __future__ import annotations

from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Clone an existing container"
EXAMPLES = ("hull container clone container_name new_name image_name", "hull container clone --run ctrID")


def build(p: HullParser) -> None:
    p.add_argument("container", metavar="CONTAINER")
    p.add_argument("name", nargs="?", metavar="NAME")
    p.add_argument("image", nargs="?", metavar="IMAGE")
    p.add_bool("--destroy", help="destroy the original container")
    p.add_argument("--name", dest="name_flag", metavar="string", help="name of the new container")
    p.add_bool("--run", help="run the new container")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options] CONTAINER NAME IMAGE")
    from engine.services import containers as svc

    result = svc.clone(ctx.config(), args.container, name=args.name_flag or args.name, destroy=args.destroy,
                       run_it=args.run, image=args.image)
    print(result.id)
    return 0
