"""`hull pod ...`: create, ps, inspect, the lifecycle verbs, rm, prune, top, stats, logs,
exists, clone.  Listing lives in pod_ps.py, top/stats/logs in pod_top.py."""

from __future__ import annotations

import os
import sys

from engine.cli.parser import Context, HullParser, parse
from engine.cli.resource_cmds import confirm_prune, print_names, print_removal, run_exists

TYPE_CHECKING = False  # typing costs milliseconds on every pod command
if TYPE_CHECKING:
    from typing import Any

VERBS = {
    "clone": "Clone an existing pod",
    "create": "Create a new empty pod",
    "exists": "Check if a pod exists in local storage",
    "inspect": "Display a pod configuration",
    "kill": "Send the specified signal or SIGKILL to containers in pod",
    "logs": "Fetch logs for pod with one or more containers",
    "pause": "Pause one or more pods",
    "prune": "Remove all stopped pods and their containers",
    "ps": "List pods",
    "restart": "Restart one or more pods",
    "rm": "Remove one or more pods",
    "start": "Start one or more pods",
    "stats": "Display a live stream of resource usage statistics for the containers in one or more pods",
    "stop": "Stop one or more pods",
    "top": "Display the running processes of containers in a pod",
    "unpause": "Unpause one or more pods",
}
ALIASES = {"ls": "ps", "list": "ps", "remove": "rm"}
# The verbs that run against a remote service too (engine/remote).
REMOTE = ("list", "ls", "ps")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    from engine.errors import InvalidArgument

    if not argv:
        raise InvalidArgument(f"missing command '{prog} COMMAND'")
    verb, rest = argv[0], argv[1:]
    if verb in ("-h", "--help", "help"):
        width = max(len(v) for v in VERBS) + 1
        lines = ["Manage pods", "", "Usage:", f"  {prog} [command]", "", "Available Commands:"]
        lines += [f"  {v.ljust(width)} {h}" for v, h in sorted(VERBS.items())]
        sys.stdout.write("\n".join(lines) + "\n")
        return 0
    verb = ALIASES.get(verb, verb)
    if verb == "ps":
        from engine.cli import pod_ps

        return pod_ps.main(f"{prog} {argv[0]}", rest, ctx)
    if verb in ("top", "stats", "logs"):
        from engine.cli import pod_top

        return getattr(pod_top, verb)(f"{prog} {verb}", rest, ctx)
    handler = {"create": _create, "exists": _exists, "inspect": _inspect, "rm": _rm, "prune": _prune,
               "clone": _clone, "start": _lifecycle, "stop": _lifecycle, "restart": _lifecycle,
               "kill": _lifecycle, "pause": _lifecycle, "unpause": _lifecycle}.get(verb)
    if handler is None:
        raise InvalidArgument(f"unrecognized command `{prog} {verb}`")
    if handler is _lifecycle:
        return _lifecycle(f"{prog} {verb}", verb, rest, ctx)
    return handler(f"{prog} {verb}", rest, ctx)


