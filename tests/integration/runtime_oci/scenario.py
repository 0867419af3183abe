"""Runs one container through an OCIRuntime and prints what happened as JSON.

    python scenario.py prepare LAYOUT DEST      # unpack the image's layers into DEST
    python scenario.py run < job.json           # one container, result on stdout

Run directly as root, or as the rootless user through runuser (ROOTLESS=1 in the
environment: it joins Hull's pause namespace first, as the monitor will).  Each
container gets a fresh overlay (upper/work) over the unpacked layers.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO))

if os.environ.get("ROOTLESS"):
    from engine.config import EngineConfig
    from engine.runtime.userns import ensure_in_userns

    ensure_in_userns(EngineConfig())

from engine.errors import HullError  # noqa: E402
from engine.runtime.base import Stdio, get_runtime  # noqa: E402
from engine.runtime.overlay import mount_overlay, unmount  # noqa: E402
from tests.integration.runtime_oci.bundle import make_config, unpack_image, write_bundle  # noqa: E402


def _read_all(fds: dict[str, int], deadline: float) -> dict[str, bytes]:
    out = {k: b"" for k in fds}
    open_ = dict(fds)
    while open_ and time.monotonic() < deadline:
        ready, _, _ = select.select(list(open_.values()), [], [], 0.1)
        for fd in ready:
            key = next(k for k, v in open_.items() if v == fd)
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the pty's last slave closed
                chunk = b""
            if chunk:
                out[key] += chunk
            else:
                del open_[key]
    return out


def _pipes(stdio_tty: bool, masters: list[int], caller_pty: bool = False):
    r1, w1 = os.pipe()
    r2, w2 = os.pipe()
    if caller_pty:  # the caller's own pty: its slave becomes the controlling terminal
        master, slave = os.openpty()
        masters.append(master)
        os.close(w2)
        return r1, w1, r2, slave, Stdio(None, None, None, terminal_fd=slave)
    return (r1, w1, r2, w2, Stdio(None, w1, w2, on_console=masters.append if stdio_tty else None))


def run(job: dict) -> dict:
    base = Path(tempfile.mkdtemp(prefix="c-", dir=job["base"]))
    os.chmod(base, 0o755)  # a user namespace of the container's own must reach the rootfs
    rootfs, upper, work = base / "rootfs", base / "upper", base / "work"
    for d in (rootfs, upper, work):
        d.mkdir()
    mount_overlay([Path(p) for p in job["layers"]], rootfs, upper, work)
    result: dict = {}
    rt = get_runtime(job["runtime"], Path(job["base"]) / "run")
    cid = base.name
    try:
        for link, target in (job.get("symlinks") or {}).items():
            place = rootfs / link.lstrip("/")
            if place.is_dir() and not place.is_symlink():  # the image's /dev, /proc, ...: replace it
                shutil.rmtree(place)
            os.symlink(target, place)
        cfg = make_config(rootfs, job["args"], **(job.get("config") or {}))
        if job.get("userns"):  # [host id, size]: a user namespace of the container's own
            host, size = job["userns"]
            cfg["linux"]["namespaces"].append({"type": "user"})
            for key in ("uidMappings", "gidMappings"):
                cfg["linux"][key] = [{"containerID": 0, "hostID": host, "size": size}]
            os.chown(rootfs, host, host)
            os.chown(rootfs / "tmp", host, host)
        if job.get("sysctl"):
            cfg["linux"]["sysctl"] = job["sysctl"]
        if job.get("resources"):
            cfg["linux"]["resources"] = job["resources"]
        if job.get("seccomp_profile"):
            cfg["linux"]["seccomp"] = job["seccomp_profile"]
        write_bundle(base / "bundle", cfg)
        masters: list[int] = []
        r1, w1, r2, w2, stdio = _pipes(bool(job.get("tty")), masters, bool(job.get("caller_pty")))
        try:
            pid = rt.create(cid, base / "bundle", stdio)
        except HullError as exc:
            return {"error": type(exc).__name__, "message": str(exc), "code": exc.exit_code}
        finally:
            os.close(w1)
            os.close(w2)
        result["state_created"] = rt.state(cid).status
        rt.start(cid)
        if job.get("exec"):
            time.sleep(0.2)
            result["state_running"] = rt.state(cid).status
            result["exec"] = _exec(rt, cid, job["exec"], bool(job.get("exec_tty")))
        if job.get("pause"):
            rt.pause(cid)
            result["state_paused"] = rt.state(cid).status
            rt.resume(cid)
            result["state_resumed"] = rt.state(cid).status
        if job.get("kill"):
            rt.kill(cid, signal.SIGKILL)
        fds = {"stdout": r1, "stderr": r2}
        if masters:
            fds["tty"] = masters[0]
        data = _read_all(fds, time.monotonic() + 30)
        _, status = os.waitpid(pid, 0)
        result["exit"] = os.waitstatus_to_exitcode(status)
        for k, v in data.items():
            result[k] = v.decode(errors="replace")
        result["state_after"] = rt.state(cid).status
        result["upper"] = sorted(str(p.relative_to(upper)) for p in upper.rglob("*"))
        result["owners"] = {str(p.relative_to(upper)): p.lstat().st_uid for p in upper.rglob("*")}
        rt.delete(cid)
        return result
    finally:
        try:
            rt.delete(cid, force=True)
        except HullError:
            pass
        unmount(rootfs, lazy=True)


def _exec(rt, cid: str, args: list[str], tty: bool) -> dict:
    masters: list[int] = []
    r1, w1, r2, w2, stdio = _pipes(tty, masters)
    process = {"args": args, "cwd": "/", "user": {"uid": 0, "gid": 0}, "terminal": tty,
               "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
               "capabilities": {k: ["CAP_KILL"] for k in ("bounding", "effective", "permitted")},
               "noNewPrivileges": True}
    try:
        pid = rt.exec(cid, process, stdio)
    except HullError as exc:
        return {"error": type(exc).__name__, "message": str(exc), "code": exc.exit_code}
    finally:
        os.close(w1)
        os.close(w2)
    fds = {"stdout": r1, "stderr": r2}
    if masters:
        fds["tty"] = masters[0]
    data = _read_all(fds, time.monotonic() + 30)
    _, status = os.waitpid(pid, 0)
    out = {k: v.decode(errors="replace") for k, v in data.items()}
    out["exit"] = os.waitstatus_to_exitcode(status)
    return out


def main() -> int:
    if sys.argv[1] == "prepare":
        layers = unpack_image(Path(sys.argv[2]), Path(sys.argv[3]))
        print(json.dumps([str(p) for p in layers]))
        return 0
    try:
        print(json.dumps(run(json.load(sys.stdin))))
    except Exception:  # noqa: BLE001
        print(json.dumps({"crash": traceback.format_exc()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
