"""Manifest lists (`hull manifest ...`, the libpod /manifests routes): the facade.

A list is an image of the store whose manifest is an OCI index (see
engine/store/manifest_lists.py), so `images` lists it, `rmi` removes it and
`run LIST` runs the entry for the host platform (`resolve_instance`).  Entries
are images of this store (`containers-storage:`, or a bare name found here) or
images read from a registry (`docker://`, or a bare name not found here): a
remote entry is described from its manifest and config without pulling layers,
and `push --all` copies it within the registry.
"""

from __future__ import annotations

import json
import secrets
import sys
from datetime import datetime, timezone
from typing import Any, Callable

from engine.config import EngineConfig
from engine.errors import Conflict, ImageNotFound, InvalidArgument, NotFound
from engine.oci import mediatypes as mt
from engine.record import Factory, Record
from engine.services.common import enter_userns, id_hex, open_store
from engine.services.image_registry import RegistryOptions, parse_creds, registry_config

LOCAL = "containers-storage:"
REMOTE = "docker://"
FORMATS = {"oci": mt.OCI_INDEX, "v2s2": mt.DOCKER_MANIFEST_LIST}


class EntryOptions(Record):
    """What `add` and `annotate` may set on an entry (empty: leave as it is)."""

    annotations: dict[str, str] = Factory(dict)
    arch: str = ""
    os: str = ""
    variant: str = ""
    features: list[str] = Factory(list)
    os_version: str = ""


class CreateOptions(Record):
    all: bool = False
    amend: bool = False
    annotations: dict[str, str] = Factory(dict)
    registry: RegistryOptions = Factory(RegistryOptions)


class AddOptions(Record):
    all: bool = False
    entry: EntryOptions = Factory(EntryOptions)
    registry: RegistryOptions = Factory(RegistryOptions)


class PushOptions(Record):
    all: bool = True
    rm: bool = False
    format: str = ""  # "oci" | "v2s2" | "": as stored
    registry: RegistryOptions = Factory(RegistryOptions)
    progress: Callable[[str], None] | None = None  # one line of "Copying ..." text


# ---------------------------------------------------------------- the list document
def _is_list(image: Any) -> bool:
    return image.manifest_media_type in mt.INDEXES


def _find_list(store: Any, name: str) -> Any:
    from engine.services.images import find_image

    image = find_image(store, name)
    if not _is_list(image):
        raise InvalidArgument(f"{name}: image is not a manifest list")
    return image


def _document(store: Any, image: Any) -> dict[str, Any]:
    from engine.oci.manifest import MAX_MANIFEST_SIZE

    doc = json.loads(store.blobs.read_bytes(image.digest, MAX_MANIFEST_SIZE))
    doc["manifests"] = doc.get("manifests") or []
    return doc


def _save(store: Any, image: Any, doc: dict[str, Any], sources: dict[str, str]) -> None:
    """Store the changed list document and point the list image at it."""
    from engine.store.manifest_lists import ManifestListStore

    data = json.dumps(doc, separators=(",", ":")).encode()
    with store.writing():
        digest = store.blobs.put_bytes(data)
        wanted = {m["digest"] for m in doc["manifests"]}
        ManifestListStore(store.db).save(image.id, digest, doc["mediaType"],
                                         {d: s for d, s in sources.items() if d in wanted})


def _sources(store: Any, image: Any) -> dict[str, str]:
    from engine.store.manifest_lists import ManifestListStore

    return ManifestListStore(store.db).sources(image.id)


def _entry_index(doc: dict[str, Any], text: str) -> int:
    digest = text.rpartition("@")[2] if "@" in text else text
    for i, entry in enumerate(doc["manifests"]):
        if entry.get("digest") == digest:
            return i
    return -1


def _platform(os_: str, arch: str, variant: str = "", os_version: str = "", features: list[str] | None = None
              ) -> dict[str, Any]:
    """An OCI platform object, keys in the order Podman prints them."""
    plat: dict[str, Any] = {"architecture": arch, "os": os_}
    if os_version:
        plat["os.version"] = os_version
    if features:
        plat["os.features"] = list(features)
    if variant:
        plat["variant"] = variant
    return plat


def _entry(media_type: str, digest: str, size: int, platform: dict[str, Any] | None,
           annotations: dict[str, str] | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"mediaType": media_type, "digest": digest, "size": size}
    if annotations:
        entry["annotations"] = dict(annotations)
    if platform is not None:
        entry["platform"] = platform
    return entry


def _apply(entry: dict[str, Any], opts: EntryOptions) -> None:
    """--arch/--os/--variant/--os-version/--features/--annotation onto one entry."""
    plat = entry.get("platform") or {}
    if opts.arch or opts.os or opts.variant or opts.os_version or opts.features:
        entry["platform"] = _platform(
            opts.os or plat.get("os", ""), opts.arch or plat.get("architecture", ""),
            opts.variant or plat.get("variant", ""), opts.os_version or plat.get("os.version", ""),
            opts.features or plat.get("os.features"))
    if opts.annotations:
        merged = {**(entry.get("annotations") or {}), **opts.annotations}
        platform = entry.pop("platform", None)  # re-added after: OCI order is annotations, platform
        entry["annotations"] = merged
        if platform is not None:
            entry["platform"] = platform


