"""A pulled image's files keep their owners, modes and whiteouts, as root and
rootless.  Rootless, `hull unshare` shows the image's own uids (33 is 33) while
the host sees them shifted into the user's /etc/subuid range."""

from __future__ import annotations

import os
import shlex


from tests.fixtures.images import push_to_registry

CHECKED = ["owned/root", "owned/www-data", "owned/user", "owned/nobody", "owned/userdir",
           "owned/userdir/file", "usr/bin/suid-file", "usr/bin/sgid-file", "shared",
           "owned/fifo", "opaque/new"]


def _stat_in_mount(hull, ref: str) -> dict[str, tuple[int, int, int]]:
    """stat CHECKED inside the mounted image, as the engine's own user sees it."""
    stat_cmd = " && ".join(f'stat -c "%n %u %g %a" "$m/{p}"' for p in CHECKED)
    gone = " && ".join(f'test ! -e "$m/{p}"' for p in ("data/deleteme", "data/gone-dir",
                                                       "opaque/old-a", "opaque/old-sub"))
    script = (f"m=$({shlex.quote(str(hull.binary))} image mount {shlex.quote(ref)}) && "
              f"{stat_cmd} && {gone} && cat \"$m/data/keep\"")
    if hull.rootless:
        out = hull("unshare", "sh", "-c", script).ok().stdout
    else:
        # As root the mount is in the host's namespace: same commands, no unshare.
        import subprocess

        env = dict(hull.env(), HULL_ROOT=str(hull.root), HULL_RUNROOT=str(hull.runroot))
        proc = subprocess.run(["sh", "-c", script], capture_output=True, text=True, env=env)
        assert proc.returncode == 0, proc.stderr
        out = proc.stdout
    assert out.rstrip().endswith("kept")
    found = {}
    for line in out.splitlines()[:-1]:
        path, uid, gid, mode = line.rsplit(" ", 3)
        found[path] = (int(uid), int(gid), int(mode, 8))
    return {p: next(v for k, v in found.items() if k.endswith("/" + p)) for p in CHECKED}


def test_pulled_image_keeps_owners_modes_and_whiteouts(hull_any, registry, multi_uid_image):
    push_to_registry(multi_uid_image, registry, "owners/multi-uid:1")
    ref = f"{registry.host}/owners/multi-uid:1"
    hull_any("pull", "--tls-verify=false", ref).ok()

    seen = _stat_in_mount(hull_any, ref)
    expected = multi_uid_image.files
    for path in CHECKED:
        info = expected[path]
        assert seen[path] == (info.uid, info.gid, info.mode), path
    hull_any("image", "unmount", ref)

    if hull_any.rootless:
        # From the host, the same files belong to the subordinate range.
        start = hull_any.user.subuid[0]  # read from /etc/subuid by the fixture
        layer_files = [p for p in hull_any.root.glob("layers/*/diff/owned/www-data")]
        assert layer_files, "layer directory not found in the store"
        st = os.lstat(layer_files[0])
        assert (st.st_uid, st.st_gid) == (start + 33 - 1, start + 33 - 1)


def test_loaded_archive_keeps_owners(hull_any, multi_uid_image):
    hull_any.load(multi_uid_image)
    seen = _stat_in_mount(hull_any, multi_uid_image.ref_name)
    for path in CHECKED:
        info = multi_uid_image.files[path]
        assert seen[path] == (info.uid, info.gid, info.mode), path