# ---------------------------------------------------------------- create / clone
def _create_flags(p: HullParser, clone: bool = False) -> None:
    lst: dict[str, Any] = {"action": "append", "default": [], "metavar": "stringArray"}
    p.add_argument("--add-host", action="append", default=[], metavar="strings",
                   help="Add a custom host-to-IP mapping (host:ip)")
    p.add_argument("--cgroup-parent", metavar="string", help="Set parent cgroup for the pod")
    p.add_argument("--dns", action="append", default=[], metavar="strings", help="Set custom DNS servers")
    p.add_argument("--dns-option", action="append", default=[], metavar="strings", help="Set custom DNS options")
    p.add_argument("--dns-search", action="append", default=[], metavar="strings",
                   help="Set custom DNS search domains")
    p.add_argument("--exit-policy", default="continue", metavar="string",
                   help='Behaviour when the last container exits (default "continue")')
    p.add_argument("--hostname", metavar="string", help="Set container hostname")
    p.add_bool("--infra", default=True, help="Create an infra container associated with the pod to share "
               "namespaces with (default true)")
    p.add_argument("--infra-command", metavar="string", help="The command to run on the infra container when "
                   "the pod is started")
    p.add_argument("--infra-image", metavar="string", help="Image to use to override the builtin infra container")
    if not clone:
        p.add_argument("--infra-conmon-pidfile", metavar="string",
                       help="Path to the file that will receive the POD of the infra container's conmon")
    p.add_argument("--infra-name", metavar="string", help="Assign a name to the container")
    p.add_argument("-l", "--label", **lst, help="Set metadata on pod (default [])")
    p.add_argument("--label-file", **lst, help="Read in a line delimited file of labels")
    p.add_argument("--network", "--net", dest="network", action="append", default=[], metavar="stringArray",
                   help="Connect a container to a network")
    p.add_bool("--no-hosts", help="Do not create /etc/hosts within the pod's containers")
    p.add_argument("-p", "--publish", action="append", default=[], metavar="strings",
                   help="Publish a container's port, or a range of ports, to the host (default [])")
    p.add_argument("--share", metavar="string", help='A comma delimited list of kernel namespaces the pod will '
                   'share (default "ipc,net,uts")')
    p.add_bool("--share-parent", default=True, help="Set the pod's cgroup as the cgroup parent for all "
               "containers joining the pod (default true)")
    if clone:
        p.add_argument("pod", metavar="POD")
        p.add_argument("newname", nargs="?", metavar="NAME")
        p.add_argument("-n", "--name", metavar="string", help="name the new pod")
        p.add_bool("--destroy", help="destroy the original pod")
        p.add_bool("--start", help="start the new pod")
    else:
        p.add_argument("pos_name", nargs="?", metavar="NAME")
        p.add_argument("-n", "--name", metavar="string", help="Assign a name to the pod")
        p.add_argument("--pod-id-file", metavar="string", help="Write the pod ID to the file")
        p.add_bool("--replace", help="If a pod with the same name exists, replace it")


def parse_network(values: list[str]) -> tuple[str, str, dict]:
    """--network for a pod's infra: engine/spec/parse.py's reading; container:X is refused
    (a pod cannot join another container's network, as Podman)."""
    from engine.errors import InvalidArgument
    from engine.spec.parse import parse_network as parse

    mode, arg, networks = parse(values)
    if mode == "container":
        raise InvalidArgument("pods presently do not support network mode container")
    return mode, arg, networks


def create_options(args: Any, argv: list[str]) -> Any:
    from engine.cli.run_flags import parse_entrypoint, read_label_files
    from engine.errors import InvalidArgument
    from engine.services.pod_create import PodCreateOptions, parse_share
    from engine.spec.parse import parse_key_values

    publish = []
    if args.publish:
        from engine.network.ports import parse_publish

        for text in args.publish:
            publish += parse_publish(text)
    if args.exit_policy not in ("continue", "stop"):
        raise InvalidArgument(f'invalid pod exit policy: "{args.exit_policy}"')
    network, network_arg, networks = parse_network(list(args.network))
    return PodCreateOptions(
        name=getattr(args, "name", None) or "",
        infra=args.infra,
        infra_image=args.infra_image or "",
        infra_command=parse_entrypoint(args.infra_command) or [] if args.infra_command else [],
        infra_name=args.infra_name or "",
        share=None if args.share is None else parse_share(args.share),
        share_parent=args.share_parent,
        hostname=args.hostname or "",
        labels=parse_key_values(read_label_files(args.label_file) + list(args.label), "--label"),
        exit_policy=args.exit_policy,
        cgroup_parent=args.cgroup_parent or "",
        network=network, network_arg=network_arg, networks=networks,
        publish=publish,
        dns=[d for v in args.dns for d in v.split(",") if d],
        dns_search=[d for v in args.dns_search for d in v.split(",") if d],
        dns_options=list(args.dns_option),
        add_hosts=[h for v in args.add_host for h in v.split(",") if h],
        no_hosts=args.no_hosts,
        create_command=["hull", "pod", "create", *argv],
        infra_conmon_pidfile=os.path.abspath(args.infra_conmon_pidfile)
        if getattr(args, "infra_conmon_pidfile", None) else "",
    )


