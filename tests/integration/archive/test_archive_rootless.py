"""apply_layer run by an unprivileged user inside `unshare --map-auto --map-root-user`.

From outside, a file the layer gives to uid N must belong to the N-th id of the
user's map: 0 -> the user, 1.. -> its /etc/subuid range.  Devices are skipped, whiteouts
and opaque dirs still work (Linux >= 5.8), an id outside the map is a clear error.
"""

from __future__ import annotations

import io
import os
import shutil
import stat
import sys
import tarfile
from pathlib import Path

import pytest

from tests.fixtures.users import remove_tree, user_tmpdir

REPO = Path(__file__).resolve().parents[3]

SCRIPT = """
import json, sys
sys.path.insert(0, sys.argv[1])
from engine.archive.extract import apply_layer
from engine.errors import HullError
try:
    with open(sys.argv[2], "rb") as fh:
        r = apply_layer(fh, sys.argv[3])
    print(json.dumps({"diff_id": r.diff_id, "skipped": list(r.skipped)}))
except HullError as exc:
    print(json.dumps({"error": type(exc).__name__, "message": str(exc)}))
"""

pytestmark = pytest.mark.skipif(shutil.which("unshare") is None or shutil.which("newuidmap") is None,
                                reason="needs unshare and newuidmap (Debian's uidmap)")


def _layer(entries) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, kind, uid, gid, mode, data in entries:
            info = tarfile.TarInfo(name)
            info.type, info.uid, info.gid, info.mode, info.size = kind, uid, gid, mode, len(data)
            if kind == tarfile.CHRTYPE:
                info.devmajor, info.devminor = 1, 3
            tar.addfile(info, io.BytesIO(data) if data else None)
    return buf.getvalue()


@pytest.fixture
def work(test_user):
    if test_user.subuid is None or test_user.subgid is None:
        pytest.skip(f"{test_user.name} has no /etc/subuid and /etc/subgid range")
    path = user_tmpdir(test_user, "archive")
    os.chmod(path, 0o777)
    yield path
    remove_tree(path, test_user)


def _apply_as_user(test_user, work: Path, layer: bytes, name: str) -> dict:
    import json

    layer_path = work / f"{name}.tar"
    layer_path.write_bytes(layer)
    os.chmod(layer_path, 0o644)
    dest = work / name
    dest.mkdir()
    if os.geteuid() == 0:
        os.chown(dest, test_user.uid, test_user.gid)
    proc = test_user.run(["unshare", "--map-auto", "--map-root-user", sys.executable, "-c", SCRIPT,
                          str(REPO), str(layer_path), str(dest)],
                         capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_owners_land_on_the_subuid_range(test_user, work):
    layer = _layer([
        ("etc", tarfile.DIRTYPE, 0, 0, 0o755, b""),
        ("etc/passwd", tarfile.REGTYPE, 0, 0, 0o644, b"root:x:0:0\n"),
        ("var/www", tarfile.DIRTYPE, 33, 33, 0o750, b""),
        ("var/www/index.html", tarfile.REGTYPE, 33, 33, 0o640, b"<html>"),
        ("home/user/.profile", tarfile.REGTYPE, 1000, 1000, 0o600, b"x"),
        ("usr/bin/passwd", tarfile.REGTYPE, 0, 0, 0o4755, b"\x7fELF"),
        ("dev/null", tarfile.CHRTYPE, 0, 0, 0o666, b""),
        ("etc/.wh.motd", tarfile.REGTYPE, 0, 0, 0o644, b""),
        ("var/cache/.wh..wh..opq", tarfile.REGTYPE, 0, 0, 0o644, b""),
    ])
    result = _apply_as_user(test_user, work, layer, "ok")
    assert "error" not in result, result
    sub_uid, sub_gid = test_user.subuid[0], test_user.subgid[0]
    dest = work / "ok"

    def owner(rel: str) -> tuple[int, int]:
        st = os.lstat(dest / rel)
        return st.st_uid, st.st_gid

    assert owner("etc/passwd") == (test_user.uid, test_user.gid)
    assert owner("var/www/index.html") == (sub_uid + 32, sub_gid + 32)
    assert owner("var/www") == (sub_uid + 32, sub_gid + 32)
    assert owner("home/user/.profile") == (sub_uid + 999, sub_gid + 999)
    assert stat.S_IMODE(os.stat(dest / "usr/bin/passwd").st_mode) == 0o4755
    assert not (dest / "dev/null").exists()          # devices are skipped in a user namespace
    assert any("dev/null" in s for s in result["skipped"])
    st = os.lstat(dest / "etc/motd")                 # an overlay whiteout, made unprivileged
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == 0
    assert os.getxattr(dest / "var/cache", "user.overlay.opaque") == b"y"


def test_unmapped_owner_is_a_clear_error(test_user, work):
    layer = _layer([("etc/shadow", tarfile.REGTYPE, 0, 70000, 0o640, b"secret")])
    result = _apply_as_user(test_user, work, layer, "unmapped")
    assert result["error"] == "StorageError"
    assert "potentially insufficient UIDs or GIDs available in user namespace" in result["message"]
    assert "requested 0:70000 for /etc/shadow" in result["message"]
