"""--user resolution against the image's passwd/group, read safely inside the rootfs."""

import os
import threading

import pytest

from engine.errors import InvalidArgument
from engine.spec.users import ImageAccounts, read_root_file, resolve_user

PASSWD = ("root:x:0:0:root:/root:/bin/sh\n"
          "# comment\n"
          "www-data:x:33:33:www-data:/var/www:/bin/sh\n"
          "app:x:1000:1000:app:/home/app:/bin/sh\n"
          "broken line\n"
          "nohome:x:1001:1001::\n")
GROUP = ("root:x:0:\nwww-data:x:33:\napp:x:1000:\nwheel:x:10:app,other\n"
         "audio:x:29:app\nstaff:x:50:\n")


@pytest.fixture
def rootfs(tmp_path):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/passwd").write_text(PASSWD)
    (tmp_path / "etc/group").write_text(GROUP)
    return tmp_path


@pytest.mark.parametrize("spec,uid,gid,groups,home", [
    ("", 0, 0, (), "/root"),
    ("root", 0, 0, (), "/root"),
    ("0", 0, 0, (), "/root"),
    ("www-data", 33, 33, (), "/var/www"),
    ("app", 1000, 1000, (10, 29), "/home/app"),         # supplementary groups from /etc/group
    ("1000", 1000, 1000, (10, 29), "/home/app"),        # a known uid is the same user
    ("app:staff", 1000, 50, (), "/home/app"),           # explicit group: no supplementary ones
    ("app:50", 1000, 50, (), "/home/app"),
    ("1000:1000", 1000, 1000, (), "/home/app"),
    ("4242", 4242, 0, (), "/"),                         # unknown uid: gid 0, HOME /
    ("4242:4242", 4242, 4242, (), "/"),
    ("nohome", 1001, 1001, (), "/"),
])
def test_resolve(rootfs, spec, uid, gid, groups, home):
    u = resolve_user(rootfs, spec)
    assert (u.uid, u.gid, u.additional_gids, u.home) == (uid, gid, groups, home)


def test_group_add(rootfs):
    u = resolve_user(rootfs, "www-data", ["wheel", "77", "keep-groups"])
    assert u.additional_gids == (10, 77)


def test_unknown_user_and_group(rootfs):
    with pytest.raises(InvalidArgument, match="^unable to find user nobody: no matching entries in passwd file$"):
        resolve_user(rootfs, "nobody")
    with pytest.raises(InvalidArgument, match="unable to find group nogroup: no matching entries in group file"):
        resolve_user(rootfs, "app:nogroup")
    with pytest.raises(InvalidArgument, match="unable to find group x"):
        resolve_user(rootfs, "app", ["x"])


def test_missing_files_numeric_still_works(tmp_path):
    assert resolve_user(tmp_path, "12:34").uid == 12
    with pytest.raises(InvalidArgument, match="unable to find user app"):
        resolve_user(tmp_path, "app")


def test_symlink_to_host_file_stays_in_root(tmp_path):
    """/etc/passwd -> /etc/passwd-host resolves inside the rootfs, never the host's."""
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/passwd").symlink_to("/etc/shadow")
    assert read_root_file(tmp_path, "/etc/passwd") is None  # no /etc/shadow inside the root
    (tmp_path / "etc/shadow").write_text("inroot:x:7:7::/in:/bin/sh\n")
    assert resolve_user(tmp_path, "inroot").uid == 7
    (tmp_path / "etc/passwd").unlink()
    (tmp_path / "etc/passwd").symlink_to("../../../../../etc/passwd")  # `..` stops at the root
    assert read_root_file(tmp_path, "/etc/passwd") is None


def test_fifo_does_not_hang(tmp_path):
    """CVE-2024-9676: a FIFO (even through a symlink) must not block the engine."""
    (tmp_path / "etc").mkdir()
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "etc/passwd").symlink_to("/fifo")
    os.mkfifo(tmp_path / "etc/group")
    result = {}

    def run():
        result["u"] = resolve_user(tmp_path, "0")
    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(5)
    assert not t.is_alive(), "reading a FIFO blocked"
    assert result["u"].uid == 0 and result["u"].home == "/"


def test_directory_and_device_ignored(tmp_path):
    (tmp_path / "etc/passwd").mkdir(parents=True)
    assert read_root_file(tmp_path, "/etc/passwd") is None
    (tmp_path / "etc/group").symlink_to("/dev/zero")   # in-root /dev/zero does not exist
    assert read_root_file(tmp_path, "/etc/group") is None


def test_size_cap(tmp_path):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/passwd").write_bytes(b"x" * 2000)
    with pytest.raises(Exception, match="larger than 1000 bytes"):
        read_root_file(tmp_path, "/etc/passwd", limit=1000)


def test_no_fd_leak(rootfs):
    before = set(os.listdir("/proc/self/fd"))
    for _ in range(20):
        resolve_user(rootfs, "app")
    assert set(os.listdir("/proc/self/fd")) == before


def test_accounts_parse_skips_garbage():
    from engine.spec.users import parse_group, parse_passwd
    assert [p.name for p in parse_passwd(PASSWD)] == ["root", "www-data", "app", "nohome"]
    assert parse_group("g:x:notnum:\nok:x:5:a,b\n")[0].members == ("a", "b")
