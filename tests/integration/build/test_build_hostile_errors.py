"""Hostile build contexts and bad input: refused with one clear line, nothing
written outside the build, no container or mount left behind."""

from __future__ import annotations

import gzip
import io
import os
import shutil
import subprocess
import tarfile

import pytest

from tests.integration.build.conftest import write_context


def _leftovers(h) -> list[str]:
    """Mounts below root/runroot and build scratch dirs a build may leave."""
    prefixes = (str(h.root) + "/", str(h.runroot) + "/")
    with open("/proc/self/mountinfo") as fh:
        mounts = [line.split()[4] for line in fh if line.split()[4].startswith(prefixes)]
    tmp = h.root / "tmp"
    scratch = [p.name for p in tmp.iterdir() if p.name.startswith("build-")] if tmp.exists() else []
    return mounts + scratch


class _Zeros:
    def __init__(self, n: int) -> None:
        self.left = n

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        self.left -= n
        return bytes(n)


def _evil_tar(target: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        info = tarfile.TarInfo(target)
        info.size = 5
        t.addfile(info, io.BytesIO(b"pwned"))
    return buf.getvalue()


def _bomb() -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9) as g:
        with tarfile.open(fileobj=g, mode="w") as t:
            info = tarfile.TarInfo("zeros")
            info.size = 200 << 20
            t.addfile(info, _Zeros(info.size))
    return buf.getvalue()


def test_hostile_contexts_are_refused(bb):
    outside = bb.workdir / "outside"
    outside.mkdir()
    (outside / "secret").write_text("host secret\n")
    os.chown(outside, bb.user.uid, bb.user.gid)
    ctx = write_context(bb, "evil", {
        "Dockerfile.link": "FROM busybox\nCOPY link /x\n",
        "Dockerfile.dirlink": "FROM busybox\nCOPY dirlink/secret /x\n",
        "Dockerfile.up": "FROM busybox\nCOPY ../outside/secret /x\n",
        "Dockerfile.evil": "FROM busybox\nADD evil.tar /e/\n",
        "Dockerfile.abs": "FROM busybox\nADD abs.tar /e/\n",
        "Dockerfile.bomb": "FROM busybox\nADD bomb.tar.gz /b/\n",
        "Dockerfile.tree": "FROM busybox\nCOPY . /ctx/\n",
        "evil.tar": _evil_tar(f"../../../../../../..{outside}/pwned"),
        "abs.tar": _evil_tar(f"{outside}/pwned-abs"),
        "bomb.tar.gz": _bomb(),
    })
    os.symlink(str(outside / "secret"), ctx / "link")
    os.symlink("../outside", ctx / "dirlink")
    for link in ("link", "dirlink"):
        os.lchown(ctx / link, bb.user.uid, bb.user.gid)

    bb("build", "-f", "Dockerfile.link", str(ctx)).assert_error(125, "possible escaping context directory error")
    bb("build", "-f", "Dockerfile.dirlink", str(ctx)).assert_error(125, "no such file or directory")
    bb("build", "-f", "Dockerfile.up", str(ctx)).assert_error(125, "possible escaping context directory error")
    bb("build", "-f", "Dockerfile.evil", str(ctx)).assert_error(125, "has a '..' component")
    # an absolute member name lands inside the destination, as tar and Docker do
    bb("build", "-q", "-t", "abs", "-f", "Dockerfile.abs", str(ctx)).ok()
    assert bb("run", "--rm", "abs", "cat", f"/e{outside}/pwned-abs").ok().stdout == "pwned"
    bb("build", "-f", "Dockerfile.bomb", str(ctx)).assert_error(125, "decompression bomb")
    # a whole-context copy keeps the symlinks as links; the host file never enters the image
    bb("build", "-q", "-t", "tree", "-f", "Dockerfile.tree", str(ctx)).ok()
    got = bb("run", "--rm", "tree", "sh", "-c", "readlink /ctx/link; cat /ctx/link 2>&1; true").ok().stdout
    assert got.splitlines()[0] == str(outside / "secret") and "host secret" not in got
    assert sorted(os.listdir(outside)) == ["secret"]
    assert _leftovers(bb) == []


