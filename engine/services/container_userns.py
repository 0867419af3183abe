"""Containers with a user namespace of their own that does not map the storage owner:
--userns=auto[:size=N,uidmapping=C:H:S,gidmapping=C:H:S] and --uidmap/--gidmap.

- `assign(cfg, store, cid, opts, image)` (create): the container's maps, stored in
  `id_ranges` (engine/store/idranges.py).  auto takes a free block from a pool, in one
  write transaction, so concurrent creates never overlap; the block goes with the
  container's row.  Pools: as root the `containers` user's /etc/subuid and /etc/subgid
  ranges (Podman's root-auto-userns-user), else Hull's own pool: ids from the first
  multiple of 65536 above every range in /etc/subuid and /etc/subgid (at least
  2^20 = 1048576) up to 2^31 (Podman refuses --userns=auto there; documented in
  docs/cli.md).  Rootless: ids 1..N-1 of Hull's namespace (the user's subuid range).
  Size: size=N, else the image's highest uid/gid (its /etc/passwd and /etc/group
  without nobody's 65534, as Podman, and the owners of its layers' files) + 1, at least 1024 and at most 65536 (Podman's
  auto-userns-min-size/max-size).  uidmapping=/gidmapping= pin container ids to given
  host ids; the automatic block fills the rest of 0..size-1.
- `owned_lowers(store, container, lowers)` (mount_rootfs): the image layers seen with
  the container's owners: as root idmapped clones (engine/runtime/idmapped.py, files
  untouched); rootless, where the kernel refuses idmapping a host filesystem, a copy of
  the layers with shifted owners under `{root}/idmapped/<key>/`, shared by every
  container with the same image and maps and removed with the last of them
  (`prune_copies`).  The upper and work dirs belong to the container's root.
- `chown_userdata(store, cid)`: the generated files bound into the container (hosts,
  resolv.conf, hostname, .containerenv) belong to its root, as with Podman, so its root
  can rewrite /etc/hosts.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from pathlib import Path

from engine.errors import HullError, InvalidArgument, StorageError
from engine.store.idranges import IDRanges, IDRangeStore, Maps

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Iterator

MIN_SIZE, MAX_SIZE = 1024, 65536
POOL_FLOOR, POOL_END = 1 << 20, 1 << 31
ROOT_AUTO_USER = "containers"
NOBODY = 65534
MAX_SCAN_ENTRIES = 200_000  # owners of layer files: scanned while cheap


def ranges(store: Any) -> IDRangeStore:
    return IDRangeStore(store.db)


def wants_own_maps(opts: Any) -> bool:
    return bool(opts.uidmap or opts.gidmap) or opts.userns.partition(":")[0] == "auto"


# ------------------------------------------------------------------------- allocation

def assign(cfg: Any, store: Any, cid: str, opts: Any, image: Any) -> IDRanges | None:
    """Record the maps of a container that asks for its own (None: it does not)."""
    if not wants_own_maps(opts):
        return None
    rs = ranges(store)
    if opts.uidmap or opts.gidmap:
        uids = [(m.container_id, m.host_id, m.size) for m in (opts.uidmap or opts.gidmap)]
        gids = [(m.container_id, m.host_id, m.size) for m in (opts.gidmap or opts.uidmap)]
        if _shift([(h, c, n) for c, h, n in uids], 0) is None:
            _need_builtin(store, cid)
        if cfg.rootless:
            _inside_namespace(uids, "--uidmap", 2)
            _inside_namespace(gids, "--gidmap", 3)
        return rs.record(cid, _split(uids, cfg), _split(gids, cfg))
    _need_builtin(store, cid)
    kv = dict(p.partition("=")[::2] for p in opts.userns.partition(":")[2].split(",") if p)
    extra_u = _parse_pins(kv.get("uidmapping", ""), "uidmapping")
    extra_g = _parse_pins(kv.get("gidmapping", ""), "gidmapping")
    size = int(kv["size"]) if kv.get("size") else max(MIN_SIZE, min(MAX_SIZE, image_id_size(store, image)))
    if size < 1:
        raise InvalidArgument("--userns=auto: size must be at least 1")
    holes_u, holes_g = _holes(size, extra_u), _holes(size, extra_g)
    need = max(sum(n for _, n in holes_u), sum(n for _, n in holes_g), 1)
    upool, gpool = pools(cfg)

    def place(ustart: int, gstart: int) -> tuple[Maps, Maps]:
        return (_split(sorted(extra_u + _fill(holes_u, ustart)), cfg),
                _split(sorted(extra_g + _fill(holes_g, gstart)), cfg))

    return rs.record(cid, [], [], auto_size=need, uid_pool=upool, gid_pool=gpool, place=place,
                     uid_reserved=[(h, n) for _, h, n in extra_u],  # the block never overlaps a pin
                     gid_reserved=[(h, n) for _, h, n in extra_g])


def _inside_namespace(maps: Maps, flag: str, which: int) -> None:
    """Rootless host ids are ids of Hull's namespace (as Podman's): they must exist there."""
    from engine.services.container_spec import _ns_sizes

    size = _ns_sizes()[which]
    for c, h, n in maps:
        if h + n > size:
            raise InvalidArgument(f"{flag} {c}:{h}:{n}: rootless, host ids are ids of the user namespace "
                                  f"(0..{size - 1}: you and your /etc/subuid range)")


def _need_builtin(store: Any, cid: str) -> None:
    """crun/runc would walk the store's 0700 directories as the mapped root (Podman
    opens them up for that; Hull does not, see docs/security.md): built-in runtime only."""
    runtime = store.containers.get(cid).runtime
    if runtime not in ("", "builtin", "hull"):
        raise InvalidArgument(f"--userns=auto and --uidmap/--gidmap maps that leave out the storage owner's "
                              f"id 0 need the built-in runtime, not {os.path.basename(runtime)}")


def _parse_pins(text: str, key: str) -> Maps:
    out: Maps = []
    for item in [t for t in text.split(";") if t]:  # Podman: repeat the key, or ';' between
        fields = item.split(":")
        if len(fields) != 3 or not all(f.isdigit() for f in fields) or int(fields[2]) < 1:
            raise InvalidArgument(f"invalid {key} for --userns=auto: \"{item}\" (want CONTAINER:HOST:SIZE)")
        out.append((int(fields[0]), int(fields[1]), int(fields[2])))
    return out


def _holes(size: int, pinned: Maps) -> list[tuple[int, int]]:
    """Container ids 0..size-1 not covered by `pinned`: (start, count) runs."""
    out, pos = [], 0
    for c, _, n in sorted(pinned):
        if c > pos:
            out.append((pos, min(c, size) - pos))
        pos = max(pos, c + n)
        if pos >= size:
            break
    if pos < size:
        out.append((pos, size - pos))
    return [(s, n) for s, n in out if n > 0]


def _fill(holes: list[tuple[int, int]], start: int) -> Maps:
    out, host = [], start
    for c, n in holes:
        out.append((c, host, n))
        host += n
    return out


def _split(maps: Maps, cfg: Any) -> Maps:
    """Rootless, Hull's namespace maps 0 and 1.. from two host extents: a child extent
    crossing id 1 is split (the kernel wants each inside one parent extent)."""
    if not cfg.rootless:
        return maps
    out: Maps = []
    for c, h, n in maps:
        if h < 1 < h + n:
            out += [(c, h, 1 - h), (c + 1 - h, 1, n - (1 - h))]
        else:
            out.append((c, h, n))
    return out


def pools(cfg: Any) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(uid pool, gid pool) as (start, size) extents, in the ids the maps use."""
    if cfg.rootless:
        from engine.services.container_spec import _ns_sizes

        _, _, usize, gsize = _ns_sizes()
        if usize < 2 or gsize < 2:
            raise InvalidArgument("--userns=auto needs a subordinate id range (/etc/subuid, /etc/subgid)")
        return [(1, usize - 1)], [(1, gsize - 1)]
    upool, gpool = _subid_ranges("/etc/subuid", ROOT_AUTO_USER), _subid_ranges("/etc/subgid", ROOT_AUTO_USER)
    if upool and gpool:
        return upool, gpool
    top = max([s + n for s, n in _subid_ranges("/etc/subuid") + _subid_ranges("/etc/subgid")] + [POOL_FLOOR])
    start = -(-top // 65536) * 65536
    if start >= POOL_END:
        raise InvalidArgument("--userns=auto: no free id range above /etc/subuid's")
    return [(start, POOL_END - start)], [(start, POOL_END - start)]


def _subid_ranges(path: str, user: str | None = None) -> list[tuple[int, int]]:
    out = []
    try:
        with open(path) as f:
            for line in f:
                fields = line.strip().split(":")
                if len(fields) == 3 and fields[1].isdigit() and fields[2].isdigit():
                    if user is None or fields[0] == user:
                        out.append((int(fields[1]), int(fields[2])))
    except OSError:
        pass
    return out


def image_id_size(store: Any, image: Any) -> int:
    """The image's highest uid or gid + 1: from /etc/passwd and /etc/group (the top
    layer that has them) and the owners of its layers' files."""
    top = 0
    layers = [store.layers.diff_path(chain) for chain in reversed(image.layers)] if image else []
    for name, fields in (("passwd", (2, 3)), ("group", (2,))):
        for diff in layers:
            text = _read_small(diff / "etc" / name)
            if text is None:
                continue
            for line in text.splitlines():
                parts = line.split(":")
                if parts[0] in ("nobody", "nogroup"):  # as Podman: else most images want 65536 ids
                    continue
                for i in fields:  # nobody's 65534 (a primary group of system users too) left out
                    if len(parts) > i and parts[i].isdigit() and int(parts[i]) != NOBODY:
                        top = max(top, int(parts[i]))
            break
    seen = 0
    for diff in layers:
        stack = [str(diff)]
        while stack and seen < MAX_SCAN_ENTRIES:
            try:
                it = os.scandir(stack.pop())
            except OSError:
                continue
            with it:
                for entry in it:
                    seen += 1
                    try:
                        st = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    top = max(top, st.st_uid, st.st_gid)
                    if stat.S_ISDIR(st.st_mode):
                        stack.append(entry.path)
    return top + 1


def _read_small(path: Path) -> str | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return os.read(fd, 1 << 20).decode("utf-8", "replace")
    finally:
        os.close(fd)


# ------------------------------------------------------------------------- rootfs owners

def is_identity(maps: Maps) -> bool:
    return all(c == h for c, h, _ in maps)


def _shift(maps: Maps, i: int) -> int | None:
    for c, h, n in maps:
        if c <= i < c + n:
            return h + i - c
    return None


@contextlib.contextmanager
def owned_lowers(store: Any, c: Any, lowers: list[Path]) -> Iterator[list[Path]]:
    """`lowers` as the container must see them (see the module doc); the upper and
    work dirs are chowned to the container's root."""
    r = ranges(store).get(c.id)
    if r is None or (is_identity(r.uid_maps) and is_identity(r.gid_maps)):
        yield lowers
        return
    cs = store.containers
    uid0, gid0 = _shift(r.uid_maps, 0), _shift(r.gid_maps, 0)
    for d in (cs.upper(c.id), cs.work(c.id)):
        st = os.lstat(d)
        if (st.st_uid, st.st_gid) != (uid0, gid0) and uid0 is not None and gid0 is not None:
            os.chown(d, uid0, gid0)
    if store.cfg.rootless:
        yield _chowned_copy(store, c, r, lowers)
        return
    with _idmapped(store, c, r, lowers) as mapped:
        yield mapped


@contextlib.contextmanager
def _idmapped(store: Any, c: Any, r: IDRanges, lowers: list[Path]) -> Iterator[list[Path]]:
    """Idmapped clones of the lowers, attached under {run}/idmap/N while overlayfs is
    mounted on them (it keeps private clones), detached afterwards."""
    from engine.runtime.idmapped import idmapped_clone, userns_fd
    from engine.runtime.syscalls import MNT_DETACH, SYSCALLS

    base = store.containers.run_dir(c.id) / "idmap"
    base.mkdir(mode=0o700, parents=True, exist_ok=True)
    ns = userns_fd(r.uid_maps, r.gid_maps)
    attached: list[Path] = []
    try:
        for i, lower in enumerate(lowers):
            point = base / str(i)
            point.mkdir(exist_ok=True)
            fd = idmapped_clone(lower, ns)
            try:
                SYSCALLS.move_mount_fd(fd, str(point))
            finally:
                os.close(fd)
            attached.append(point)
        yield attached
    finally:
        os.close(ns)
        for point in attached:
            try:
                SYSCALLS.umount2(str(point), MNT_DETACH)
                point.rmdir()
            except (HullError, OSError):
                pass


def copy_key(image_id: str, r: IDRanges) -> str:
    doc = json.dumps([image_id, r.uid_maps, r.gid_maps])
    import hashlib  # only for --userns auto/--uidmap: not on every run's import path

    return hashlib.sha256(doc.encode()).hexdigest()[:32]


def _copies_dir(store: Any) -> Path:
    return Path(store.cfg.root) / "idmapped"


def _chowned_copy(store: Any, c: Any, r: IDRanges, lowers: list[Path]) -> list[Path]:
    from engine.store.locks import file_lock
    from engine.store.rmtree import remove_tree

    key = copy_key(c.image_id or "", r)
    if r.copy_key != key:
        ranges(store).set_copy_key(c.id, key)  # before building: prune_copies keeps it
    top = _copies_dir(store)
    top.mkdir(mode=0o700, exist_ok=True)
    final = top / key
    with file_lock(store.cfg.locks_dir / f"idmapped-{key}.lock"):
        if not final.is_dir():
            tmp = top / f".tmp-{key}"
            remove_tree(tmp)
            tmp.mkdir(mode=0o700)
            for i, lower in enumerate(lowers):
                (tmp / str(i)).mkdir()
                shifted_copy(lower, tmp / str(i), r.uid_maps, r.gid_maps)
            os.rename(tmp, final)
    return [final / str(i) for i in range(len(lowers))]


def prune_copies(store: Any) -> None:
    """Remove the chowned layer copies no container uses any more."""
    from engine.store.locks import file_lock
    from engine.store.rmtree import remove_tree

    top = _copies_dir(store)
    try:
        names = os.listdir(top)
    except OSError:
        return
    if not names:
        return
    used = ranges(store).copy_keys_in_use()
    for name in names:
        key = name.removeprefix(".tmp-")  # a build that died half-way leaves .tmp-<key>
        if name == key and key in used:
            continue
        with file_lock(store.cfg.locks_dir / f"idmapped-{key}.lock", blocking=False) as held:
            if held and (name != key or key not in ranges(store).copy_keys_in_use()):
                remove_tree(top / name)


def shifted_copy(src: Path, dest: Path, uid_maps: Maps, gid_maps: Maps) -> None:
    """Copy the layer tree `src` into the empty dir `dest`: types, modes, times,
    hardlinks, xattrs (overlay's opaque marks included) and whiteouts, with each owner
    moved through the maps (ids outside them are kept).  Never follows a link."""
    def own(path: str, st: os.stat_result, link: bool = False) -> None:
        uid = _shift(uid_maps, st.st_uid)
        gid = _shift(gid_maps, st.st_gid)
        os.chown(path, st.st_uid if uid is None else uid, st.st_gid if gid is None else gid,
                 follow_symlinks=False)
        if not link:
            os.chmod(path, stat.S_IMODE(st.st_mode))  # after chown, which clears setuid bits
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)

    def xattrs(s: str, d: str) -> None:
        try:
            names = os.listxattr(s, follow_symlinks=False)
        except OSError:
            return
        for name in names:
            try:
                os.setxattr(d, name, os.getxattr(s, name, follow_symlinks=False), follow_symlinks=False)
            except OSError:
                continue

    src_s, links = str(src), {}
    dirs: list[tuple[str, os.stat_result]] = [(str(dest), os.lstat(src_s))]
    xattrs(src_s, str(dest))
    for dirpath, dirnames, filenames in os.walk(src_s, followlinks=False):
        rel = os.path.relpath(dirpath, src_s)
        out_dir = str(dest) if rel == "." else os.path.join(dest, rel)
        for name in dirnames + filenames:
            s, d = os.path.join(dirpath, name), os.path.join(out_dir, name)
            st = os.lstat(s)
            mode = st.st_mode
            if stat.S_ISDIR(mode):
                os.mkdir(d, 0o700)
                xattrs(s, d)
                dirs.append((d, st))
                continue
            key = (st.st_dev, st.st_ino)
            if st.st_nlink > 1 and key in links:
                os.link(links[key], d)
                continue
            if stat.S_ISLNK(mode):
                os.symlink(os.readlink(s), d)
                own(d, st, link=True)
            elif stat.S_ISREG(mode):
                _copy_file(s, d)
                xattrs(s, d)
                own(d, st)
            elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode):
                try:
                    os.mknod(d, mode, st.st_rdev)  # whiteouts (0/0) are allowed in a user namespace
                except OSError as exc:
                    raise StorageError(f"copying layer for the container's id mapping: {s}: {exc.strerror}") from None
                own(d, st)
            else:
                continue
            if st.st_nlink > 1:
                links[key] = d
    for d, st in reversed(dirs):  # times last: filling a directory changed them
        own(d, st)


