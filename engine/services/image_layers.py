"""An image's layers as file trees, for the console's image browser (dive's model).

Each layer's stored blob (compressed or not) is read as a stream through
engine/archive (open_decompressed + TarReader): nothing is extracted to disk.
A layer becomes a table path -> FileInfo; OCI whiteouts (`.wh.NAME`, and the
opaque marker `.wh..wh..opq`) become "removed" entries.  On top of that:

- `diff(i)`: layer i against the stack 0..i-1: each entry added, modified,
  unmodified (same type, mode, owner, link and content hash) or removed;
- `merged(i)`: the file system of layers 0..i, each path with the layer that
  last wrote it (the "aggregated" view of dive, Ctrl+A);
- `efficiency()`: dive's score (filetree/efficiency.go): per path, the sizes it
  takes in every layer that touches it (a whiteout counts the subtree it hides)
  summed, and the smallest of them kept; score = sum(min) / sum(all); paths in
  two or more layers are the inefficiencies, and their total is the wasted space;
- `open_file(i, path)`: the content of one file of layer i, streamed.

Paths are shown as text: bytes that are not UTF-8 appear as `\\xNN` escapes.
"""

from __future__ import annotations

import hashlib
import posixpath
import stat
from dataclasses import dataclass, field
from typing import Any, Iterator

from engine.config import EngineConfig
from engine.errors import NotFound, StorageError

MAX_ENTRIES = 500_000       # per image: enough for any real image, bounded for a hostile one
KIND = {b"0": "file", b"\0": "file", b"7": "file", b"S": "file", b"1": "hardlink", b"2": "symlink",
        b"3": "char", b"4": "block", b"5": "dir", b"6": "fifo"}
TYPE_BITS = {"file": stat.S_IFREG, "hardlink": stat.S_IFREG, "symlink": stat.S_IFLNK, "char": stat.S_IFCHR,
             "block": stat.S_IFBLK, "dir": stat.S_IFDIR, "fifo": stat.S_IFIFO}


def show(raw: bytes) -> str:
    return raw.decode("utf-8", "backslashreplace")


def norm(raw: bytes) -> str:
    """A tar member name as an absolute, normalized path ("/" for the root)."""
    text = posixpath.normpath("/" + show(raw).lstrip("/"))
    return "/" if text in ("/", "//") else text.rstrip("/") or "/"


@dataclass(slots=True)
class FileInfo:
    path: str
    kind: str                # file dir symlink hardlink char block fifo whiteout opaque
    size: int = 0
    mode: int = 0            # permission bits (and setuid/setgid/sticky)
    uid: int = 0
    gid: int = 0
    link: str = ""           # symlink target or hard link source
    digest: bytes = b""      # content hash of regular files (modified vs unmodified)

    def same(self, other: "FileInfo") -> bool:
        return (self.kind, self.size, self.mode, self.uid, self.gid, self.link, self.digest) == (
            other.kind, other.size, other.mode, other.uid, other.gid, other.link, other.digest)

    @property
    def mode_text(self) -> str:
        return stat.filemode(TYPE_BITS.get(self.kind, 0) | self.mode)


@dataclass
class Layer:
    index: int
    chain_id: str
    diff_id: str
    blob: str
    size: int                 # the store's size of the layer
    command: str
    created: str
    files: dict[str, FileInfo] = field(default_factory=dict)

    @property
    def files_size(self) -> int:
        return sum(f.size for f in self.files.values() if f.kind == "file")


@dataclass
class Row:
    """One path in a view: its info, what the chosen layer did to it, who wrote it."""

    info: FileInfo
    status: str               # added modified unmodified removed
    layer: int                # the layer whose blob holds its data (for view/download)
    below: bool = False       # a directory with changes somewhere under it


@dataclass
class Inefficiency:
    path: str
    count: int
    total: int


@dataclass
class Efficiency:
    score: float
    wasted: int
    user_wasted_percent: float
    paths: list[Inefficiency]


# -- reading layers --------------------------------------------------------------------------------
def _open_tar(store: Any, blob: str) -> tuple[Any, Any]:
    from engine.archive.compression import open_decompressed
    from engine.archive.tarstream import TarReader
    from engine.archive.limits import DEFAULT_LIMITS

    if not blob or not store.blobs.has(blob):
        raise StorageError(f"the blob of layer {blob or '?'} is not stored: cannot browse it")
    fh = store.blobs.open(blob)
    return fh, TarReader(open_decompressed(fh, DEFAULT_LIMITS), DEFAULT_LIMITS)


