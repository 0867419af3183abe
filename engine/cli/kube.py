"""`hull kube generate|play|down` (Podman's `kube` group; `play kube` and
`generate kube` reach the same functions)."""

from __future__ import annotations

import os
import sys

from engine.cli.parser import Context, HullParser, parse
from engine.cli.resource_cmds import read_source, run_verbs

VERBS = {
    "apply": "",
    "down": "Remove pods based on Kubernetes YAML",
    "generate": "Generate Kubernetes YAML based on containers, pods or volumes",
    "play": "Play a pod or volume based on Kubernetes YAML",
}


def main(prog: str, argv: list[str], ctx: Context) -> int:
    return run_verbs(prog, argv, ctx, "Play containers, pods or volumes from a structured file", VERBS,
                     {"generate": generate, "play": play, "down": down}, hidden=("apply",))


# ---------------------------------------------------------------- generate
def generate(prog: str, argv: list[str], ctx: Context) -> int:
    def build(p: HullParser) -> None:
        p.add_argument("names", nargs="*", metavar="CONTAINER...|POD...")
        p.add_argument("-f", "--filename", metavar="string", help="Write output to the specified path")
        p.add_bool("-s", "--service", help="Generate YAML for a Kubernetes service object")
        p.add_argument("-t", "--type", default="pod", metavar="string",
                       help='Generate YAML for the given Kubernetes kind (pod or deployment) (default "pod")')
        p.add_argument("-r", "--replicas", default="1", metavar="int32",
                       help="Set the replica number for Deployment kind (default 1)")

    args = parse(ctx, prog, argv, build, VERBS["generate"],
                 ("hull kube generate ctrID", "hull kube generate podID", "hull kube generate --service podID",
                  "hull kube generate --type deployment --replicas 2 podID"),
                 usage=f"{prog} [options] {{CONTAINER...|POD...}}")
    from engine.errors import InvalidArgument
    from engine.services.kube_generate import GenerateOptions, generate_yaml

    try:
        replicas = int(args.replicas)
    except ValueError:
        raise InvalidArgument(f'invalid argument "{args.replicas}" for "-r, --replicas" flag: strconv.ParseInt: '
                              f'parsing "{args.replicas}": invalid syntax') from None
    if replicas != 1 and args.type != "deployment":
        raise InvalidArgument("--replicas can only be set when --type is deployment")
    text = generate_yaml(ctx.config(), args.names, GenerateOptions(service=args.service, type=args.type,
                                                                   replicas=replicas))
    if args.filename:
        _write_new(args.filename, text)
        return 0
    sys.stdout.write(text)
    return 0


def _write_new(path: str, text: str) -> None:
    from engine.errors import InvalidArgument

    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    except FileExistsError:
        raise InvalidArgument(f"cannot write to {path!r}; file exists") from None
    except OSError as exc:
        raise InvalidArgument(f"open {path}: {(exc.strerror or str(exc)).lower()}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


# ---------------------------------------------------------------- play / down
def _read_input(source: str) -> bytes:
    from engine.services.kube_yaml import MAX_BYTES

    return read_source(source, MAX_BYTES)


def play(prog: str, argv: list[str], ctx: Context) -> int:
    def build(p: HullParser) -> None:
        p.add_argument("file", metavar="KUBEFILE|-")
        p.add_bool("--build", default=None, help="Build all images in a YAML (given Containerfiles exist)")
        p.add_argument("--configmap", action="append", default=[], metavar="strings",
                       help="Pathname of a YAML file containing a kubernetes configmap")
        p.add_argument("--context-dir", metavar="string", help="Path to top level of context directory")
        p.add_bool("--down", help="Stop pods defined in the YAML file")
        p.add_argument("--log-driver", metavar="string", help="Logging driver for the container")
        p.add_argument("--log-opt", action="append", default=[], metavar="strings", help="Logging driver options")
        p.add_argument("--network", "--net", dest="network", action="append", default=[], metavar="strings",
                       help="Connect pod to network(s) or network mode")
        p.add_argument("--publish", action="append", default=[], metavar="strings",
                       help="Publish a container's port, or a range of ports, to the host")
        p.add_bool("--replace", help="Delete and recreate pods defined in the YAML file")
        p.add_bool("--start", default=True, help="Start the pod after creating it (default true)")
        p.add_bool("-q", "--quiet", help="Suppress output information when pulling images")

    args = parse(ctx, prog, argv, build, VERBS["play"], ("hull kube play nginx.yml",
                 "cat nginx.yml | hull kube play -"), usage=f"{prog} [options] KUBEFILE|-")
    data = _read_input(args.file)
    if args.down:
        return _down(ctx, data, args.file, force=False)
    from engine.services.kube_play import PlayOptions, play as play_service

    from engine.network.ports import parse_publish

    publish = [m for text in args.publish for m in parse_publish(text)]
    opts = PlayOptions(publish=publish, build=args.build, start=args.start, replace=args.replace, network=list(args.network),
                       configmaps=[_read_input(p) for p in args.configmap], configmap_names=list(args.configmap),
                       log_driver=args.log_driver or "", log_opts=_log_opts(args.log_opt),
                       context_dir=args.context_dir or os.getcwd(), source=args.file)

    def progress(line: str) -> None:
        if not args.quiet:
            sys.stderr.write(line + "\n")
            sys.stderr.flush()

    report = play_service(ctx.config(), data, opts, progress)
    sys.stdout.write(report.text())
    return 0


def _log_opts(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        k, _, v = item.partition("=")
        out[k] = v
    return out


def down(prog: str, argv: list[str], ctx: Context) -> int:
    def build(p: HullParser) -> None:
        p.add_argument("file", metavar="KUBEFILE|-")
        p.add_bool("--force", help="remove volumes")

    args = parse(ctx, prog, argv, build, VERBS["down"], ("hull kube down nginx.yml",
                 "cat nginx.yml | hull kube down -"), usage=f"{prog} [options] KUBEFILE|-")
    return _down(ctx, _read_input(args.file), args.file, force=args.force)


def _down(ctx: Context, data: bytes, source: str, force: bool) -> int:
    from engine.services.kube_play import down as down_service

    report = down_service(ctx.config(), data, source=source, force=force)
    sys.stdout.write(report.text())
    return 0
