"""`hull cp` into a container that is not running, and a `hull start` of it at the same
time (issue 3): the copy takes the container's lock, so start waits for it (or, when
start won, the copy goes into the running container); both succeed and nothing of the
copy goes missing.  Also the plain case the race hid: cp into a freshly created
container (its overlay is mounted by create) and then start it."""

import hashlib
import io
import os
import tarfile

import pytest

pytestmark = pytest.mark.timeout(600)


@pytest.fixture
def h(hull_any, busybox_image):
    hull_any.load(busybox_image)
    return hull_any


def _tree(h, count: int):
    src = h.workdir / "data"
    src.mkdir()
    digest = hashlib.sha256()
    for i in range(count):
        data = os.urandom(1024) + str(i).encode()
        (src / f"f{i}").write_bytes(data)
        digest.update(data)
    for path in [src, *src.iterdir()]:
        os.chown(path, h.user.uid, h.user.gid)
    return src, digest.hexdigest()


def _copied_digest(h, name: str, count: int) -> str:
    out = h("cp", f"{name}:/data", "-").ok().stdout_bytes
    digest = hashlib.sha256()
    with tarfile.open(fileobj=io.BytesIO(out)) as t:
        for i in range(count):
            digest.update(t.extractfile(f"data/f{i}").read())
    return digest.hexdigest()


def test_cp_into_created_container_then_start(h):
    (h.workdir / "small").write_text("copied before start\n")
    os.chmod(h.workdir / "small", 0o644)
    h("create", "--name", "c1", "--network", "none", "localhost/busybox", "cat", "/small").ok()
    h("cp", h.workdir / "small", "c1:/").ok()
    assert h("start", "-a", "c1").ok().stdout == "copied before start\n"


def test_cp_racing_start_neither_fails_nor_loses_files(h):
    count = 1500
    src, want = _tree(h, count)
    for round_ in range(3):
        name = f"race{round_}"
        h("create", "--name", name, "--network", "none", "localhost/busybox", "sh", "-c",
          "ls /data 2>/dev/null | wc -l").ok()
        cp = h.popen("cp", src, f"{name}:/")
        start = h.popen("start", "-a", name)
        cp_out, cp_err = cp.communicate(timeout=300)
        st_out, st_err = start.communicate(timeout=300)
        assert cp.returncode == 0, cp_err.decode()
        assert start.returncode == 0, st_err.decode()
        seen = int(st_out.decode().strip())
        assert seen in range(0, count + 1)
        h("wait", name).ok()
        assert _copied_digest(h, name, count) == want
        # and it starts again with every file in place
        assert h("start", "-a", name).ok().stdout.strip() == str(count)
