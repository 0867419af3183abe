"""`hull info` / `hull system info`: host, store and registry information (YAML,
JSON, or a Go template over Podman's field names: {{.Host.Arch}}, {{.Store.GraphRoot}})."""

from __future__ import annotations

from typing import Any

from engine.cli.output import Printer, format_spec
from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Display hull system information"
REMOTE = True  # runs against a remote service too (engine/remote)
EXAMPLES = ("hull info", "hull info --format json", "hull info --format '{{.Store.GraphRoot}}'")


def build(p: HullParser) -> None:
    p.add_argument("-f", "--format", metavar="string", help="Change the output format to JSON or a Go template")
    p.add_bool("-D", "--debug", help="Display additional debug information")


# JSON keys whose Go field name is not the key capitalised (define.HostInfo, IDMap, SecurityInfo)
_GO_NAMES = {"os": "OS", "cpus": "CPUs", "cgroupVersion": "CgroupsVersion", "idMappings": "IDMappings",
             "ociRuntime": "OCIRuntime", "uidmap": "UIDMap", "gidmap": "GIDMap", "container_id": "ContainerID",
             "host_id": "HostID", "size": "Size", "cpuUtilization": "CPUUtilization",
             "slirp4netns": "Slirp4NetNS"}


def go_fields(obj: Any) -> Any:
    """camelCase JSON keys -> Go field names (memTotal -> MemTotal, os -> OS) for templates."""
    if isinstance(obj, dict):
        return {_GO_NAMES.get(k) or (k[:1].upper() + k[1:] if k[:1].isalpha() else k): go_fields(v)
                for k, v in obj.items()}
    if isinstance(obj, list):
        return [go_fields(v) for v in obj]
    return obj


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options]")
    doc = ctx.service("system").info(ctx.config())
    out = Printer()
    spec = format_spec(args.format)
    if spec is None:
        import yaml

        out.out.write(yaml.safe_dump(doc, sort_keys=True, default_flow_style=False))
    elif spec.kind == "json":
        out.json(doc)
    else:
        out.formatted(spec, [go_fields(doc)])
    return 0