def parse_annotations(items: list[str] | None) -> dict[str, str]:
    """`--annotation key=value` (repeatable) -> dict."""
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidArgument(f"no value given for annotation {item!r}")
        out[key] = value
    return out


def list_id(cfg: EngineConfig, name: str) -> str:
    """The ID of the list `name` (ImageNotFound, or not a list: InvalidArgument)."""
    return id_hex(_find_list(open_store(cfg), name).id)


# ---------------------------------------------------------------- create / exists / inspect / rm
def create(cfg: EngineConfig, name: str, images: list[str], opts: CreateOptions) -> str:
    """A new empty list named `name` (or the existing one with --amend), then `images` added."""
    from engine.services.images import find_image, normalize_new_name

    full = normalize_new_name(name)
    enter_userns(cfg)
    store = open_store(cfg)
    try:
        existing = find_image(store, full)
    except ImageNotFound:
        existing = None
    if existing is not None and not (opts.amend and _is_list(existing)):
        raise Conflict(f'creating image to hold manifest list: image name "{full}" is already associated '
                       f'with image "{id_hex(existing.id)}": that name is already in use')
    if existing is None:
        # the list's ID is the digest of this stub config: fixed when the list is made, unique by its nonce
        stub = {"created": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
                "architecture": "", "os": "", "config": {}, "rootfs": {"type": "layers", "diff_ids": []},
                "hull.manifestList": secrets.token_hex(16)}
        doc: dict[str, Any] = {"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": []}
        data = json.dumps(doc, separators=(",", ":")).encode()
        with store.writing():
            config_digest = store.blobs.put_bytes(json.dumps(stub, separators=(",", ":")).encode())
            existing = store.images.add(config_digest, store.blobs.put_bytes(data), [], names=[full],
                                        manifest_media_type=mt.OCI_INDEX)
    if opts.annotations:
        annotate(cfg, full, "", EntryOptions(annotations=opts.annotations), index=True)
    for text in images:
        add(cfg, full, text, AddOptions(all=opts.all, registry=opts.registry))
    return id_hex(existing.id)


def exists(cfg: EngineConfig, name: str) -> bool:
    try:
        _find_list(open_store(cfg), name)
        return True
    except (NotFound, InvalidArgument):
        return False


def inspect(cfg: EngineConfig, name: str, registry: RegistryOptions | None = None) -> dict[str, Any]:
    """The list document as Podman prints it; a name not stored here is read from its registry."""
    store = open_store(cfg)
    try:
        image = _find_list(store, name)
    except (ImageNotFound, InvalidArgument):  # not here, or not a list here: as Podman, ask the registry
        if name.startswith(LOCAL):
            raise
        from engine.services.manifest_remote import fetch

        fetched, _ = fetch(cfg, name.removeprefix(REMOTE), registry or RegistryOptions())
        return json.loads(fetched.data)
    return _document(store, image)


def remove_lists(cfg: EngineConfig, names: list[str]) -> Any:
    """`manifest rm`: only lists go; the report is rmi's (Untagged/Deleted, exit 1 when not found)."""
    from engine.errors import HullError
    from engine.services import images as image_services

    report = image_services.RemoveReport()
    store = open_store(cfg)
    targets = []
    for name in names:
        try:
            _find_list(store, name)
            targets.append(name)
        except HullError as err:
            report.errors.append(err)
    if targets:
        done = image_services.remove(cfg, targets, image_services.RemoveOptions(force=True))
        report.untagged.extend(done.untagged)
        report.deleted.extend(done.deleted)
        report.errors.extend(done.errors)
    return report


# ---------------------------------------------------------------- add / annotate / remove
Change = Callable[[dict[str, Any], dict[str, str]], None]  # edits (list document, entry sources) in place


def _modify(store: Any, name: str, change: Change) -> str:
    """Read, change and save the list under its own lock (two `add`s never lose an entry)."""
    from engine.store.locks import file_lock

    image = _find_list(store, name)
    with file_lock(store.cfg.locks_dir / f"manifest-{id_hex(image.id)}.lock"):
        image = store.images.get(image.id)  # the list as it is now that we hold the lock
        doc, sources = _document(store, image), _sources(store, image)
        change(doc, sources)
        _save(store, image, doc, sources)
    return id_hex(image.id)


