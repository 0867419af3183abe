"""`hull build` (also `hull image build`, `hull buildx build`): build an image
from a Containerfile/Dockerfile.  Step lines go to stdout as Podman prints them
(stderr with -q: nothing), RUN output to stdout, the image ID last."""

from __future__ import annotations

import os
import sys

from engine.cli.parser import Context, HullParser, parse
from engine.cli.registry_flags import add_registry_flags, creds_with_prompt

DESCRIPTION = "Build an image using instructions from Containerfiles"
EXAMPLES = ("hull build .", "hull build --creds=username:password -t imageName -f Containerfile.simple .",
            "hull build --layers --force-rm --tag imageName .")


def build(p: HullParser) -> None:
    p.add_argument("context", nargs="?", default=".", metavar="CONTEXT")
    p.add_argument("--annotation", action="append", default=[], metavar="stringArray",
                   help="Set metadata for an image (default [])")
    p.add_argument("--build-arg", action="append", default=[], metavar="stringArray",
                   help="argument=value to supply to the builder")
    p.add_argument("--build-context", action="append", default=[], metavar="stringArray",
                   help="argument=value to supply additional build context to the builder")
    p.add_argument("-f", "--file", action="append", default=[], metavar="stringArray",
                   help="pathname or URL of a Dockerfile")
    p.add_argument("--format", default=os.environ.get("BUILDAH_FORMAT", "oci"), metavar="string",
                   help='format of the built image\'s manifest and metadata (default "oci")')
    p.add_argument("--ignorefile", default="", metavar="string", help="path to an alternate .dockerignore file")
    p.add_argument("--iidfile", default="", metavar="file", help="file to write the image ID to")
    p.add_argument("--label", action="append", default=[], metavar="stringArray",
                   help="Set metadata for an image (default [])")
    p.add_bool("--layers", default=True, help="Use intermediate layers during build")
    p.add_argument("--network", default="", metavar="string",
                   help="Connect RUN's container to a network (host, none, private, pasta, slirp4netns, bridge, "
                        "or a network's name)")
    p.add_bool("--no-cache", dest="no_cache", help="Do not use existing cached images for the container build")
    p.add_argument("--platform", default="", metavar="string", help="set the OS/ARCH[/VARIANT] of the image")
    p.add_argument("--pull", default="missing", metavar="string",
                   help='Pull image policy ("always"|"missing"|"never"|"newer") (default "missing")')
    p.add_bool("-q", "--quiet", help="refrain from announcing build instructions and image read/write progress")
    p.add_bool("--rm", default=True, help="Remove intermediate containers after a successful build")
    p.add_bool("--force-rm", dest="force_rm", help="Always remove intermediate containers after a build")
    p.add_argument("--secret", action="append", default=[], metavar="stringArray",
                   help="secret file to expose to the build")
    p.add_bool("--squash", help="squash newly built layers into a single new layer")
    p.add_argument("-t", "--tag", action="append", default=[], metavar="stringArray",
                   help="tagged name to apply to the built image")
    p.add_argument("--target", default="", metavar="string", help="set the target build stage to build")
    add_registry_flags(p)  # for FROM images pulled by the build


def _pairs(items: list[str], flag: str, need_value: bool = False) -> dict[str, str]:
    from engine.errors import InvalidArgument

    out = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not key or (need_value and not eq):
            raise InvalidArgument(f"{flag} {item!r}: expected KEY=VALUE")
        if not eq and flag == "--build-arg":
            if key not in os.environ:
                continue  # Podman: a bare name takes the environment's value, if any
            value = os.environ[key]
        out[key] = value
    return out


def _secrets(items: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """--secret id=x[,src=FILE] | id=x,env=VAR | id=x,type=env[,src=VAR] (buildah's forms):
    ({id: host file}, {id: value of the environment variable})."""
    from engine.errors import InvalidArgument

    files, values = {}, {}
    for item in items:
        fields = dict(part.partition("=")[::2] for part in item.split(","))
        sid, src = fields.get("id", ""), fields.get("src") or fields.get("source") or ""
        kind = "env" if fields.get("env") else fields.get("type", "file")
        if kind not in ("file", "env"):
            raise InvalidArgument(f"--secret {item!r}: type must be file or env")
        if not sid:
            raise InvalidArgument(f"--secret {item!r}: id= is required")
        if kind == "env":
            var = fields.get("env") or src or sid
            if var not in os.environ:
                raise InvalidArgument(f"secret {sid!r}: environment variable {var} is not set")
            values[sid] = os.environ[var]
            continue
        if not src:
            src = sid
        if not os.path.isfile(src):
            raise InvalidArgument(f"secret {sid!r}: stat {src}: no such file or directory")
        files[sid] = os.path.abspath(src)
    return files, values


def main(prog: str, argv: list[str], ctx: Context) -> int:
    # `--pull` alone is --pull=always and takes no separate value (Podman's NoOptDefVal):
    # `--pull newer` is always + a context named "newer"; a policy needs `--pull=newer`
    cut = argv.index("--") if "--" in argv else len(argv)
    argv = [("--pull=always" if a == "--pull" and i < cut else a) for i, a in enumerate(argv)]
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options] [CONTEXT]")
    from engine.services import build as svc

    pull = {"true": "always", "false": "missing"}.get(str(args.pull).lower(), str(args.pull).lower())
    secret_files, secret_values = _secrets(args.secret)
    opts = svc.BuildOptions(
        context=args.context, files=list(args.file), tags=list(args.tag),
        build_args=_pairs(args.build_arg, "--build-arg"), labels=_pairs(args.label, "--label"),
        annotations=_pairs(args.annotation, "--annotation"), target=args.target, no_cache=args.no_cache,
        layers=args.layers, pull=pull, squash=args.squash, format=args.format, iidfile=args.iidfile,
        quiet=args.quiet, network=args.network, build_contexts=_pairs(args.build_context, "--build-context", True),
        secrets=secret_files, secret_values=secret_values, ignorefile=args.ignorefile, platform=args.platform,
        runtime=ctx.runtime or "", rm=args.rm, force_rm=args.force_rm, tls_verify=args.tls_verify,
        authfile=args.authfile or "", creds=creds_with_prompt(args.creds) or "")

    def say(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    sys.stdout.flush()
    image_id = svc.build(ctx.config(), opts, None if args.quiet else say, None if args.quiet else 1)
    sys.stdout.write(image_id.partition(":")[2] + "\n")
    return 0
