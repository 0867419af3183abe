"""`hull manifest create|add|annotate|inspect|push|remove|rm|exists`: manifest lists."""

from __future__ import annotations

import sys

from engine.cli.parser import Context, HullParser, parse
from engine.cli.resource_cmds import run_exists, run_verbs

VERBS = {
    "add": "Add images to a manifest list or image index",
    "annotate": "Add or update information about an entry in a manifest list or image index",
    "create": "Create manifest list or image index",
    "exists": "Check if a manifest list exists in local storage",
    "inspect": "Display the contents of a manifest list or image index",
    "push": "Push a manifest list or image index to a registry",
    "remove": "Remove an entry from a manifest list or image index",
    "rm": "Remove manifest list or image index from local storage",
}


def main(prog: str, argv: list[str], ctx: Context) -> int:
    handlers = {"add": _add, "annotate": _annotate, "create": _create, "exists": _exists, "inspect": _inspect,
                "push": _push, "remove": _remove, "rm": _rm}
    return run_verbs(prog, argv, ctx, "Manipulate manifest lists", VERBS, handlers)


def _svc():
    from engine.services import manifests

    return manifests


def _registry_opts(args):
    from engine.cli.registry_flags import creds_with_prompt
    from engine.services.image_registry import RegistryOptions

    return RegistryOptions(tls_verify=args.tls_verify, creds=creds_with_prompt(getattr(args, "creds", None)),
                           authfile=args.authfile)


def _entry_flags(p: HullParser, what: str) -> None:
    p.add_argument("--annotation", action="append", default=[], metavar="annotation",
                   help=f"set an annotation for the specified {what}")
    p.add_argument("--arch", default="", metavar="architecture", help="override the architecture of the specified image")
    p.add_argument("--os", default="", metavar="OS", help="override the OS of the specified image")
    p.add_argument("--variant", default="", metavar="Variant", help="override the Variant of the specified image")
    p.add_argument("--features", action="append", default=[], metavar="features",
                   help="override the features of the specified image")
    p.add_argument("--os-version", dest="os_version", default="", metavar="version",
                   help="override the OS version of the specified image")


def _entry_opts(args):
    svc = _svc()
    return svc.EntryOptions(annotations=svc.parse_annotations(args.annotation), arch=args.arch, os=args.os,
                            variant=args.variant, features=list(args.features), os_version=args.os_version)


def _create(prog: str, argv: list[str], ctx: Context) -> int:
    from engine.cli.registry_flags import add_registry_flags

    def build(p: HullParser) -> None:
        p.add_argument("name", metavar="LIST")
        p.add_argument("images", nargs="*", metavar="IMAGE")
        p.add_bool("--all", help="add all of the lists' images if the images to add are lists")
        p.add_bool("-a", "--amend", help="modify an existing list if one with the desired name already exists")
        p.add_argument("--annotation", action="append", default=[], metavar="annotation",
                       help="set annotations on the new list")
        add_registry_flags(p, creds=False)

    args = parse(ctx, prog, argv, build, VERBS["create"],
                 ("hull manifest create mylist:v1.11", "hull manifest create mylist:v1.11 arch-specific-image-to-add",
                  "hull manifest create --all mylist:v1.11 transport:tagged-image-to-add"),
                 usage=f"{prog} [options] LIST [IMAGE...]")
    svc = _svc()
    opts = svc.CreateOptions(all=args.all, amend=args.amend, annotations=svc.parse_annotations(args.annotation),
                             registry=_registry_opts(args))
    print(svc.create(ctx.config(), args.name, args.images, opts))
    return 0


def _add(prog: str, argv: list[str], ctx: Context) -> int:
    from engine.cli.registry_flags import add_registry_flags

    def build(p: HullParser) -> None:
        p.add_argument("name", metavar="LIST")
        p.add_argument("image", metavar="IMAGEORARTIFACT")
        p.add_bool("--all", help="add all of the list's images if the image is a list")
        _entry_flags(p, "image")
        add_registry_flags(p)

    args = parse(ctx, prog, argv, build, VERBS["add"],
                 ("hull manifest add mylist:v1.11 image:v1.11-amd64",
                  "hull manifest add mylist:v1.11 transport:imageName"),
                 usage=f"{prog} [options] LIST IMAGEORARTIFACT [IMAGEORARTIFACT...]")
    svc = _svc()
    print(svc.add(ctx.config(), args.name, args.image,
                  svc.AddOptions(all=args.all, entry=_entry_opts(args), registry=_registry_opts(args))))
    return 0