def read_layer(store: Any, blob: str) -> dict[str, FileInfo]:
    fh, tar = _open_tar(store, blob)
    files: dict[str, FileInfo] = {}
    try:
        while (entry := tar.next()) is not None:
            path = norm(entry.name)
            if path == "/":
                continue
            parent, base = posixpath.split(path)
            if base.startswith(".wh."):
                if base == ".wh..wh..opq":
                    files[parent + "/.wh..wh..opq" if parent != "/" else "/.wh..wh..opq"] = FileInfo(parent, "opaque")
                else:
                    target = posixpath.join(parent, base[4:])
                    files[target] = FileInfo(target, "whiteout")
                continue
            kind = KIND.get(entry.type, "file")
            info = FileInfo(path, kind, entry.real_size if entry.sparse is not None else entry.size,
                            entry.mode & 0o7777, entry.uid, entry.gid)
            if kind in ("symlink", "hardlink"):
                info.link = show(entry.linkname) if kind == "symlink" else norm(entry.linkname)
                info.size = 0
            if kind == "file":
                h = hashlib.blake2b(digest_size=16)
                for piece in tar.iter_data(entry):
                    h.update(piece)
                info.digest = h.digest()
            files[path] = info
            if len(files) > MAX_ENTRIES:
                raise StorageError(f"the layer has more than {MAX_ENTRIES} files: too many to browse")
    finally:
        fh.close()
    return files


def open_file(store: Any, blob: str, path: str) -> tuple[FileInfo, Iterator[bytes]]:
    """The file at `path` in the layer and an iterator over its content (close it when done)."""
    fh, tar = _open_tar(store, blob)

    def chunks(entry: Any) -> Iterator[bytes]:
        try:
            for piece in tar.iter_data(entry):
                yield bytes(piece)
        finally:
            fh.close()

    try:
        while (entry := tar.next()) is not None:
            if norm(entry.name) != path:
                continue
            kind = KIND.get(entry.type, "file")
            info = FileInfo(path, kind, entry.real_size if entry.sparse is not None else entry.size,
                            entry.mode & 0o7777, entry.uid, entry.gid, show(entry.linkname))
            if kind != "file":
                fh.close()
                return info, iter(())
            return info, chunks(entry)
    except BaseException:
        fh.close()
        raise
    fh.close()
    raise NotFound(f"{path}: no such file in this layer")


