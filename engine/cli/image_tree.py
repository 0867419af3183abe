"""`hull image tree`: an image's layers as a tree, like `podman image tree`."""

from __future__ import annotations

from engine.cli.humanize import human_size_compact
from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Print layer hierarchy of an image in a tree format"
EXAMPLES = ("hull image tree alpine:latest", "hull image tree --whatrequires alpine:latest")


def build(p: HullParser) -> None:
    p.add_argument("image", metavar="IMAGE")
    p.add_bool("--whatrequires", help="Show all child images and layers of the specified image")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options] IMAGE")
    from engine.services import images as svc

    t = svc.tree(ctx.config(), args.image, what_requires=args.whatrequires)
    lines = [f"Image ID: {t.id[:12]}", f"Tags:     [{' '.join(t.names)}]",
             f"Size:     {human_size_compact(t.size)}", "Image Layers"]
    for i, layer in enumerate(t.layers):
        branch = "└── " if i == len(t.layers) - 1 else "├── "
        text = f"{branch}ID: {layer.id.partition(':')[2][:12]} Size: {human_size_compact(layer.size)}"
        if layer.top_of:
            text += f" Top Layer of: [{' '.join(layer.top_of)}]"
        lines.append(text)
    if args.whatrequires and t.children:
        lines.append("Required by")
        lines += [f"{'└── ' if i == len(t.children) - 1 else '├── '}{c[:12]}" for i, c in enumerate(t.children)]
    print("\n".join(lines))
    return 0
