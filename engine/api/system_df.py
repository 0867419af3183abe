"""Disk usage for GET /system/df (Docker's shape) and /libpod/system/df (Podman's)."""

from __future__ import annotations

from typing import Any


def _parts(cfg: Any) -> tuple[Any, list[Any], list[dict], list[tuple[dict, int, int]]]:
    from engine.services.common import open_store
    from engine.services.container_list import ListOptions, list_containers
    from engine.services.system import df
    from engine.services.volumes import _size, list_volumes

    store = open_store(cfg)
    usage = df(cfg)
    containers = list_containers(cfg, ListOptions(all=True, size=True))
    volumes = []
    for v in list_volumes(cfg):
        refs = len(store.volumes.users(v["Name"]))
        volumes.append((v, _size(v["Mountpoint"]), refs))
    return store, containers, usage, volumes


def docker_df_doc(cfg: Any) -> dict[str, Any]:
    from engine.api.docker_convert import summary_doc as container_doc
    from engine.api.docker_images import summary_doc as image_doc
    from engine.api.docker_volumes import volume_doc

    store, containers, usage, volumes = _parts(cfg)
    shared = {u.id: u.shared_size for u in usage.images}
    images = []
    for image in store.images.list():
        doc = image_doc(store, image)
        doc["SharedSize"] = shared.get(image.id.removeprefix("sha256:"), 0)
        images.append(doc)
    vols = []
    for v, size, refs in volumes:
        doc = volume_doc(v)
        doc["UsageData"] = {"Size": size, "RefCount": refs}
        vols.append(doc)
    return {"LayersSize": usage.images_size, "Images": images,
            "Containers": [container_doc(c) for c in containers], "Volumes": vols, "BuildCache": []}


def libpod_df_doc(cfg: Any) -> dict[str, Any]:
    """Podman 5's SystemDfReport."""
    from engine.services.common import rfc3339

    store, containers, usage, volumes = _parts(cfg)
    by_id = {i.id.removeprefix("sha256:"): i for i in store.images.list()}
    images = []
    for u in usage.images:
        image = by_id.get(u.id)
        names = list(u.names) or ["<none>:<none>"]
        repo, _, tag = names[0].rpartition(":")
        images.append({"Repository": repo or "<none>", "Tag": tag or "<none>", "ImageID": u.id,
                       "Created": rfc3339(u.created), "Size": u.size, "SharedSize": u.shared_size,
                       "UniqueSize": u.unique_size,
                       "Containers": len(store.containers.using_image(image.id)) if image else 0})
    ctrs = [{"ContainerID": c.id, "Image": c.image, "Command": list(c.command), "LocalVolumes": 0,
             "Size": int(c.size_root_fs or 0), "RWSize": int(c.size_rw or 0), "Created": rfc3339(c.created),
             "Status": c.status, "Names": c.names[0] if c.names else ""} for c in containers]
    vols = [{"VolumeName": v["Name"], "Links": refs, "Size": size, "ReclaimableSize": 0 if refs else size}
            for v, size, refs in volumes]
    return {"Images": images, "Containers": ctrs, "Volumes": vols, "ImagesSize": usage.images_size}