def _annotate(prog: str, argv: list[str], ctx: Context) -> int:
    def build(p: HullParser) -> None:
        p.add_argument("name", metavar="LIST")
        p.add_argument("digest", nargs="?", default="", metavar="IMAGEORARTIFACT")
        _entry_flags(p, "image or index")
        p.add_bool("--index", help="apply --annotation values to the image index itself")

    args = parse(ctx, prog, argv, build, VERBS["annotate"],
                 ("hull manifest annotate --annotation left=right mylist:v1.11 sha256:15352d97781ffdf357bf3459c037be3efac4133dc9070c2dce7eca7c05c3e736",),
                 usage=f"{prog} [options] LIST IMAGEORARTIFACT")
    from engine.errors import InvalidArgument

    if not args.digest and not args.index:
        raise InvalidArgument("accepts 2 arg(s), received 1")
    print(_svc().annotate(ctx.config(), args.name, args.digest, _entry_opts(args), index=args.index))
    return 0


def _inspect(prog: str, argv: list[str], ctx: Context) -> int:
    from engine.cli.registry_flags import add_registry_flags

    def build(p: HullParser) -> None:
        p.add_argument("name", metavar="LIST")
        add_registry_flags(p)

    args = parse(ctx, prog, argv, build, VERBS["inspect"], ("hull manifest inspect localhost/list",),
                 usage=f"{prog} [options] IMAGE")
    from engine.cli.output import Printer

    Printer().json(_svc().inspect(ctx.config(), args.name, _registry_opts(args)))
    return 0


def _push(prog: str, argv: list[str], ctx: Context) -> int:
    from engine.cli.registry_flags import add_registry_flags

    def build(p: HullParser) -> None:
        p.add_argument("name", metavar="SOURCE")
        p.add_argument("destination", nargs="?", metavar="DESTINATION")
        p.add_bool("--all", default=True, help="push images contained in the manifest list (default true)")
        p.add_bool("--rm", help="remove the manifest list if push succeeds")
        p.add_argument("-f", "--format", default="", metavar="string",
                       help="manifest type (oci or v2s2) to attempt to use when pushing the manifest list")
        p.add_bool("-q", "--quiet", help="don't output progress information when pushing lists")
        p.add_argument("--digestfile", metavar="string", help="after copying the image, write the digest "
                       "of the resulting digest to the file")
        add_registry_flags(p)

    args = parse(ctx, prog, argv, build, VERBS["push"],
                 ("hull manifest push mylist:v1.11 docker://quay.io/myuser/image:v1.11",),
                 usage=f"{prog} [options] LIST DESTINATION")
    svc = _svc()
    quiet = args.quiet
    digest = svc.push(ctx.config(), args.name, args.destination, svc.PushOptions(
        all=args.all, rm=args.rm, format=args.format, registry=_registry_opts(args),
        progress=(lambda line: None) if quiet else (lambda line: print(line, file=sys.stderr, flush=True))))
    if args.digestfile:
        with open(args.digestfile, "w") as fh:
            fh.write(digest)
    return 0


def _remove(prog: str, argv: list[str], ctx: Context) -> int:
    def build(p: HullParser) -> None:
        p.add_argument("name", metavar="LIST")
        p.add_argument("digest", metavar="IMAGE")

    args = parse(ctx, prog, argv, build, VERBS["remove"],
                 ("hull manifest remove mylist:v1.11 sha256:15352d97781ffdf357bf3459c037be3efac4133dc9070c2dce7eca7c05c3e736",),
                 usage=f"{prog} LIST DIGEST")
    print(_svc().remove_entry(ctx.config(), args.name, args.digest))
    return 0


def _rm(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, lambda p: p.add_argument("names", nargs="+", metavar="LIST"), VERBS["rm"],
                 ("hull manifest rm mylist:v1.11",), usage=f"{prog} LIST [LIST...]")
    from engine.cli.rmi import print_report

    return print_report(_svc().remove_lists(ctx.config(), args.names))


def _exists(prog: str, argv: list[str], ctx: Context) -> int:
    return run_exists(prog, argv, ctx, "MANIFEST", VERBS["exists"], "hull manifest exists mylist",
                      lambda name: _svc().exists(ctx.config(), name))