def _copy_file(src: str, dst: str) -> None:
    fd_in = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        fd_out = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            size = os.fstat(fd_in).st_size
            copied = 0
            while copied < size:  # copy_file_range: reflinks/in-kernel copy where possible
                n = os.copy_file_range(fd_in, fd_out, size - copied)
                if n == 0:
                    break
                copied += n
        finally:
            os.close(fd_out)
    finally:
        os.close(fd_in)


# ------------------------------------------------------------------------- userdata

def chown_userdata(store: Any, cid: str, spec: dict | None = None) -> None:
    """The generated files to the container's root; named volumes never used yet (empty,
    plain local ones without -o uid=) to the container's user, as Podman does."""
    r = ranges(store).get(cid)
    if r is None:
        return
    uid0, gid0 = _shift(r.uid_maps, 0), _shift(r.gid_maps, 0)
    if uid0 is None or gid0 is None:
        return
    userdata = store.containers.userdata(cid)
    for name in ("hostname", "hosts", "resolv.conf", ".containerenv"):
        try:
            os.chown(userdata / name, uid0, gid0, follow_symlinks=False)
        except FileNotFoundError:
            continue
    user = ((spec or {}).get("process") or {}).get("user") or {}
    uid, gid = _shift(r.uid_maps, int(user.get("uid", 0))), _shift(r.gid_maps, int(user.get("gid", 0)))
    if uid is None or gid is None:
        return
    for name, _ in store.volumes.of_container(cid):
        vol = store.volumes.get(name)
        if not vol.needs_copy_up or vol.bind_device or vol.needs_mount or vol.uid is not None or vol.gid is not None:
            continue
        try:
            if not os.listdir(vol.mountpoint):
                os.chown(vol.mountpoint, uid, gid, follow_symlinks=False)
        except OSError:
            continue


