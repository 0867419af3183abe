"""`hull` entry point: global flags, lazy command dispatch, errors -> exit codes.

Start-up time is a benchmark target (`hull images` against `podman images`), so
this module imports only engine.errors; argparse (engine.cli.parser) comes after
`run`/`start` have spawned their container's monitor (engine/cli/early.py), and each
command's module is imported when that command runs.  Every HullError becomes `Error: <one line>`
on stderr with its exit code (125 by default), as Podman does.
"""

from __future__ import annotations

import sys
TYPE_CHECKING = False  # typing costs milliseconds to import: annotations only
if TYPE_CHECKING:
    from typing import Sequence

    from engine.cli.parser import Context

from engine.errors import HullError, InvalidArgument

VERSION = "0.1.0"
PODMAN_LEVEL = "5.0.0"  # the Podman CLI/libpod API level Hull follows (engine/api/http.py)

# name -> (module, one-line help).  Groups (image, system) dispatch further.
COMMANDS: dict[str, tuple[str, str]] = {
    "attach": ("engine.cli.attach", "Attach to a running container"),
    "auto-update": ("engine.cli.auto_update", "Auto update containers according to their auto-update policy"),
    "build": ("engine.cli.build", "Build an image using instructions from Containerfiles"),
    "buildx": ("engine.cli.buildx", "Build images (alias of build)"),
    "commit": ("engine.cli.commit", "Create new image based on the changed container"),
    "compose": ("engine.cli.compose", "Run compose workloads via an external provider such as docker-compose or podman-compose"),
    "container": ("engine.cli.container", "Manage containers"),
    "cp": ("engine.cli.cp", "Copy files/folders between a container and the local filesystem"),
    "create": ("engine.cli.container_create", "Create but do not start a container"),
    "diff": ("engine.cli.diff", "Display the changes to the object's file system"),
    "events": ("engine.cli.events", "Show hull events"),
    "exec": ("engine.cli.exec", "Run a process in a running container"),
    "export": ("engine.cli.export", "Export container's filesystem contents as a tar archive"),
    "generate": ("engine.cli.generate", "Generate structured data based on containers, pods or volumes"),
    "healthcheck": ("engine.cli.healthcheck", "Manage health checks on containers"),
    "history": ("engine.cli.history", "Show history of a specified image"),
    "image": ("engine.cli.image", "Manage images"),
    "images": ("engine.cli.images", "List images in local storage"),
    "import": ("engine.cli.import_", "Import a tarball to create a filesystem image"),
    "info": ("engine.cli.info", "Display hull system information"),
    "init": ("engine.cli.init", "Initialize one or more containers"),
    "inspect": ("engine.cli.inspect", "Display the configuration of object denoted by ID"),
    "kill": ("engine.cli.kill", "Kill one or more running containers with a specific signal"),
    "kube": ("engine.cli.kube", "Play containers, pods or volumes from a structured file"),
    "load": ("engine.cli.load", "Load image(s) from a tar archive"),
    "login": ("engine.cli.login", "Log in to a container registry"),
    "logout": ("engine.cli.logout", "Log out of a container registry"),
    "logs": ("engine.cli.logs", "Fetch the logs of one or more containers"),
    "manifest": ("engine.cli.manifest", "Manipulate manifest lists"),
    "mount": ("engine.cli.container_mount", "Mount a working container's root filesystem"),
    "network": ("engine.cli.network", "Manage networks"),
    "pause": ("engine.cli.pause", "Pause all the processes in one or more containers"),
    "pod": ("engine.cli.pod", "Manage pods"),
    "port": ("engine.cli.port", "List port mappings or a specific mapping for the container"),
    "ps": ("engine.cli.ps", "List containers"),
    "quadlet": ("engine.cli.quadlet", "Allows users to manage Quadlets"),
    "pull": ("engine.cli.pull", "Pull an image from a registry"),
    "push": ("engine.cli.push", "Push an image to a specified destination"),
    "rename": ("engine.cli.rename", "Rename an existing container"),
    "restart": ("engine.cli.restart", "Restart one or more containers"),
    "rm": ("engine.cli.rm", "Remove one or more containers"),
    "rmi": ("engine.cli.rmi", "Removes one or more images from local storage"),
    "run": ("engine.cli.container_run", "Run a command in a new container"),
    "save": ("engine.cli.save", "Save image(s) to an archive"),
    "secret": ("engine.cli.secret", "Manage secrets"),
    "start": ("engine.cli.start", "Start one or more containers"),
    "stats": ("engine.cli.stats", "Display a live stream of container resource usage statistics"),
    "stop": ("engine.cli.stop", "Stop one or more containers"),
    "system": ("engine.cli.system", "Manage hull"),
    "tag": ("engine.cli.tag", "Add an additional name to a local image"),
    "top": ("engine.cli.top", "Display the running processes of a container"),
    "unmount": ("engine.cli.container_mount", "Unmount working container's root filesystem"),
    "umount": ("engine.cli.container_mount", "Unmount working container's root filesystem"),
    "unpause": ("engine.cli.pause", "Unpause the processes in one or more containers"),
    "unshare": ("engine.cli.unshare", "Run a command in a modified user namespace"),
    "untag": ("engine.cli.untag", "Remove a name from a local image"),
    "update": ("engine.cli.update", "Update an existing container"),
    "version": ("engine.cli.version", "Display the hull version information"),
    "volume": ("engine.cli.volume", "Manage volumes"),
    "wait": ("engine.cli.wait", "Block on one or more containers"),
}

