"""Remote use: a `hull system service` (the server engine, busybox loaded) and a client
engine with its own empty --root, so anything the client shows came over the API."""

from __future__ import annotations

import pytest

from tests.fixtures.cli import Hull


class RemoteClient:
    def __init__(self, hull: Hull, url: str) -> None:
        self.hull = hull
        self.url = url

    def __call__(self, *args: str, **kw):
        return self.hull("--url", self.url, *args, **kw)


@pytest.fixture
def server(hull_any, busybox_image, api_service):
    hull_any.load(busybox_image)
    hull_any("tag", busybox_image.id.split(":", 1)[1], "busybox").ok()
    return api_service(hull_any)


@pytest.fixture
def client_engine(hull_any, hull_factory) -> Hull:
    """Another engine of the same user and mode: its own (empty) storage."""
    return hull_factory(hull_any.mode)


@pytest.fixture
def remote(server, client_engine) -> RemoteClient:
    return RemoteClient(client_engine, server.url)


# ---------------------------------------------------------------- sshd on 127.0.0.1
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SSHD = "/usr/sbin/sshd"


@dataclass
class Sshd:
    port: int
    dir: Path
    host_pub: str

    def client_files(self, hull: Hull) -> tuple[Path, Path]:
        """A key pair for `hull`'s user, authorised for that user on this sshd, and an
        ssh_config pinning this server's host key; returns (identity, ssh_config)."""
        home = hull.base / "ssh"
        home.mkdir(mode=0o700, exist_ok=True)
        key = home / "id_ed25519"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "hull-test", "-f", str(key)],
                       check=True, stdin=subprocess.DEVNULL)
        name = hull.user.name
        with open(self.dir / f"authorized_keys.{name}", "a") as fh:
            fh.write((home / "id_ed25519.pub").read_text())
        os.chmod(self.dir / f"authorized_keys.{name}", 0o644)
        known = home / "known_hosts"
        known.write_text(f"[127.0.0.1]:{self.port} {self.host_pub}\n")
        config = home / "config"
        config.write_text(f"Host 127.0.0.1\n  UserKnownHostsFile {known}\n  StrictHostKeyChecking yes\n"
                          "  PasswordAuthentication no\n")
        for p in (home, key, known, config, home / "id_ed25519.pub"):
            os.chown(p, hull.user.uid, hull.user.gid)
        os.chmod(config, 0o600)
        return key, config


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def sshd():
    """Debian's sshd as root on 127.0.0.1 with a throwaway host key and its own config
    file: nothing of the system's sshd set-up is read or changed.  UsePAM yes: the test
    user's password is locked ("!"), which sshd without PAM takes as a locked account even
    for key logins."""
    if os.geteuid() != 0:
        pytest.skip("sshd needs root to switch to the logged-in user")
    if not os.path.exists(SSHD):
        pytest.fail("openssh-server is not installed (.ci/setup-system-deps installs it)")
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege separation directory
    d = Path(tempfile.mkdtemp(prefix="hull-sshd-"))
    os.chmod(d, 0o755)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / "host_ed25519")], check=True,
                   stdin=subprocess.DEVNULL)
    port = _free_port()
    (d / "sshd_config").write_text(f"""\
ListenAddress 127.0.0.1
HostKey {d}/host_ed25519
PidFile {d}/sshd.pid
AuthorizedKeysFile {d}/authorized_keys.%u
StrictModes no
UsePAM yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowStreamLocalForwarding yes
X11Forwarding no
LogLevel ERROR
""")
    proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(d / "sshd_config"), "-p", str(port)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while True:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"sshd did not start: {proc.stderr.read().decode(errors='replace')[-2000:]}")
        time.sleep(0.05)
    host_pub = " ".join((d / "host_ed25519.pub").read_text().split()[:2])
    yield Sshd(port, d, host_pub)
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
    shutil.rmtree(d, ignore_errors=True)
