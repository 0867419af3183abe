"""`hull compose ...`: run an external compose provider against Hull, as `podman compose`.

The provider is HULL_COMPOSE_PROVIDER or PODMAN_COMPOSE_PROVIDER (a name on $PATH or a
path), else docker-compose, else podman-compose.  It talks to Hull's socket
({runroot}/hull.sock) through DOCKER_HOST; when no service listens there, a temporary
`hull system service` is started on a private socket and stopped when the provider exits.
podman-compose drives the CLI instead: it gets `--podman-path` = this hull, and the
store's --root/--runroot travel as HULL_ROOT/HULL_RUNROOT.  The provider's exit code is
hull's.  Every argument goes to the provider unchanged.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from engine.cli.parser import Context
from engine.errors import HullError

DESCRIPTION = "Run compose workloads via an external provider such as docker-compose or podman-compose"
PROVIDERS = ("docker-compose", "podman-compose")
START_TIMEOUT = 30.0


def find_provider() -> str:
    wanted = os.environ.get("HULL_COMPOSE_PROVIDER") or os.environ.get("PODMAN_COMPOSE_PROVIDER")
    for name in ([wanted] if wanted else PROVIDERS):
        found = shutil.which(name)
        if found:
            return found
    names = wanted or " or ".join(PROVIDERS)
    raise HullError(f"looking up compose provider failed: {names} not found in $PATH")


def _listening(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
            return True
        except OSError:
            return False


def _hull_argv(ctx: Context) -> list[str]:
    """This hull with the invocation's global flags."""
    argv = [os.path.abspath(sys.argv[0])] if os.path.basename(sys.argv[0]) == "hull" else \
        [sys.executable, "-P", "-c", "import sys; from engine.cli.main import main; sys.exit(main())"]
    for flag in ("root", "runroot", "runtime", "registries_conf"):
        value = getattr(ctx, flag)
        if value:
            argv += [f"--{flag.replace('_', '-')}", str(Path(value).absolute()) if "root" in flag else value]
    return argv


class TemporaryService:
    """`hull system service` on a private socket for the provider's lifetime."""

    def __init__(self, ctx: Context) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="hull-compose-"))
        self.path = self.dir / "hull.sock"
        argv = [*_hull_argv(ctx), "system", "service", "--time", "0", f"unix://{self.path}"]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while not _listening(self.path):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                err = (self.proc.stderr.read() if self.proc.poll() is not None else b"").decode(errors="replace")
                self.stop()
                raise HullError(f"starting the API service for compose failed: {err.strip() or 'timed out'}")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


USAGE = """Usage:
  {prog} [options]

Run compose workloads via an external provider such as docker-compose or podman-compose.
Every argument goes to the provider; DOCKER_HOST points at Hull's socket (a temporary
service is started when none listens).  The provider is HULL_COMPOSE_PROVIDER or
PODMAN_COMPOSE_PROVIDER, else docker-compose, else podman-compose.
PODMAN_COMPOSE_WARNING_LOGS=false silences the notice on stderr.
"""


def main(prog: str, argv: list[str], ctx: Context) -> int:
    if argv[:1] in (["-h"], ["--help"]):  # ours, then the provider's (as podman compose --help)
        sys.stdout.write(USAGE.format(prog=prog))
        sys.stdout.flush()
        try:
            provider = find_provider()
        except HullError:
            return 0
        sys.stdout.write("\nThe following help text is from " + provider + ":\n\n")
        sys.stdout.flush()
        return subprocess.call([provider, "--help"], stdin=subprocess.DEVNULL)
    provider = find_provider()
    cfg = ctx.config()
    env = dict(os.environ)
    env.update(HULL_ROOT=str(cfg.root), HULL_RUNROOT=str(cfg.runroot), DOCKER_BUILDKIT="0")
    if ctx.registries_conf:
        env["CONTAINERS_REGISTRIES_CONF"] = str(Path(ctx.registries_conf).absolute())
    cmd = [provider, *argv]
    if os.path.basename(provider) == "podman-compose":
        cmd = [provider, "--podman-path", _hull_argv(ctx)[0], *argv] \
            if os.path.basename(sys.argv[0]) == "hull" else cmd
    if os.environ.get("PODMAN_COMPOSE_WARNING_LOGS", "true").lower() not in ("false", "0"):
        sys.stderr.write(f'>>>> Executing external compose provider "{provider}". '
                         "Please see podman-compose(1) for how to disable this message. <<<<\n\n")
        sys.stderr.flush()
    service = None
    sock = cfg.runroot / "hull.sock"
    if not _listening(sock):
        service = TemporaryService(ctx)
        sock = service.path
    env["DOCKER_HOST"] = f"unix://{sock}"
    try:
        proc = subprocess.Popen(cmd, env=env)
        while True:
            try:
                code = proc.wait()
                break
            except KeyboardInterrupt:  # the provider got the SIGINT too: wait for it to finish
                continue
    finally:
        if service is not None:
            service.stop()
    return 128 - code if code < 0 else code
