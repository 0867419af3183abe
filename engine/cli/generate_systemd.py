"""`hull generate systemd [options] {CONTAINER|POD}`: units as Podman 4.3 writes them
(engine/services/generate_systemd.py)."""

from __future__ import annotations

import json
import os
import sys

from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Generate systemd units"
EXAMPLES = ("hull generate systemd CTR", "hull generate systemd --new --time 10 CTR",
            "hull generate systemd --files --name POD")


def build(p: HullParser) -> None:
    p.add_argument("target", metavar="CONTAINER|POD")
    p.add_argument("--after", action="append", default=[], metavar="stringArray",
                   help="Add dependencies order to the generated unit file")
    p.add_argument("--container-prefix", default="container", metavar="string",
                   help='Systemd unit name prefix for containers (default "container")')
    p.add_argument("-e", "--env", action="append", default=[], metavar="stringArray",
                   help="Set environment variables to the systemd unit files")
    p.add_bool("-f", "--files", help="Generate .service files instead of printing to stdout")
    p.add_argument("--format", default="", metavar="string", help="Print the created units in specified "
                   "format (json)")
    p.add_bool("-n", "--name", help="Use container/pod names instead of IDs")
    p.add_bool("--new", help="Create a new container or pod instead of starting an existing one")
    p.add_bool("--no-header", help="Skip header generation")
    p.add_argument("--pod-prefix", default="pod", metavar="string",
                   help='Systemd unit name prefix for pods (default "pod")')
    p.add_argument("--requires", action="append", default=[], metavar="stringArray",
                   help="Similar to wants, but declares stronger requirement dependencies")
    p.add_argument("--restart-policy", default="on-failure", metavar="string",
                   help='Systemd restart-policy (default "on-failure")')
    p.add_argument("--restart-sec", type=int, default=0, metavar="uint",
                   help="Configures the time to sleep before restarting a service (default 0)")
    p.add_argument("--separator", default="-", metavar="string",
                   help='Systemd unit name separator between name/id and prefix (default "-")')
    p.add_argument("--start-timeout", type=int, default=0, metavar="uint",
                   help="Start timeout override (default 0)")
    p.add_argument("-t", "--time", "--stop-timeout", dest="stop_timeout", type=int, default=None,
                   metavar="uint", help="Stop timeout override (default 10)")
    p.add_bool("--template", help="Make it a template file and use %%i and %%I specifiers. Working only "
               "for containers")
    p.add_argument("--wants", action="append", default=[], metavar="stringArray",
                   help="Add (weak) requirement dependencies to the generated unit file")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options] {{CONTAINER|POD}}")
    from engine.errors import InvalidArgument
    from engine.services.generate_systemd import GenerateOptions, generate

    if args.format not in ("", "json"):
        raise InvalidArgument(f"unsupported format {args.format!r}: only json is supported")
    opts = GenerateOptions(new=args.new, use_name=args.name, restart_policy=args.restart_policy,
                           restart_sec=args.restart_sec, stop_timeout=args.stop_timeout,
                           start_timeout=args.start_timeout, container_prefix=args.container_prefix,
                           pod_prefix=args.pod_prefix, separator=args.separator, wants=args.wants,
                           after=args.after, requires=args.requires, template=args.template,
                           no_header=args.no_header, env=args.env)
    units = generate(ctx.config(), args.target, opts)
    if args.files:
        paths = {}
        for name, text in units.items():
            path = os.path.join(os.getcwd(), f"{name}.service")
            with open(path, "w") as fh:
                fh.write(text)
            paths[name] = path
        if args.format == "json":
            sys.stdout.write(json.dumps(paths, indent=1) + "\n")
        else:
            sys.stdout.write("".join(p + "\n" for p in paths.values()))
        return 0
    if args.format == "json":
        sys.stdout.write(json.dumps(units, indent=1) + "\n")
    else:
        sys.stdout.write("".join(units.values()))
    return 0
