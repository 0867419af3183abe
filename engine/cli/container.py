"""`hull container <command>`: the container command group."""

from __future__ import annotations

from engine.cli.parser import Context, run_group

# The verbs that run against a remote service too (engine/remote).
REMOTE = ("exec", "inspect", "list", "logs", "ls", "ps", "rm", "run", "start", "stop")

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "attach": ("engine.cli.attach", "Attach to a running container"),
    "clone": ("engine.cli.container_clone", "Clone an existing container"),
    "commit": ("engine.cli.commit", "Create new image based on the changed container"),
    "cp": ("engine.cli.cp", "Copy files/folders between a container and the local filesystem"),
    "create": ("engine.cli.container_create", "Create but do not start a container"),
    "diff": ("engine.cli.diff", "Inspect changes to the container's file systems"),
    "exec": ("engine.cli.exec", "Run a process in a running container"),
    "exists": ("engine.cli.container_exists", "Check if a container exists in local storage"),
    "export": ("engine.cli.export", "Export a container's filesystem contents as a tar archive"),
    "init": ("engine.cli.init", "Initialize one or more containers"),
    "inspect": ("engine.cli.container_inspect", "Display the configuration of a container"),
    "kill": ("engine.cli.kill", "Kill one or more running containers with a specific signal"),
    "list": ("engine.cli.ps", "List containers"),
    "logs": ("engine.cli.logs", "Fetch the logs of one or more containers"),
    "ls": ("engine.cli.ps", "List containers"),
    "mount": ("engine.cli.container_mount", "Mount a working container's root filesystem"),
    "pause": ("engine.cli.pause", "Pause all the processes in one or more containers"),
    "port": ("engine.cli.port", "List port mappings or a specific mapping for the container"),
    "prune": ("engine.cli.container_prune", "Remove all non running containers"),
    "ps": ("engine.cli.ps", "List containers"),
    "rename": ("engine.cli.rename", "Rename an existing container"),
    "restart": ("engine.cli.restart", "Restart one or more containers"),
    "rm": ("engine.cli.rm", "Remove one or more containers"),
    "run": ("engine.cli.container_run", "Run a command in a new container"),
    "start": ("engine.cli.start", "Start one or more containers"),
    "stats": ("engine.cli.stats", "Display a live stream of container resource usage statistics"),
    "stop": ("engine.cli.stop", "Stop one or more containers"),
    "top": ("engine.cli.top", "Display the running processes of a container"),
    "unmount": ("engine.cli.container_mount", "Unmount working container's root filesystem"),
    "umount": ("engine.cli.container_mount", "Unmount working container's root filesystem"),
    "unpause": ("engine.cli.pause", "Unpause the processes in one or more containers"),
    "update": ("engine.cli.update", "Update an existing container"),
    "wait": ("engine.cli.wait", "Block on one or more containers"),
}


def main(prog: str, argv: list[str], ctx: Context) -> int:
    return run_group(SUBCOMMANDS, prog, argv, ctx, "Manage containers")
