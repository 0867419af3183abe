"""`hull image <command>`: the image command group."""

from __future__ import annotations

from engine.cli.parser import Context, run_group

# The verbs that run against a remote service too (engine/remote).
REMOTE = ("inspect", "list", "ls", "pull")

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "build": ("engine.cli.build", "Build an image using instructions from Containerfiles"),
    "exists": ("engine.cli.image_exists", "Check if an image exists in local storage"),
    "history": ("engine.cli.history", "Show history of a specified image"),
    "import": ("engine.cli.import_", "Import a tarball to create a filesystem image"),
    "inspect": ("engine.cli.image_inspect", "Display the configuration of an image"),
    "list": ("engine.cli.images", "List images in local storage"),
    "load": ("engine.cli.load", "Load image(s) from a tar archive"),
    "ls": ("engine.cli.images", "List images in local storage"),
    "mount": ("engine.cli.image_mount", "Mount an image's root filesystem"),
    "prune": ("engine.cli.image_prune", "Remove unused images"),
    "pull": ("engine.cli.pull", "Pull an image from a registry"),
    "push": ("engine.cli.push", "Push an image to a specified destination"),
    "rm": ("engine.cli.rmi", "Remove one or more images from local storage"),
    "save": ("engine.cli.save", "Save image(s) to an archive"),
    "tag": ("engine.cli.tag", "Add an additional name to a local image"),
    "tree": ("engine.cli.image_tree", "Print layer hierarchy of an image in a tree format"),
    "unmount": ("engine.cli.image_unmount", "Unmount an image's root filesystem"),
    "umount": ("engine.cli.image_unmount", "Unmount an image's root filesystem"),
    "untag": ("engine.cli.untag", "Remove a name from a local image"),
}


def main(prog: str, argv: list[str], ctx: Context) -> int:
    return run_group(SUBCOMMANDS, prog, argv, ctx, "Manage images")