def _create(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, _create_flags, VERBS["create"],
                 ("hull pod create", "hull pod create --label foo=bar mypod",
                  "hull pod create --publish 8443:443"), usage=f"{prog} [options] [NAME]")
    from engine.errors import InvalidArgument
    from engine.services import pod_create as svc

    if args.pos_name and args.name:
        raise InvalidArgument("cannot specify --name and NAME at the same time")
    opts = create_options(args, argv)
    opts.name = args.pos_name or args.name or ""
    opts.replace = args.replace
    opts.pod_id_file = args.pod_id_file or ""
    pod = svc.create(ctx.config(), opts)
    print(pod.id)
    return 0


def _clone(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, lambda p: _create_flags(p, clone=True), VERBS["clone"],
                 ("hull pod clone pod-name", "hull pod clone --name=new pod-name"),
                 usage=f"{prog} [options] POD NAME")
    from engine.services import pods as svc

    pod = svc.clone(ctx.config(), args.pod, name=args.newname or args.name, destroy=args.destroy,
                    start_it=args.start)
    print(pod.id)
    return 0


# ---------------------------------------------------------------- exists / inspect
def _exists(prog: str, argv: list[str], ctx: Context) -> int:
    from engine.services import pods as svc

    return run_exists(prog, argv, ctx, "POD", VERBS["exists"], "hull pod exists podID",
                      lambda name: svc.exists(ctx.config(), name))


def _inspect(prog: str, argv: list[str], ctx: Context) -> int:
    def build(p: HullParser) -> None:
        p.add_argument("names", nargs="*", metavar="POD")
        p.add_argument("-f", "--format", default="json", metavar="string",
                       help="Format the output to a Go template or json")
        p.add_bool("-l", "--latest", help="Act on the latest pod hull is aware of")

    args = parse(ctx, prog, argv, build, VERBS["inspect"], ("hull pod inspect podID",),
                 usage=f"{prog} [options] POD [POD...]")
    from engine.cli.image_inspect import print_documents
    from engine.errors import InvalidArgument
    from engine.services import pod_inspect as svc

    cfg = ctx.config()
    names = list(args.names)
    if args.latest:
        from engine.services.common import open_store

        pods = open_store(cfg).pods.list()
        if not pods:
            raise InvalidArgument("no pods to inspect: no such pod")
        names = [pods[0].id]
    elif not names:
        raise InvalidArgument("you must provide at least one name or id")
    return print_documents(names, args.format, lambda n: svc.inspect(cfg, [n])[0], lambda n, e: f"no such pod {n}")


# ---------------------------------------------------------------- start/stop/restart/kill/pause/unpause
EXAMPLES = {
    "start": ("hull pod start podID", "hull pod start --all"),
    "stop": ("hull pod stop mywebserverpod", "hull pod stop --time 0 490eb 3557fb"),
    "restart": ("hull pod restart podID1 podID2", "hull pod restart --all"),
    "kill": ("hull pod kill podID", "hull pod kill --signal TERM mywebserver"),
    "pause": ("hull pod pause podID1 podID2", "hull pod pause --all"),
    "unpause": ("hull pod unpause podID1 podID2", "hull pod unpause --all"),
}


