"""Image services: the one facade the CLI, the REST API and the console call.

Local operations (list, lookup, tag, untag, remove, prune) live here; bigger
ones in their own modules and are re-exported at the bottom: inspect, history
and tree in image_inspect.py, pull/push in image_registry.py, save/load/import
in image_archive.py, mount/unmount in image_mount.py.

Lookups follow Podman: an exact (normalised) name, then an ID or a unique ID
prefix, then for a short name any image whose repository ends with that path
(`busybox` finds `localhost:5000/busybox:latest`).
"""

from __future__ import annotations

import fnmatch
from engine.record import Factory, Record
TYPE_CHECKING = False  # typing costs milliseconds to import: annotations only
if TYPE_CHECKING:
    from typing import Any

from engine.config import EngineConfig
from engine.errors import Conflict, HullError, ImageNotFound, InUse, InvalidArgument
from engine.services.common import enter_userns, full_id, id_hex, image_config, open_store, parse_time

LIST_FILTERS = ("dangling", "reference", "before", "since", "label", "id", "digest", "until", "readonly", "intermediate")
PRUNE_FILTERS = ("label", "until", "dangling")


# ---------------------------------------------------------------- results and options
class ImageSummary(Record):
    """One image as `images` lists it (names are full references)."""

    id: str  # sha256:<hex>
    names: list[str]
    digest: str
    created: float  # Unix seconds
    size: int
    labels: dict[str, str] = Factory(dict)
    containers: int = 0
    read_only: bool = False

    @property
    def dangling(self) -> bool:
        return not self.names

    @property
    def repo_digests(self) -> list[str]:
        repos = sorted({_split_name(n)[0] for n in self.names})
        return [f"{r}@{self.digest}" for r in repos] if self.digest else []


class ListOptions(Record):
    all: bool = False
    filters: dict[str, list[str]] = Factory(dict)
    reference: str | None = None  # the optional IMAGE argument of `images`
    with_labels: bool = False  # read each config (JSON and templates need labels)


class RemoveOptions(Record):
    force: bool = False
    all: bool = False
    ignore: bool = False


class RemoveReport(Record):
    untagged: list[str] = Factory(list)
    deleted: list[str] = Factory(list)
    errors: list[HullError] = Factory(list)

    @property
    def exit_code(self) -> int:
        """Podman's rmi: 1 when an image was not found, 2 when one is in use."""
        from engine.services.removal import removal_exit_code

        return removal_exit_code(self.errors, ImageNotFound, (InUse,))


class PruneOptions(Record):
    all: bool = False
    filters: dict[str, list[str]] = Factory(dict)


# ---------------------------------------------------------------- lookup
def _split_name(name: str) -> tuple[str, str]:
    """`reg/repo:tag` -> (`reg/repo`, `tag`); a digest name keeps '' as tag."""
    if "@" in name:
        return name.partition("@")[0], ""
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        return name[:colon], name[colon + 1 :]
    return name, ""


def _is_hex(text: str) -> bool:
    return bool(text) and all(c in "0123456789abcdef" for c in text)