def test_failing_run_gives_its_exit_code_and_leaves_nothing(bb):
    ctx = write_context(bb, "fail", {"Dockerfile": "FROM busybox\nRUN echo before\nRUN exit 3\n"})
    res = bb("build", str(ctx))
    assert res.returncode == 3
    assert res.stderr.strip().splitlines()[-1] == 'Error: building at STEP "RUN exit 3": while running runtime: exit status 3'
    res = bb("build", "-f", "-", str(ctx), input="FROM busybox\nRUN nosuchcommand\n")
    assert res.returncode == 127
    assert bb("ps", "-a", "-q").ok().stdout == ""
    assert _leftovers(bb) == []


@pytest.mark.parametrize("dockerfile, message", [
    ("FROM busybox\nFOO bar\n", "Error: dockerfile parse error on line 2: unknown instruction: FOO"),
    ("FROM busybox\nCOPY nothere /x\n",
     'Error: building at STEP "COPY nothere /x": checking on sources under'),
    ("FROM busybox\nCOPY --from=nostage /a /b\n", "Error: COPY --from=nostage: no stage or image found with that "
                                                  "name"),
    ("FROM busybox\nRUN <<EOF\necho never ends\n", "Error: dockerfile parse error on line 2: unterminated heredoc EOF"),
    ("RUN true\n", "Error: dockerfile parse error on line 1: no build stage in current context"),
    ("FROM busybox\nCOPY a b c\n", "the destination must be a directory and end with a /"),
    ("FROM nosuch/image:tag\n", 'Error: building at STEP "FROM nosuch/image:tag"'),
])
def test_bad_input_one_line(bb_root, dockerfile, message):
    ctx = write_context(bb_root, "bad", {"Dockerfile": dockerfile, "a": "", "b": ""})
    err = bb_root("build", "--pull=never", str(ctx)).assert_error(125)
    assert message in err and len(err.strip().splitlines()) == 1


def test_missing_containerfile_and_context(bb_root):
    empty = write_context(bb_root, "empty", {"x": ""})
    bb_root("build", str(empty)).assert_error(125, "no Containerfile or Dockerfile specified or found in context "
                                                   "directory")
    bb_root("build", str(empty / "nope")).assert_error(125, "context must be a directory")
    bb_root("build", "-f", "nofile", str(empty)).assert_error(125, "no such file or directory")


PODMAN = shutil.which("podman")


@pytest.mark.skipif(PODMAN is None, reason="podman (the interop oracle) is not installed")
def test_image_built_by_hull_runs_in_podman(bb_root, tmp_path):
    ctx = write_context(bb_root, "interop", {"Dockerfile": "FROM busybox\nCOPY f /f\nRUN echo ran > /r\n"
                                                           "CMD [\"cat\", \"/f\", \"/r\"]\n", "f": "from hull\n"})
    bb_root("build", "-q", "-t", "interop", str(ctx)).ok()
    archive = tmp_path / "img.tar"
    bb_root("save", "-o", str(archive), "interop").ok()
    import tempfile

    prun = tempfile.mkdtemp(prefix="hb-prun-")   # podman wants a runroot under 50 characters
    store = ["--root", str(tmp_path / "proot"), "--runroot", prun, "--storage-driver", "vfs"]
    loaded = subprocess.run([PODMAN, *store, "load", "-i", str(archive)], capture_output=True, timeout=300)
    assert loaded.returncode == 0, loaded.stderr.decode()
    # runc and a low nofile limit: what this host allows (see DESIGN.md)
    ran = subprocess.run([PODMAN, *store, "--runtime", "runc", "run", "--rm", "--net", "none",
                          "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "localhost/interop"],
                         capture_output=True, timeout=300)
    assert ran.returncode == 0 and ran.stdout == b"from hull\nran\n", ran.stderr.decode()
    subprocess.run([PODMAN, *store, "system", "reset", "-f"], capture_output=True, timeout=300)
    shutil.rmtree(prun, ignore_errors=True)


def test_podman_built_shared_image_as_base(hull_any):
    """An image from ../shared/images (written by Podman's tooling) as FROM base."""
    shared = "/work/shared/images/busybox.docker.tar"
    if not os.path.exists(shared):
        pytest.skip("../shared/images is not present on this machine")
    hull_any("load", "-i", shared).ok()
    ctx = write_context(hull_any, "shared", {"Dockerfile": "FROM localhost:5000/busybox\nRUN echo on-shared > /s\n"})
    hull_any("build", "-q", "-t", "onshared", str(ctx)).ok()
    assert hull_any("run", "--rm", "onshared", "cat", "/s").ok().stdout == "on-shared\n"