def add(cfg: EngineConfig, name: str, image_text: str, opts: AddOptions) -> str:
    """Add an image (all of a remote list's entries with --all) to the list; returns the list ID."""
    from engine.services.images import find_image

    enter_userns(cfg)
    store = open_store(cfg)
    _find_list(store, name)  # an unknown list fails before the registry is asked
    local = None
    if not image_text.startswith(REMOTE):
        try:
            local = find_image(store, image_text.removeprefix(LOCAL))
        except ImageNotFound:
            if image_text.startswith(LOCAL):
                raise
    if local is not None:
        added = [_local_entry(store, local, image_text)]
    else:
        from engine.services.manifest_remote import describe

        added = describe(cfg, image_text.removeprefix(REMOTE), opts.all, opts.registry)

    def change(doc: dict[str, Any], sources: dict[str, str]) -> None:
        for entry, source in added:
            _apply(entry, opts.entry)
            at = _entry_index(doc, entry["digest"])
            if at >= 0:
                doc["manifests"][at] = entry  # Podman replaces an entry with the same digest
            else:
                doc["manifests"].append(entry)
            sources[entry["digest"]] = source

    return _modify(store, name, change)


def _local_entry(store: Any, local: Any, text: str) -> tuple[dict[str, Any], str]:
    from engine.services.common import image_config

    if _is_list(local):
        raise InvalidArgument(f"{text}: adding a manifest list to a manifest list is not supported")
    config = image_config(store, local)
    plat = _platform(config.get("os") or "linux", config.get("architecture") or "", config.get("variant") or "",
                     config.get("os.version") or "", config.get("os.features"))
    entry = _entry(local.manifest_media_type, local.digest, store.blobs.size(local.digest), plat)
    return entry, LOCAL + local.id


def annotate(cfg: EngineConfig, name: str, digest: str, opts: EntryOptions, index: bool = False) -> str:
    """Set annotations/platform fields on one entry (or, with `index`, annotations on the list)."""

    def change(doc: dict[str, Any], sources: dict[str, str]) -> None:
        if index:
            if opts.annotations:
                doc["annotations"] = {**(doc.get("annotations") or {}), **opts.annotations}
            return
        at = _entry_index(doc, digest)
        if at < 0:
            raise NotFound(f'no Docker manifest matching digest "{digest}" was found in list: no image instance '
                           "matching the specified digest was found in the list or index")
        _apply(doc["manifests"][at], opts)

    return _modify(open_store(cfg), name, change)


def remove_entry(cfg: EngineConfig, name: str, digest: str) -> str:
    """Drop the entry `digest` (or `name@digest`) from the list."""

    def change(doc: dict[str, Any], sources: dict[str, str]) -> None:
        at = _entry_index(doc, digest)
        if at < 0:
            raise NotFound(f'removing from manifest list {name}: no instance matching digest "{digest}" '
                           "found in manifest list: file does not exist")
        del doc["manifests"][at]

    return _modify(open_store(cfg), name, change)


# ---------------------------------------------------------------- run / push
def stored_instance(store: Any, digest: str) -> str | None:
    """The ID of a stored image known by manifest `digest`, if any."""
    rows = store.db.query("SELECT image_id FROM image_digests WHERE digest = ? LIMIT 1", (digest,))
    return rows[0][0] if rows else None


def resolve_instance(cfg: EngineConfig, store: Any, image: Any) -> Any:
    """For `run LIST`: the stored image of the entry for the host platform (pulled when remote)."""
    if not _is_list(image):
        return image
    from engine.oci.manifest import Index, choose_platform, parse_manifest
    from engine.oci.platform import host_platform

    index = parse_manifest(store.blobs.read_bytes(image.digest, 4 << 20), image.manifest_media_type)
    assert isinstance(index, Index)
    entry = choose_platform(index, host_platform())
    stored = stored_instance(store, entry.digest)
    if stored:
        return store.images.get(stored)
    source = _sources(store, image).get(entry.digest, "")
    if source.startswith(LOCAL):
        return store.images.get(source.removeprefix(LOCAL))
    if source.startswith(REMOTE):
        from engine.services import images as image_services

        return store.images.get("sha256:" + image_services.pull(cfg, source.removeprefix(REMOTE),
                                                                  image_services.PullOptions()))
    raise ImageNotFound(f"{entry.digest}: image not known")


def push(cfg: EngineConfig, name: str, destination: str | None, opts: PushOptions) -> str:
    """Push the list (and with `all` every entry) to `destination`; returns the list's digest there."""
    if opts.format and opts.format not in FORMATS:
        raise InvalidArgument(f"unsupported manifest format {opts.format!r}: expected oci or v2s2")
    enter_userns(cfg)
    store = open_store(cfg)
    image = _find_list(store, name)
    target = (destination or next(iter(image.names), name)).removeprefix(REMOTE)
    from engine.services.manifest_remote import push_list

    rcfg = registry_config(cfg, opts.registry)
    digest = push_list(rcfg, store, _document(store, image), _sources(store, image), target,
                       FORMATS.get(opts.format, ""), opts.all, parse_creds(opts.registry.creds),
                       opts.registry.tls_verify, opts.progress or (lambda line: print(line, file=sys.stderr)))
    if opts.rm:
        remove_lists(cfg, [id_hex(image.id)])
    return digest
