"""`hull commit`: a container's changes (its overlay upper dir) become a new image.

The upper dir is tarred with overlay whiteouts turned back into `.wh.` entries
(engine/archive/tarwriter), stored as an uncompressed layer blob (its digest is
the diff ID), unpacked once as a new layer on top of the image's chain with
apply_layer, and recorded with a new config: the image's, plus what the
container was run with (command, entrypoint, env, workdir, user, labels), then
the `--change` instructions, a history entry (`-m`, `-a`).  Rootless, this runs
inside Hull's user namespace so owners in the layer are container uids.
"""

from __future__ import annotations

import copy
import json
import shlex
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from engine.config import EngineConfig
from engine.errors import InvalidArgument
from engine.oci import mediatypes as mt
from engine.services.common import enter_userns, image_config
from engine.services.container_fs import lookup
from engine.transports.changes import apply_changes

FORMATS = ("oci", "docker")


@dataclass
class CommitOptions:
    name: str | None = None                 # repository[:tag]; None: a dangling image
    changes: list[str] = field(default_factory=list)
    message: str | None = None
    author: str | None = None
    format: str = "oci"
    include_volumes: bool = False           # accepted for compatibility
    pause: bool = False                     # accepted: the upper dir is read as it is
    squash: bool = False                    # not supported yet: refused


def commit(cfg: EngineConfig, name_or_id: str, image: str | None, opts: CommitOptions) -> str:
    """`hull commit CONTAINER [IMAGE]`: the new image's ID ("sha256:...")."""
    if image:
        opts.name = image
    return commit_container(cfg, name_or_id, opts).id


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def container_config(base: dict[str, Any], container: Any) -> dict[str, Any]:
    """The image config's `config` as the container ran it."""
    conf = copy.deepcopy(base.get("config") or {})
    opts = container.options or {}
    if opts.get("entrypoint") is not None:
        conf["Entrypoint"] = list(opts["entrypoint"]) or None
    command = opts.get("command") or container.command
    if opts.get("command"):
        conf["Cmd"] = list(opts["command"])
    elif command and opts.get("entrypoint") is None and not conf.get("Cmd"):
        conf["Cmd"] = list(command)
    env = opts.get("env")
    if isinstance(env, dict):
        env = [f"{k}={v}" for k, v in env.items()]
    if env:
        merged = {e.partition("=")[0]: e for e in conf.get("Env") or []}
        merged.update({e.partition("=")[0]: e for e in env})
        conf["Env"] = list(merged.values())
    if opts.get("workdir"):
        conf["WorkingDir"] = opts["workdir"]
    if opts.get("user"):
        conf["User"] = opts["user"]
    labels = dict(conf.get("Labels") or {})
    labels.update(container.labels or opts.get("labels") or {})
    if labels:
        conf["Labels"] = labels
    if opts.get("stop_signal"):
        conf["StopSignal"] = str(opts["stop_signal"])
    return {k: v for k, v in conf.items() if v is not None}


def commit_container(cfg: EngineConfig, name_or_id: str, opts: CommitOptions) -> Any:
    """Make the image; returns the store's Image."""
    from engine.archive.tarwriter import write_tar
    from engine.oci.reference import parse_reference
    from engine.transports.ingest import _populate

    if opts.format not in FORMATS:
        raise InvalidArgument(f'unrecognized image type "{opts.format}"')
    if opts.squash:
        raise InvalidArgument("--squash is not supported by hull commit")
    apply_changes({}, list(opts.changes))  # refuse bad changes before any work
    names = [str(parse_reference(opts.name))] if opts.name else []
    enter_userns(cfg)
    store, container = lookup(cfg, name_or_id)
    store.cleanup()
    base_image = store.images.get(container.image_id) if container.image_id else None
    base = image_config(store, base_image) if base_image is not None else {}
    created = _now()
    with store.writing():
        with store.blobs.ingest() as writer:
            size = write_tar(store.containers.upper(container.id), writer, overlay_whiteouts=True)
            diff_id = writer.commit()
        parent = base_image.top_layer if base_image is not None else None
        layer = store.layers.create(diff_id, parent, _populate(store, diff_id, diff_id), compressed_digest=diff_id)
        chain = [*(base_image.layers if base_image is not None else []), layer.chain_id]

        conf = apply_changes(container_config(base, container), list(opts.changes))
        doc: dict[str, Any] = {k: v for k, v in base.items() if k not in ("config", "rootfs", "history",
                                                                          "container_config", "container")}
        doc["created"] = created
        doc.setdefault("architecture", base.get("architecture") or _host().architecture)
        doc.setdefault("os", base.get("os") or "linux")
        if opts.author:
            doc["author"] = opts.author
        else:
            doc.pop("author", None)
        doc["config"] = conf
        doc["rootfs"] = {"type": "layers",
                         "diff_ids": [*((base.get("rootfs") or {}).get("diff_ids") or []), diff_id]}
        entry = {"created": created, "created_by": _created_by(container)}
        if opts.author:
            entry["author"] = opts.author
        if opts.message:
            entry["comment"] = opts.message
        doc["history"] = [*(base.get("history") or []), entry]
        config = json.dumps(doc, separators=(",", ":")).encode()
        config_digest = store.blobs.put_bytes(config)
        manifest_type, config_type, layer_type = (
            (mt.DOCKER_MANIFEST, mt.DOCKER_CONFIG, mt.DOCKER_LAYER) if opts.format == "docker"
            else (mt.OCI_MANIFEST, mt.OCI_CONFIG, mt.OCI_LAYER))
        layers = _base_layers(store, base_image, opts.format)
        layers.append({"mediaType": layer_type, "digest": diff_id, "size": size})
        manifest = {"schemaVersion": 2, "mediaType": manifest_type,
                    "config": {"mediaType": config_type, "digest": config_digest, "size": len(config)},
                    "layers": layers}
        manifest_digest = store.blobs.put_bytes(json.dumps(manifest, separators=(",", ":")).encode())
        return store.images.add(config_digest, manifest_digest, chain, names, manifest_media_type=manifest_type)


def _host():
    from engine.oci.platform import host_platform

    return host_platform()


def _created_by(container: Any) -> str:
    cmd = (container.options or {}).get("command") or container.command or []
    return "/bin/sh -c " + shlex.join(cmd) if cmd else "/bin/sh"


_TO_DOCKER = {mt.OCI_LAYER: mt.DOCKER_LAYER, mt.OCI_LAYER_GZIP: mt.DOCKER_LAYER_GZIP}
_TO_OCI = {v: k for k, v in _TO_DOCKER.items()}


def _base_layers(store: Any, image: Any, fmt: str) -> list[dict[str, Any]]:
    """The base image's layer descriptors, media types in the wanted format."""
    if image is None:
        return []
    from engine.services.common import image_manifest

    layers = []
    for desc in image_manifest(store, image).get("layers") or []:
        kind = desc.get("mediaType", "")
        kind = _TO_DOCKER.get(kind, kind) if fmt == "docker" else _TO_OCI.get(kind, kind)
        layers.append({"mediaType": kind, "digest": desc["digest"], "size": desc["size"]})
    return layers
