"""The registry side of manifest lists: describing a remote image for `manifest add`,
reading a remote list for `manifest inspect`, and `manifest push`.

All traffic goes through engine/registry's RegistryClient (open_client: TLS,
registries.conf and auth.json as for pull/push).
"""

from __future__ import annotations

import json
from typing import Any, Callable

from engine.config import EngineConfig
from engine.errors import HullError, ImageNotFound
from engine.oci import mediatypes as mt
from engine.oci.manifest import MAX_CONFIG_SIZE, Index, Manifest, choose_platform, parse_manifest
from engine.oci.platform import host_platform
from engine.oci.reference import Reference, parse_reference
from engine.registry.client import FetchedManifest, RegistryClient
from engine.registry.pull import open_client
from engine.registry.registries_conf import load_registries_conf
from engine.services.image_registry import RegistryOptions, parse_creds, registry_config
from engine.services.manifests import LOCAL, REMOTE, _entry, _platform, stored_instance


def _client(cfg: EngineConfig, ref: Reference, tls_verify: bool | None, creds: Any) -> tuple[RegistryClient, str]:
    conf = load_registries_conf(cfg.registries_conf_candidates())
    endpoint, repository = conf.endpoints(ref)[-1]  # the registry itself, never a mirror
    return open_client(cfg, conf, endpoint, repository, tls_verify=tls_verify, credentials=creds), repository


def fetch(cfg: EngineConfig, text: str, ropts: RegistryOptions) -> tuple[FetchedManifest, Reference]:
    """The manifest (or list) `text` names, read from its registry."""
    ref = parse_reference(text)
    client, repository = _client(registry_config(cfg, ropts), ref, ropts.tls_verify, parse_creds(ropts.creds))
    try:
        return client.get_manifest(repository, ref.manifest_reference), ref
    except HullError as exc:
        raise type(exc)(f'reading image "docker://{ref}": {exc}') from None
    finally:
        client.close()


def describe(cfg: EngineConfig, text: str, all_: bool, ropts: RegistryOptions
             ) -> list[tuple[dict[str, Any], str]]:
    """List entries (and their docker:// sources) for a remote image, no layer pulled.

    An image gives one entry (its platform read from its config); a list gives the
    host platform's entry, or every entry with `all_`."""
    ref = parse_reference(text)
    cfg = registry_config(cfg, ropts)
    client, repository = _client(cfg, ref, ropts.tls_verify, parse_creds(ropts.creds))
    try:
        fetched = client.get_manifest(repository, ref.manifest_reference)
        doc = parse_manifest(fetched.data, fetched.media_type)
        if isinstance(doc, Index):
            wanted = list(doc.manifests) if all_ else [choose_platform(doc, host_platform())]
            raw = {e["digest"]: e for e in json.loads(fetched.data)["manifests"]}
            out = []
            for entry in wanted:
                item = {k: raw[entry.digest][k] for k in ("mediaType", "digest", "size", "annotations", "platform")
                        if k in raw[entry.digest]}
                out.append((item, f"{REMOTE}{ref.name}@{entry.digest}"))
            return out
        assert isinstance(doc, Manifest)
        config = json.loads(client.read_blob(repository, doc.config.digest, MAX_CONFIG_SIZE, doc.config.size))
    except HullError as exc:
        raise type(exc)(f'reading image "docker://{ref}": {exc}') from None
    finally:
        client.close()
    plat = _platform(config.get("os") or "linux", config.get("architecture") or "", config.get("variant") or "",
                     config.get("os.version") or "", config.get("os.features"))
    return [(_entry(doc.media_type, fetched.digest, len(fetched.data), plat), f"{REMOTE}{ref.name}@{fetched.digest}")]


def serialize(doc: dict[str, Any], media_type: str) -> bytes:
    """The list as `media_type`: an OCI index, or a Docker manifest list (no annotations there)."""
    if media_type == mt.DOCKER_MANIFEST_LIST:
        entries = [{k: e[k] for k in ("mediaType", "size", "digest", "platform") if k in e} for e in doc["manifests"]]
        doc = {"schemaVersion": 2, "mediaType": media_type, "manifests": entries}
    elif doc.get("mediaType") != media_type:
        doc = {**doc, "mediaType": media_type}
    return json.dumps(doc, separators=(",", ":")).encode()


def push_list(cfg: EngineConfig, store: Any, doc: dict[str, Any], sources: dict[str, str], target: str,
              media_type: str, all_: bool, creds: Any, tls_verify: bool | None, say: Callable[[str], None]) -> str:
    """Push every entry (with `all_`), then the list; returns the list's digest."""
    from engine.registry.copy import copy_manifest
    from engine.registry.push import push_image

    dest = parse_reference(target)
    client, repository = _client(cfg, dest, tls_verify, creds)
    try:
        entries = doc["manifests"] if all_ else []
        say("Getting image list signatures")
        if all_:
            say(f"Copying {len(entries)} images generated from {len(entries)} images in list")
        for i, entry in enumerate(entries, 1):
            digest = entry["digest"]
            say(f"Copying image {digest} ({i}/{len(entries)})")
            source = sources.get(digest) or _local_source(store, digest)
            if source.startswith(LOCAL):
                push_image(store, store.images.get(source.removeprefix(LOCAL)), f"{dest.name}@{digest}",
                           cfg=cfg, tls_verify=tls_verify, credentials=creds)
                continue
            src_ref = parse_reference(source.removeprefix(REMOTE))
            src, src_repo = _client(cfg, src_ref, tls_verify, None if src_ref.registry != dest.registry else creds)
            try:
                copy_manifest(src, src_repo, client, repository, digest)
            finally:
                src.close()
        say("Writing manifest list to image destination")
        data = serialize(doc, media_type or doc["mediaType"])
        digest = client.put_manifest(repository, dest.digest or dest.tag or "latest", data,
                                     media_type or doc["mediaType"])
        say("Storing list signatures")
        return digest
    finally:
        client.close()


def _local_source(store: Any, digest: str) -> str:
    image_id = stored_instance(store, digest)
    if not image_id:
        raise ImageNotFound(f"{digest}: image not known")
    return LOCAL + image_id