def _lifecycle(prog: str, verb: str, argv: list[str], ctx: Context) -> int:
    def build(p: HullParser) -> None:
        p.add_argument("names", nargs="*", metavar="POD")
        p.add_bool("-a", "--all", help=f"{verb.capitalize()} all pods")
        p.add_bool("-l", "--latest", help="Act on the latest pod hull is aware of")
        if verb in ("start", "stop"):
            p.add_argument("--pod-id-file", action="append", default=[], metavar="stringArray",
                           help="Read the pod ID from the file")
        if verb == "stop":
            p.add_bool("-i", "--ignore", help="Ignore errors when a specified pod is missing")
            p.add_argument("-t", "--time", type=int, default=None, metavar="int",
                           help="Seconds to wait for pod stop before killing the container (default 10)")
        if verb == "kill":
            p.add_argument("-s", "--signal", default="KILL", metavar="string",
                           help='Signal to send to the containers in the pod (default "KILL")')

    args = parse(ctx, prog, argv, build, VERBS[verb], EXAMPLES[verb], usage=f"{prog} [options] POD [POD...]")
    from engine.errors import InvalidArgument
    from engine.services import pods as svc

    names = list(args.names) + _read_id_files(getattr(args, "pod_id_file", []))
    if args.all and (names or args.latest):
        raise InvalidArgument("--all, --latest and pods cannot be used together")
    cfg = ctx.config()
    kw: dict[str, Any] = {"all": args.all, "latest": args.latest}
    if verb == "stop":
        done = svc.stop(cfg, names, timeout=args.time, ignore=args.ignore, **kw)
    elif verb == "kill":
        done = svc.kill(cfg, names, signal=args.signal, **kw)
    else:
        done = getattr(svc, verb)(cfg, names, **kw)
    return print_names(pod.id for pod in done)


def _read_id_files(paths: list[str]) -> list[str]:
    from engine.errors import InvalidArgument

    out = []
    for path in paths:
        try:
            with open(path) as f:
                out.append(f.read().strip())
        except OSError as exc:
            raise InvalidArgument(f"reading pod ID file: {(exc.strerror or str(exc)).lower()}") from None
    return out


# ---------------------------------------------------------------- rm / prune
def _rm(prog: str, argv: list[str], ctx: Context) -> int:
    def build(p: HullParser) -> None:
        p.add_argument("names", nargs="*", metavar="POD")
        p.add_bool("-a", "--all", help="Remove all running pods")
        p.add_bool("-f", "--force", help="Force removal of a running pod by first stopping all containers, "
                   "then removing all containers in the pod.  The default is false")
        p.add_bool("-i", "--ignore", help="Ignore errors when a specified pod is missing")
        p.add_bool("-l", "--latest", help="Act on the latest pod hull is aware of")
        p.add_argument("--pod-id-file", action="append", default=[], metavar="stringArray",
                       help="Read the pod ID from the file")
        p.add_argument("-t", "--time", type=int, default=None, metavar="int",
                       help="Seconds to wait for pod stop before killing the container (default 10)")

    args = parse(ctx, prog, argv, build, VERBS["rm"], ("hull pod rm mywebserverpod",
                 "hull pod rm -f 860a4b23", "hull pod rm -f -a"), usage=f"{prog} [options] POD [POD...]")
    from engine.errors import InvalidArgument
    from engine.services import pods as svc

    cfg = ctx.config()
    names = list(args.names) + _read_id_files(args.pod_id_file)
    if args.latest:
        from engine.services.common import open_store

        pods = open_store(cfg).pods.list()
        names += [pods[0].id] if pods else []
    if not names and not args.all:
        raise InvalidArgument("you must provide at least one name or id")
    return print_removal(svc.remove(cfg, names, force=args.force, all=args.all, ignore=args.ignore,
                                    timeout=args.time))


def _prune(prog: str, argv: list[str], ctx: Context) -> int:
    def build(p: HullParser) -> None:
        p.add_bool("-f", "--force", help="Do not prompt for confirmation.  The default is false")

    args = parse(ctx, prog, argv, build, VERBS["prune"], ("hull pod prune",), usage=f"{prog} [options]")
    from engine.services import pods as svc

    if not confirm_prune(args.force, "WARNING! This will remove all stopped/exited pods..\n"):
        return 0
    return print_names(svc.prune(ctx.config()))
