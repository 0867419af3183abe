"""Resolve `--user user[:group]` and `--group-add` through the image's own
/etc/passwd and /etc/group, never the host's.

The files belong to the image, which may be hostile: they are opened inside the
rootfs (engine/archive/inroot.py: symlinks resolve in the root), first as O_PATH so
that a FIFO or a device never blocks or triggers anything, then read only when they
are regular files, and never past MAX_FILE bytes (CVE-2024-9676: /etc/passwd as a
symlink to a host FIFO hung Podman).  Rules follow runc's GetExecUser, which Podman
uses: a user found in passwd gives its primary group, HOME and its supplementary
groups (members in /etc/group) unless a group is given explicitly.
"""

from __future__ import annotations

import os
import stat

from engine.errors import HullError, InvalidArgument, SyscallError
from engine.record import DataRecord, Factory  # not dataclasses: ms on every run

MAX_FILE = 4 << 20
MAX_ID = 2**32 - 2


class PasswdEntry(DataRecord, frozen=True):
    name: str
    uid: int
    gid: int
    home: str


class GroupEntry(DataRecord, frozen=True):
    name: str
    gid: int
    members: tuple[str, ...]


class ResolvedUser(DataRecord, frozen=True):
    uid: int
    gid: int
    additional_gids: tuple[int, ...] = ()
    home: str = "/"
    name: str = ""


class UserNotFound(InvalidArgument):
    pass


def read_root_file(rootfs: str | os.PathLike | int, path: str, limit: int = MAX_FILE) -> str | None:
    """The text of `path` inside `rootfs`, or None when it is missing or not a regular file."""
    from engine.archive.inroot import InRoot

    try:
        root = InRoot(rootfs)
    except OSError:
        return None
    try:
        try:
            pfd = root.open(path.encode(), os.O_PATH)
        except SyscallError:
            return None
        try:
            if not stat.S_ISREG(os.fstat(pfd).st_mode):
                return None
            fd = os.open(f"/proc/self/fd/{pfd}", os.O_RDONLY | os.O_CLOEXEC | os.O_NOCTTY | os.O_NONBLOCK)
        finally:
            os.close(pfd)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped meanwhile
                return None
            chunks, total = [], 0
            while True:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                total += len(chunk)
                if total > limit:
                    raise HullError(f"{path} in the image is larger than {limit} bytes")
                chunks.append(chunk)
        finally:
            os.close(fd)
    finally:
        root.close()
    return b"".join(chunks).decode("utf-8", "replace")


def parse_passwd(text: str) -> list[PasswdEntry]:
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        f = line.split(":")
        if len(f) < 4 or not f[2].isdigit() or not f[3].isdigit():
            continue
        out.append(PasswdEntry(f[0], int(f[2]), int(f[3]), f[5] if len(f) > 5 else ""))
    return out


def parse_group(text: str) -> list[GroupEntry]:
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        f = line.split(":")
        if len(f) < 3 or not f[2].isdigit():
            continue
        members = tuple(m for m in (f[3].split(",") if len(f) > 3 else []) if m)
        out.append(GroupEntry(f[0], int(f[2]), members))
    return out


def _numeric(text: str) -> int | None:
    if text.isdigit():
        value = int(text)
        if value > MAX_ID:
            raise InvalidArgument(f"uids and gids must be in range 0-{MAX_ID}")
        return value
    return None


class ImageAccounts(DataRecord):
    """The image's passwd and group databases, loaded once."""

    passwd: list[PasswdEntry] = Factory(list)
    groups: list[GroupEntry] = Factory(list)

    @classmethod
    def from_rootfs(cls, rootfs: str | os.PathLike | int) -> "ImageAccounts":
        passwd = read_root_file(rootfs, "/etc/passwd")
        group = read_root_file(rootfs, "/etc/group")
        return cls(parse_passwd(passwd or ""), parse_group(group or ""))

    def find_group(self, text: str) -> int:
        num = _numeric(text)
        for g in self.groups:
            if g.name == text or (num is not None and g.gid == num):
                return g.gid
        if num is not None:
            return num
        raise UserNotFound(f"unable to find group {text}: no matching entries in group file")

    def resolve(self, user: str, group_add: list[str] | tuple[str, ...] = ()) -> ResolvedUser:
        user_part, _, group_part = (user or "").partition(":")
        if not user_part:
            user_part = "0"
        uid_num = _numeric(user_part)
        entry = None
        for p in self.passwd:
            if (uid_num is None and p.name == user_part) or (uid_num is not None and p.uid == uid_num):
                entry = p
                break
        if entry is None and uid_num is None:
            raise UserNotFound(f"unable to find user {user_part}: no matching entries in passwd file")
        uid = entry.uid if entry else uid_num
        gid = entry.gid if entry else 0
        home = (entry.home or "/") if entry else "/"
        sgids: list[int] = []
        if group_part:
            gid = self.find_group(group_part)
        elif entry is not None:
            sgids = [g.gid for g in self.groups if entry.name in g.members]
        for extra in group_add:
            if extra == "keep-groups":
                continue  # handled by the runtime (crun's run.oci.keep_original_groups)
            gid_extra = self.find_group(extra)
            if gid_extra not in sgids:
                sgids.append(gid_extra)
        return ResolvedUser(uid=uid, gid=gid, additional_gids=tuple(sgids), home=home,
                            name=entry.name if entry else "")


def resolve_user(rootfs: str | os.PathLike | int, user: str,
                 group_add: list[str] | tuple[str, ...] = ()) -> ResolvedUser:
    """`user[:group]` (names or numbers) against the image at `rootfs`."""
    return ImageAccounts.from_rootfs(rootfs).resolve(user, group_add)