# -- the image --------------------------------------------------------------------------------------
class ImageFiles:
    """Every layer of one image, read once (the console keeps a few in memory)."""

    def __init__(self, cfg: EngineConfig, name: str) -> None:
        from engine.services.common import image_config, open_store
        from engine.services.images import find_image

        self.store = open_store(cfg)
        image = find_image(self.store, name)
        self.id = image.id
        self.names = list(image.names)
        config = image_config(self.store, image)
        steps = [h for h in (config.get("history") or []) if not h.get("empty_layer")]
        diff_ids = list((config.get("rootfs") or {}).get("diff_ids") or [])
        self.layers: list[Layer] = []
        total = 0
        for i, chain in enumerate(image.layers):
            record = self.store.layers.get(chain)
            step = steps[i] if i < len(steps) else {}
            blob = record.compressed_digest or record.diff_id
            if not self.store.blobs.has(blob) and self.store.blobs.has(record.diff_id):
                blob = record.diff_id
            layer = Layer(i, chain, diff_ids[i] if i < len(diff_ids) else record.diff_id, blob,
                          int(record.size or 0), str(step.get("created_by", "")), str(step.get("created", "")))
            layer.files = read_layer(self.store, blob)
            total += len(layer.files)
            if total > MAX_ENTRIES:
                raise StorageError(f"the image has more than {MAX_ENTRIES} files: too many to browse")
            self.layers.append(layer)
        self._stacks: dict[int, dict[str, tuple[FileInfo, int]]] = {}

    @property
    def size(self) -> int:
        return sum(layer.size for layer in self.layers)

    def layer(self, index: int) -> Layer:
        if not 0 <= index < len(self.layers):
            raise NotFound(f"the image has no layer {index}")
        return self.layers[index]

    # -- stacking ------------------------------------------------------------------------------
    def stack(self, upto: int) -> dict[str, tuple[FileInfo, int]]:
        """path -> (info, layer that wrote it) for layers 0..upto (-1: empty)."""
        if upto < 0:
            return {}
        if upto in self._stacks:
            return self._stacks[upto]
        tree = dict(self.stack(upto - 1))
        layer = self.layers[upto]
        removed = [f.path for f in layer.files.values() if f.kind in ("whiteout", "opaque")]
        if removed:
            for info in layer.files.values():
                if info.kind == "opaque":   # the directory's lower contents are hidden, not the directory
                    prefix = info.path.rstrip("/") + "/"
                    for p in [p for p in tree if p.startswith(prefix)]:
                        del tree[p]
                elif info.kind == "whiteout":
                    prefix = info.path + "/"
                    tree.pop(info.path, None)
                    for p in [p for p in tree if p.startswith(prefix)]:
                        del tree[p]
        for info in layer.files.values():
            if info.kind not in ("whiteout", "opaque"):
                tree[info.path] = (info, upto)
        self._stacks = {k: v for k, v in self._stacks.items() if k >= upto - 1}  # keep memory bounded
        self._stacks[upto] = tree
        return tree

    def _subtree_size(self, tree: dict[str, tuple[FileInfo, int]], path: str) -> int:
        prefix = path.rstrip("/") + "/"
        return sum(info.size for p, (info, _) in tree.items()
                   if info.kind == "file" and (p == path or p.startswith(prefix)))

    def _status(self, info: FileInfo, lower: dict[str, tuple[FileInfo, int]]) -> str:
        if info.kind in ("whiteout", "opaque"):
            return "removed"
        before = lower.get(info.path)
        if before is None:
            return "added"
        return "unmodified" if before[0].same(info) else "modified"

    def diff(self, index: int) -> dict[str, Row]:
        """Layer `index` alone: what it adds, changes and removes."""
        layer = self.layer(index)
        lower = self.stack(index - 1)
        rows: dict[str, Row] = {}
        for info in layer.files.values():
            if info.kind == "opaque":  # everything the lower layers had in there is hidden
                prefix = info.path.rstrip("/") + "/"
                for p, (old, origin) in lower.items():
                    if p.startswith(prefix) and p not in layer.files:
                        rows[p] = Row(old, "removed", origin)
                continue
            status = self._status(info, lower)
            if info.kind == "whiteout":
                before = lower.get(info.path)
                shown = FileInfo(info.path, before[0].kind if before else "whiteout",
                                 self._subtree_size(lower, info.path) if before else 0,
                                 before[0].mode if before else 0, before[0].uid if before else 0,
                                 before[0].gid if before else 0, before[0].link if before else "")
                rows[info.path] = Row(shown, "removed", before[1] if before else index)
            else:
                rows[info.path] = Row(info, status, index)
        return _with_parents(rows)

    def merged(self, index: int) -> dict[str, Row]:
        """Layers 0..index together, marked with what layer `index` did."""
        self.layer(index)
        changes = self.diff(index)
        rows = {p: Row(info, "unmodified", origin) for p, (info, origin) in self.stack(index).items()}
        for path, row in changes.items():
            if row.status != "unmodified" or path not in rows:
                rows[path] = row
        return _with_parents(rows)

    def efficiency(self) -> Efficiency:
        cumulative: dict[str, int] = {}
        smallest: dict[str, int] = {}
        count: dict[str, int] = {}
        for layer in self.layers:
            lower = self.stack(layer.index - 1)
            for info in layer.files.values():
                if info.kind == "opaque":
                    continue
                size = self._subtree_size(lower, info.path) if info.kind == "whiteout" else (
                    info.size if info.kind == "file" else 0)
                cumulative[info.path] = cumulative.get(info.path, 0) + size
                smallest[info.path] = min(smallest.get(info.path, size), size)
                count[info.path] = count.get(info.path, 0) + 1
        total = sum(cumulative.values())
        score = 1.0 if total == 0 else sum(smallest.values()) / total
        paths = [Inefficiency(p, n, cumulative[p]) for p, n in count.items() if n > 1 and cumulative[p] > 0]
        paths.sort(key=lambda x: (-x.total, x.path))
        wasted = sum(x.total for x in paths)
        user_size = sum(layer.size for layer in self.layers[1:])
        return Efficiency(score, wasted, 100.0 * wasted / user_size if user_size else 0.0, paths)


def _with_parents(rows: dict[str, Row]) -> dict[str, Row]:
    """Directories that only appear as parents get a row; directories above a
    change are flagged, so the tree can say where to look."""
    out = dict(rows)
    for path, row in rows.items():
        changed = row.status != "unmodified"
        parent = posixpath.dirname(path)
        while parent and parent != "/":
            existing = out.get(parent)
            if existing is None:
                out[parent] = existing = Row(FileInfo(parent, "dir", mode=0o755), "unmodified", row.layer)
            if changed:
                existing.below = True
            parent = posixpath.dirname(parent)
    return out


def children(rows: dict[str, Row], directory: str) -> list[Row]:
    """The entries directly in `directory`, directories first, then by name."""
    directory = directory.rstrip("/") or "/"
    out = [row for path, row in rows.items() if path != "/" and posixpath.dirname(path) == directory]
    out.sort(key=lambda r: (r.info.kind != "dir", r.info.path))
    return out


def dir_sizes(rows: dict[str, Row]) -> dict[str, int]:
    """Total size of the regular files under each directory of the view."""
    sizes: dict[str, int] = {}
    for path, row in rows.items():
        if row.info.kind != "file" or row.status == "removed":
            continue
        parent = posixpath.dirname(path)
        while True:
            sizes[parent] = sizes.get(parent, 0) + row.info.size
            if parent == "/":
                break
            parent = posixpath.dirname(parent)
    return sizes
