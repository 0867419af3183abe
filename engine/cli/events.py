"""`hull events` / `hull system events`: show (and follow) engine events."""

from __future__ import annotations

import sys

from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Show hull events"
EXAMPLES = ("hull events", "hull events --filter event=create", "hull events --since 1h --stream=false",
            "hull events --format '{{.Status}} {{.Name}}'")


def build(p: HullParser) -> None:
    p.add_argument("-f", "--filter", action="append", default=[], metavar="stringArray",
                   help="filter output")
    p.add_argument("--format", metavar="string", help="format the output using a Go template or json")
    p.add_bool("--no-trunc", dest="no_trunc", default=True, help="do not truncate the output (default true)")
    p.add_argument("--since", metavar="string", help="show all events created since timestamp")
    p.add_bool("--stream", default=True, help="stream events and do not exit when returning the last known "
               "event (default true)")
    p.add_argument("--until", metavar="string", help="show all events created until timestamp")


def human(event, no_trunc: bool = True) -> str:
    """Podman's default line: `TIME TYPE STATUS ID (image=..., name=..., label=...)`."""
    from engine.cli.humanize import go_time

    when = go_time(event.time)
    ident = event.id if no_trunc else event.id[:12]
    if event.type in ("container", "pod"):
        text = f"{when} {event.type} {event.action} {ident} (image={event.image}, name={event.name}"
        for key, value in sorted(event.attributes.items()):
            text += f", {key}={value}"
        if event.exit_code is not None and event.action == "died":
            text += f", container_exit_code={event.exit_code}"
        return text + ")"
    if event.type == "image":
        return f"{when} {event.type} {event.action} {ident} {event.name}"
    if event.type == "system":
        return f"{when} {event.type} {event.action}"
    return f"{when} {event.type} {event.action} {event.name or ident}"


def template_data(event) -> dict:
    doc = event.podman()
    doc.update({"Status": event.action, "Action": event.action, "Time": doc["Time"], "TimeNano": event.time_ns,
                "Attributes": event.attributes, "Actor": {"ID": event.id, "Attributes": event.attributes}})
    return doc


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options]")
    from engine.cli.ctr_common import parse_time_arg
    from engine.cli.output import Printer, format_spec
    from engine.services import events as svc

    filters = svc.parse_filters(args.filter)
    # libpod's events filter words a bad time its own way
    since = parse_time_arg(args.since, "--since", context=f"unable to convert since time of {args.since}") \
        if args.since else None
    until = parse_time_arg(args.until, "--until", context=f"unable to convert until time of {args.until}") \
        if args.until else None
    spec = format_spec(args.format)
    follow = args.stream and until is None
    if follow and since is None:  # Podman's file backend tails from the end: only events from now on
        import time

        since = time.time()
    out = sys.stdout
    printer = Printer()
    stream = svc.read_events(ctx.config(), since=since, until=until, filters=filters, follow=follow)
    try:
        for event in stream:
            if spec is None:
                out.write(human(event, args.no_trunc) + "\n")
            elif spec.kind == "json":
                import json

                out.write(json.dumps(event.podman(), separators=(",", ":")) + "\n")
            else:
                printer.formatted(spec, [template_data(event)], noheading=True)
            out.flush()
    except KeyboardInterrupt:
        return 0
    finally:
        stream.close()
    return 0
