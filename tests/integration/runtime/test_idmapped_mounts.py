"""engine/runtime/idmapped.py on this kernel: an idmapped clone of a directory shows its
files owned by the mapped host ids, the files themselves keep their owners, and kernel
overlayfs stacks on an idmapped lower layer (what --uidmap/--userns=auto containers
need to see their image's files with the right owners).  As root: idmapped mounts of a
host filesystem need CAP_SYS_ADMIN in the initial user namespace, which a rootless
caller does not have - the test checks that refusal too."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = str(Path(__file__).resolve().parents[3])

SCRIPT = textwrap.dedent('''
    import os, sys
    from engine.runtime.idmapped import idmapped_clone, userns_fd
    from engine.runtime.syscalls import CLONE_NEWNS, MS_PRIVATE, MS_REC, SYSCALLS
    layer, top = sys.argv[1], sys.argv[2]
    ns = userns_fd([(0, 300000, 65536)], [(0, 400000, 65536)])
    mnt = idmapped_clone(layer, ns)
    st = os.stat("owned", dir_fd=mnt)
    print("clone", st.st_uid, st.st_gid)
    SYSCALLS.unshare(CLONE_NEWNS)
    SYSCALLS.mount(None, "/", None, MS_REC | MS_PRIVATE)
    lower = os.path.join(top, "lower"); os.mkdir(lower)
    SYSCALLS.move_mount_fd(mnt, lower)
    upper, work, merged = (os.path.join(top, d) for d in ("upper", "work", "merged"))
    for d in (upper, work, merged):
        os.mkdir(d)
    os.chown(upper, 300000, 400000)
    SYSCALLS.mount("overlay", merged, "overlay", 0,
                   f"lowerdir={lower},upperdir={upper},workdir={work},userxattr")
    st = os.stat(os.path.join(merged, "owned"))
    print("overlay", st.st_uid, st.st_gid)
''')


def _layer(tmp_path):
    layer = tmp_path / "layer"
    layer.mkdir()
    (layer / "owned").write_text("x")
    os.chown(layer / "owned", 7, 8)
    return layer


@pytest.mark.skipif(os.geteuid() != 0, reason="idmapped mounts of a host filesystem need real root")
def test_idmapped_clone_and_overlay_on_top(tmp_path):
    layer = _layer(tmp_path)
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(layer), str(tmp_path)], capture_output=True,
                         text=True, cwd=REPO, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["clone 300007 400008", "overlay 300007 400008"]
    st = os.stat(layer / "owned")
    assert (st.st_uid, st.st_gid) == (7, 8)  # the layer's files are untouched


def test_rootless_idmapped_mount_of_a_host_fs_is_refused(hull_rootless):
    # Inside Hull's rootless user namespace (root there, all capabilities) the clone
    # works, but idmapping a host filesystem is refused: rootless needs the chown-copy
    # fallback.
    layer = hull_rootless.workdir / "layer"
    layer.mkdir()
    (layer / "owned").write_text("x")
    os.chown(layer, hull_rootless.user.uid, hull_rootless.user.gid)
    code = textwrap.dedent('''
        import errno, sys
        from pathlib import Path
        from engine.config import EngineConfig
        from engine.errors import SyscallError
        from engine.services.common import enter_userns
        enter_userns(EngineConfig(root=Path(sys.argv[2]), runroot=Path(sys.argv[3]), rootless=True))
        from engine.runtime.idmapped import idmapped_clone, userns_fd
        ns = userns_fd([(0, 1, 1000)], [(0, 1, 1000)])
        try:
            idmapped_clone(sys.argv[1], ns)
            print("mapped")
        except SyscallError as exc:
            print(exc.call, errno.errorcode[exc.errno])
    ''')
    argv = hull_rootless.user.argv([sys.executable, "-c", code, str(layer), str(hull_rootless.root),
                                    str(hull_rootless.runroot)],
                                   {**hull_rootless.env(), "PYTHONPATH": os.getcwd()})
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=hull_rootless.workdir)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["mount_setattr", "EPERM"], out.stdout