_GLOBAL_HELP = """\
Options:
      --connection string         Connection to use for remote Hull service
      --identity string           path to SSH identity file, (CONTAINER_SSHKEY)
      --log-level string          Log messages above specified level (trace, debug, info, warn, error, fatal, panic) (default "warn")
      --registries-conf string    Path to the registries.conf file
      --root string               Path to the root directory in which data, including images, is stored
      --runroot string            Path to the 'run directory' where all state information is stored
      --runtime string            Path to the OCI-compatible binary used to run containers (crun, runc; default: built-in)
      --url string                URL to access Hull service (CONTAINER_HOST): unix://PATH, ssh://USER@HOST[:PORT]/PATH, tcp://HOST:PORT
  -r, --remote                    Access remote Hull service
  -h, --help                      help for hull
  -v, --version                   version for hull
"""


def _usage_text() -> str:
    width = max(len(n) for n in COMMANDS) + 1
    lines = ["Manage pods, containers and images", "", "Usage:", "  hull [options] [command]", "",
             "Available Commands:"]
    lines += [f"  {name.ljust(width)} {help_}" for name, (_, help_) in sorted(COMMANDS.items())]
    return "\n".join(lines) + "\n\n" + _GLOBAL_HELP


def split_global(argv: Sequence[str], ctx: Context) -> list[str]:
    """Consume global flags that precede the command; return the rest."""
    from engine.cli.parser import GLOBAL_VALUE_FLAGS

    args = list(argv)
    while args and args[0].startswith("-") and args[0] != "-":
        flag, eq, value = args[0].partition("=")
        if flag in ("-h", "--help"):
            sys.stdout.write(_usage_text())
            raise SystemExit(0)
        if flag in ("-v", "--version"):
            # The Podman level last: tools such as podman-compose read the last word as the
            # Podman version to decide which features (wait --condition=healthy) exist.
            sys.stdout.write(f"hull version {VERSION}, podman {PODMAN_LEVEL}\n")
            raise SystemExit(0)
        if flag in ("-r", "--remote"):  # a bool flag: --remote, --remote=false
            ctx.remote_flag = value.lower() not in ("false", "0", "f") if eq else True
            args.pop(0)
            continue
        if flag not in GLOBAL_VALUE_FLAGS:
            raise InvalidArgument(f"unknown flag: {flag}")
        if not eq:
            if len(args) < 2:
                raise InvalidArgument(f"flag needs an argument: {flag}")
            value = args[1]
            args.pop(0)
        args.pop(0)
        ctx.set_global(flag, value)
    return args


def run_command(table: dict[str, tuple[str, str]], prog: str, args: list[str], ctx: Context) -> int:
    """Look `args[0]` up in `table`, build its parser, parse, run."""
    import importlib

    if not args:
        raise InvalidArgument(f"missing command '{prog} COMMAND'")
    name, rest = args[0], args[1:]
    if name == "help":
        sys.stdout.write(_usage_text())
        return 0
    entry = table.get(name)
    if entry is None:
        raise InvalidArgument(f"unrecognized command `{prog} {name}`")
    module = importlib.import_module(entry[0])
    _check_remote(ctx, module, f"{prog} {name}", rest)
    return int(module.main(f"{prog} {name}", rest, ctx) or 0)


def _check_remote(ctx: Context, module: object, prog: str, rest: list[str]) -> None:
    """Remote use (--url, --connection, CONTAINER_HOST): only commands whose module says
    REMOTE = True (or lists the verbs that work remotely) run; the rest fail cleanly, here
    or (a --url given after the command) when they ask ctx.config()."""
    allowed = getattr(module, "REMOTE", None)
    verb = rest[0] if rest else ""
    if allowed is True or (allowed and (verb in allowed or verb in ("", "-h", "--help", "help"))):
        ctx.remote_refused = None
        return
    ctx.remote_refused = f"`{prog} {verb}`" if allowed and verb else f"`{prog}`"
    if ctx.remote:
        raise InvalidArgument(f"{ctx.remote_refused} is not supported with a remote connection "
                              "(--url, --connection, CONTAINER_HOST)")


def _report(err: BaseException) -> None:
    # One line only (no "See --help" hint): scripts and our tests read exactly one.
    sys.stdout.flush()
    sys.stderr.write(f"Error: {err}\n")


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None:  # a real invocation (not a test calling in): run/start spawn their monitor now
        from engine.cli.early import prespawn_from_argv

        prespawn_from_argv(sys.argv[1:])
    from engine.cli.parser import Context

    ctx = Context()
    try:
        args = split_global(sys.argv[1:] if argv is None else argv, ctx)
        if not args:  # Podman prints its help, then the error
            sys.stdout.write(_usage_text())
            sys.stdout.flush()
            raise InvalidArgument("missing command 'hull COMMAND'")
        return run_command(COMMANDS, "hull", args, ctx)
    except HullError as err:
        _report(err)
        return err.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        return 130
    except BrokenPipeError:
        _silence_stdout()
        return 0
    except SystemExit as exc:  # argparse --help and friends
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 125)
    except Exception as err:  # a bug: one line, the traceback only when debugging
        if ctx.log_level in ("debug", "trace"):
            import traceback

            traceback.print_exc()
        sys.stderr.write(f"Error: {type(err).__name__}: {err}\n".replace("\n", " ").rstrip() + "\n")
        return 125
    finally:
        prestart = sys.modules.get("engine.network.prestart")
        if prestart is not None:  # a pasta early.py started that no container took (the launcher os._exit()s)
            prestart.discard_all()


def _silence_stdout() -> None:
    """After EPIPE, point stdout at /dev/null so the interpreter's flush is quiet."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass


def __getattr__(name: str) -> object:
    """LOG_LEVELS and HullParser, as this module exported them, without importing argparse first."""
    if name in ("LOG_LEVELS", "HullParser"):
        from engine.cli import parser

        return getattr(parser, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["main", "COMMANDS", "LOG_LEVELS", "HullParser", "run_command"]
