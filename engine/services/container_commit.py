"""`hull commit`: a container's changes (its overlay upper dir) become a new image.

The upper dir becomes one layer through engine/build/layer.py (the code `hull
build` uses for each step: tarred with whiteouts as `.wh.` entries, stored as an
uncompressed blob, unpacked once on top of the image's chain), recorded with a
new config: the image's, plus what the
container was run with (command, entrypoint, env, workdir, user, labels), then
the `--change` instructions, a history entry (`-m`, `-a`).  Rootless, this runs
inside Hull's user namespace so owners in the layer are container uids.
"""

from __future__ import annotations

import copy
import shlex
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from engine.config import EngineConfig
from engine.errors import InvalidArgument
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
    from engine.build.layer import layer_descriptors, layer_from_dir, new_layer_descriptor, write_image

    if opts.format not in FORMATS:
        raise InvalidArgument(f'unrecognized image type "{opts.format}"')
    if opts.squash:
        raise InvalidArgument("--squash is not supported by hull commit")
    apply_changes({}, list(opts.changes))  # refuse bad changes before any work
    from engine.services.images import normalize_new_name

    names = [normalize_new_name(opts.name)] if opts.name else []  # short names go to localhost/ (Podman)
    enter_userns(cfg)
    store, container = lookup(cfg, name_or_id)
    store.cleanup()
    base_image = store.images.get(container.image_id) if container.image_id else None
    base = image_config(store, base_image) if base_image is not None else {}
    created = _now()
    with store.writing():
        parent = base_image.top_layer if base_image is not None else None
        from engine.services.container_userns import unshift

        # --userns=auto/--uidmap: the upper dir holds host ids; the layer gets the container's
        layer = layer_from_dir(store, store.containers.upper(container.id), parent, unshift(store, container.id))
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
                         "diff_ids": [*((base.get("rootfs") or {}).get("diff_ids") or []), layer.diff_id]}
        entry = {"created": created, "created_by": _created_by(container)}
        if opts.author:
            entry["author"] = opts.author
        if opts.message:
            entry["comment"] = opts.message
        doc["history"] = [*(base.get("history") or []), entry]
        layers = [*layer_descriptors(store, base_image, opts.format), new_layer_descriptor(layer, opts.format)]
        return write_image(store, doc, chain, layers, names, opts.format)


def _host():
    from engine.oci.platform import host_platform

    return host_platform()


def _created_by(container: Any) -> str:
    cmd = (container.options or {}).get("command") or container.command or []
    return "/bin/sh -c " + shlex.join(cmd) if cmd else "/bin/sh"