def unshift(store: Any, cid: str):
    """`(uid, gid) -> (uid, gid)` from host ids back to the container's (ids outside its
    maps kept), or None when the container has no maps of its own."""
    r = ranges(store).get(cid)
    if r is None or (is_identity(r.uid_maps) and is_identity(r.gid_maps)):
        return None
    back_u = [(h, c, n) for c, h, n in r.uid_maps]
    back_g = [(h, c, n) for c, h, n in r.gid_maps]

    def mapped(uid: int, gid: int) -> tuple[int, int]:
        u, g = _shift(back_u, uid), _shift(back_g, gid)
        return (uid if u is None else u, gid if g is None else g)
    return mapped


def shift(store: Any, cid: str):
    """`(uid, gid) -> (uid, gid)` from container ids to host ids (ids outside the maps
    kept), or None when the container has no maps of its own."""
    r = ranges(store).get(cid)
    if r is None or (is_identity(r.uid_maps) and is_identity(r.gid_maps)):
        return None

    def mapped(uid: int, gid: int) -> tuple[int, int]:
        u, g = _shift(r.uid_maps, uid), _shift(r.gid_maps, gid)
        return (uid if u is None else u, gid if g is None else g)
    return mapped


def root_ids(store: Any, cid: str) -> tuple[int, int]:
    """The host (rootless: namespace) uid and gid of the container's root: 0, 0 unless
    it has maps of its own."""
    r = ranges(store).get(cid)
    if r is None:
        return 0, 0
    uid, gid = _shift(r.uid_maps, 0), _shift(r.gid_maps, 0)
    return (0 if uid is None else uid, 0 if gid is None else gid)


def spec_maps(store: Any, cid: str) -> tuple[Any, Any]:
    """(uid_maps, gid_maps) as engine.spec IDMapping lists for SpecContext, or (None, None)."""
    r = ranges(store).get(cid)
    if r is None:
        return None, None
    from engine.spec.options import IDMapping

    return ([IDMapping(c, h, n) for c, h, n in r.uid_maps], [IDMapping(c, h, n) for c, h, n in r.gid_maps])