def find_image(store: Any, text: str, images: list | None = None) -> Any:
    """Resolve a name, ID or ID prefix to a stored image; ImageNotFound otherwise."""
    from engine.oci.reference import is_fully_qualified, parse_reference

    images = store.images.list() if images is None else images
    bare = text[len("sha256:"):] if text.startswith("sha256:") else text
    ref = None
    try:
        ref = parse_reference(text)
    except InvalidArgument:
        if not _is_hex(bare):
            raise ImageNotFound(f"{text}: image not known") from None
    if ref is not None:
        wanted = str(ref)
        for image in images:
            if wanted in image.names or (ref.digest and ref.digest == image.digest
                                         and any(_split_name(n)[0] == ref.name for n in image.names)):
                return image
    if _is_hex(bare) and len(bare) >= 3:
        matches = [i for i in images if id_hex(i.id).startswith(bare)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise InvalidArgument(f"{text}: image ID prefix is ambiguous")
    if ref is not None and not is_fully_qualified(text):
        short_path = _split_name(text.partition("@")[0])[0]
        for image in images:
            for name in image.names:
                repo, tag = _split_name(name)
                if not (repo.endswith("/" + short_path) or repo == short_path):
                    continue
                if ref.digest and ref.digest == image.digest:
                    return image
                if ref.tag and tag == ref.tag:
                    return image
    raise ImageNotFound(f"{text}: image not known")


def exists(cfg: EngineConfig, name: str) -> bool:
    try:
        find_image(open_store(cfg), name)
        return True
    except ImageNotFound:
        return False


def normalize_new_name(text: str) -> str:
    """A name for `tag`: unqualified names go to localhost/, as Podman does."""
    from engine.oci.reference import is_fully_qualified, parse_reference

    ref = parse_reference(text)
    if ref.digest:
        raise InvalidArgument(f"{text}: tag by digest is not supported")
    if not is_fully_qualified(text):
        ref = parse_reference("localhost/" + text)
    return str(ref)


# ---------------------------------------------------------------- list
def _summary(store: Any, image: Any, with_labels: bool) -> ImageSummary:
    labels: dict[str, str] = {}
    if with_labels:
        labels = (image_config(store, image).get("config") or {}).get("Labels") or {}
    return ImageSummary(
        id=full_id(image.id),
        names=list(image.names),
        digest=image.digest or "",
        created=parse_time(image.created) or parse_time(getattr(image, "stored", 0)),
        size=int(image.size or 0),
        labels=dict(labels),
    )


def list_images(cfg: EngineConfig, opts: ListOptions) -> list[ImageSummary]:
    """Images, newest first, after `--filter`s (each key ANDed, values of one key ORed)."""
    store = open_store(cfg)
    images = store.images.list()
    needs_labels = opts.with_labels or "label" in opts.filters
    summaries = [_summary(store, i, needs_labels) for i in images]
    for key in opts.filters:
        if key not in LIST_FILTERS:
            raise InvalidArgument(f"unsupported image filter {key!r}")
    filters = dict(opts.filters)
    if not opts.all:  # as Podman: without -a, the build's intermediate images are hidden
        filters.setdefault("intermediate", ["false"])
    wanted = filters.pop("intermediate", None)
    if wanted:
        from engine.services.image_tree import intermediate_ids

        inter = {full_id(i) for i in intermediate_ids(store, images)}
        summaries = [s for s in summaries if any(_bool(v, "intermediate") == (s.id in inter) for v in wanted)]
    result = [s for s in summaries if _matches(store, s, filters, images)]
    if opts.reference:
        result = [s for s in result if _reference_match(s, [opts.reference])]
    result.sort(key=lambda s: s.created, reverse=True)
    return result


def _reference_match(s: ImageSummary, patterns: list[str]) -> bool:
    for pattern in patterns:
        for name in s.names:
            repo, tag = _split_name(name)
            short = repo.split("/", 1)[1] if "/" in repo else repo
            candidates = (name, repo, short, f"{short}:{tag}", repo.rsplit("/", 1)[-1],
                          f"{repo.rsplit('/', 1)[-1]}:{tag}")
            if any(fnmatch.fnmatchcase(c, pattern) for c in candidates):
                return True
    return False


def _label_match(labels: dict[str, str], spec: str) -> bool:
    key, eq, value = spec.partition("=")
    if key not in labels:
        return False
    return not eq or labels[key] == value


def _parse_until(value: str) -> float:
    """`until=` takes a timestamp (RFC 3339 or Unix seconds) or a Go duration ago."""
    import time

    text = value.strip()
    try:
        return float(text)
    except ValueError:
        pass
    units = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
    total, number, i = 0.0, "", 0
    while i < len(text):
        ch = text[i]
        if ch.isdigit() or ch == ".":
            number += ch
            i += 1
            continue
        unit = text[i : i + 2] if text[i : i + 2] in units else ch
        if unit not in units or not number:
            total = -1
            break
        total += float(number) * units[unit]
        number, i = "", i + len(unit)
    if total >= 0 and not number:
        return time.time() - total
    ts = parse_time(text)
    if not ts:
        raise InvalidArgument(f"invalid until filter value {value!r}")
    return ts


def _bool(value: str, key: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise InvalidArgument(f"invalid {key} filter value {value!r}: must be true or false")


def _filter_one(store: Any, s: ImageSummary, key: str, values: list[str], images: list) -> bool:
    if key == "dangling":
        return any(_bool(v, key) == s.dangling for v in values)
    if key == "reference":
        return _reference_match(s, values)
    if key in ("before", "since"):
        for v in values:
            other = find_image(store, v, images)
            ts = parse_time(other.created)
            if (key == "before" and s.created < ts) or (key == "since" and s.created > ts):
                return True
        return False
    if key == "label":
        return any(_label_match(s.labels, v) for v in values)
    if key == "id":
        return any(id_hex(s.id).startswith(id_hex(v)) for v in values)
    if key == "digest":
        return any(s.digest == v for v in values)
    if key == "until":
        return any(s.created < _parse_until(v) for v in values)
    if key == "readonly":
        return any(_bool(v, key) == s.read_only for v in values)
    if key == "intermediate":
        return any(_bool(v, key) is False for v in values)  # no intermediate images yet
    raise InvalidArgument(f"unsupported image filter {key!r}")


def _matches(store: Any, s: ImageSummary, filters: dict[str, list[str]], images: list) -> bool:
    return all(_filter_one(store, s, k, v, images) for k, v in filters.items())


# ---------------------------------------------------------------- tag / untag
def tag(cfg: EngineConfig, source: str, targets: list[str]) -> str:
    """Add names; returns the image ID."""
    names = [normalize_new_name(t) for t in targets]
    store = open_store(cfg)
    image = find_image(store, source)
    for name in names:
        store.images.tag(image.id, name)
        _event(cfg, "tag", image.id, name)
    return full_id(image.id)


def _event(cfg: EngineConfig, action: str, image_id: str, name: str = "") -> None:
    """An image event (Podman's: pull, push, tag, untag, remove, load) for `hull events` and the console."""
    from engine.services.events import emit

    emit(cfg, "image", action, id=id_hex(image_id), name=name)


def _match_own_name(image: Any, text: str) -> str | None:
    from engine.oci.reference import is_fully_qualified, parse_reference

    ref = parse_reference(text)
    tries = [str(ref)]
    if not is_fully_qualified(text):
        tries.insert(0, str(parse_reference("localhost/" + text)))
    for name in tries:
        if name in image.names:
            return name
    if not is_fully_qualified(text):
        short_path = _split_name(text)[0]
        for name in image.names:
            repo, tag_ = _split_name(name)
            if (repo.endswith("/" + short_path)) and tag_ == (ref.tag or "latest"):
                return name
    return None


def untag(cfg: EngineConfig, source: str, names: list[str]) -> list[str]:
    """Remove the given names (all names when none given); returns those removed."""
    store = open_store(cfg)
    image = find_image(store, source)
    if not names:
        removed = list(image.names)
    else:
        removed = []
        for text in names:
            match = _match_own_name(image, text)
            if match is None:
                from engine.oci.reference import is_fully_qualified, parse_reference

                shown = str(parse_reference(text if is_fully_qualified(text) else "localhost/" + text))
                raise ImageNotFound(f"{shown}: tag not known")
            removed.append(match)
    for name in removed:
        store.images.untag(image.id, name)
        _event(cfg, "untag", image.id, name)
    return removed


# ---------------------------------------------------------------- remove / prune
def _delete_image(store: Any, image: Any, force: bool = False) -> None:
    """Remove the image (InUse while a container uses it, unless `force`)."""
    if force:
        _remove_users(store, image)
    store.images.remove(image.id)
    _collect_garbage(store)


def _collect_garbage(store: Any) -> None:
    """Free layers and blobs no image references any more (engine/store/gc.py)."""
    store.gc()


def remove(cfg: EngineConfig, names: list[str], opts: RemoveOptions) -> RemoveReport:
    """`rmi`: a name removes that name (and the image with its last one); an ID
    removes the image, which needs --force when it has several names."""
    if opts.all and names:
        raise InvalidArgument("when using the --all switch, you may not pass any images names or IDs")
    if not opts.all and not names:
        raise InvalidArgument("image name or ID must be specified")
    enter_userns(cfg)
    store = open_store(cfg)
    store.cleanup()
    report = RemoveReport()
    if opts.all:
        for image in store.images.list():
            try:
                _delete_image(store, image, opts.force)
            except HullError as err:  # in use without --force: reported, exit 2
                report.errors.append(err)
                continue
            report.untagged.extend(image.names)
            report.deleted.append(id_hex(image.id))
            _event(cfg, "remove", image.id, image.names[0] if image.names else "")
        return report
    for text in names:
        try:
            _remove_one(store, text, opts, report)
        except ImageNotFound as err:
            if not opts.ignore:
                report.errors.append(err)
        except HullError as err:
            report.errors.append(err)
    return report


def _remove_one(store: Any, text: str, opts: RemoveOptions, report: RemoveReport) -> None:
    images = store.images.list()
    image = find_image(store, text, images)
    by_id = _is_hex(text.removeprefix("sha256:")) and id_hex(image.id).startswith(text.removeprefix("sha256:")) \
        and not any(n == text for n in image.names)
    if not by_id and len(image.names) > 1:  # a name of several is untagged, -f or not (libimage)
        name = _match_own_name(image, text) or text
        store.images.untag(image.id, name)
        report.untagged.append(name)
        _event(store.cfg, "untag", image.id, name)
        return
    if by_id and len(image.names) > 1 and not opts.force:
        raise Conflict(
            f'unable to delete image "{id_hex(image.id)}" by ID with more than one tag '
            f"([{' '.join(image.names)}]): please force removal"
        )
    _delete_image(store, image, opts.force)
    report.untagged.extend(image.names)
    report.deleted.append(id_hex(image.id))
    _event(store.cfg, "remove", image.id, image.names[0] if image.names else "")


def _remove_users(store: Any, image: Any) -> None:
    """`rmi -f`: Podman removes (stopping first) the containers using the image."""
    users = [c.id for c in store.containers.using_image(image.id)]
    if users:
        from engine.services import containers

        containers.remove(store.cfg, users, containers.RmOptions(force=True))


def prune(cfg: EngineConfig, opts: PruneOptions) -> list[str]:
    """Remove dangling images (all unused ones with `all`); returns deleted IDs."""
    for key in opts.filters:
        if key not in PRUNE_FILTERS:
            raise InvalidArgument(f"unsupported image filter {key!r}")
    enter_userns(cfg)
    store = open_store(cfg)
    images = store.images.list()
    deleted: list[str] = []
    for image in images:
        if image.names and not opts.all:
            continue
        if store.containers.using_image(image.id):
            continue  # Podman prunes only images no container uses
        needs_labels = "label" in opts.filters
        summary = _summary(store, image, needs_labels)
        if not _matches(store, summary, opts.filters, images):
            continue
        store.images.remove(image.id)
        deleted.append(id_hex(image.id))
        _event(cfg, "remove", image.id, image.names[0] if image.names else "")
    if deleted:
        _collect_garbage(store)
    return deleted


# ---------------------------------------------------------------- the rest of the facade
def __getattr__(name: str) -> Any:
    """Re-export the bigger services without importing them for `images`."""
    homes = {
        "inspect": "engine.services.image_inspect",
        "history": "engine.services.image_inspect",
        "tree": "engine.services.image_inspect",
        "HistoryEntry": "engine.services.image_inspect",
        "pull": "engine.services.image_registry",
        "push": "engine.services.image_registry",
        "PullOptions": "engine.services.image_registry",
        "PushOptions": "engine.services.image_registry",
        "parse_creds": "engine.services.image_registry",
        "LoadResult": "engine.services.image_archive",
        "mounted": "engine.services.image_mount",
        "save": "engine.services.image_archive",
        "load": "engine.services.image_archive",
        "import_": "engine.services.image_archive",
        "SaveOptions": "engine.services.image_archive",
        "ImportOptions": "engine.services.image_archive",
        "mount": "engine.services.image_mount",
        "unmount": "engine.services.image_mount",
    }
    if name in homes:
        import importlib

        return getattr(importlib.import_module(homes[name]), name)
    raise AttributeError(name)
