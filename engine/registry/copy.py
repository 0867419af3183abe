"""Registry-to-registry copy of one manifest and its blobs, without a local store.

`manifest push --all` uses it for list entries that were added from a registry
and never pulled: within one registry blobs are mounted across repositories
(no bytes move); otherwise they stream from the source straight into an upload.
"""

from __future__ import annotations

from collections.abc import Callable

from engine.errors import InvalidArgument
from engine.oci.manifest import Manifest, parse_manifest
from engine.registry.client import RegistryClient


def copy_manifest(source: RegistryClient, source_repo: str, dest: RegistryClient, dest_repo: str, digest: str,
                  report: Callable[[str, str], None] | None = None) -> str:
    """Copy the image manifest `digest` (and its config and layers) to dest_repo; returns its digest."""
    fetched = source.get_manifest(source_repo, digest)
    doc = parse_manifest(fetched.data, fetched.media_type)
    if not isinstance(doc, Manifest):
        raise InvalidArgument(f"{source.registry}/{source_repo}@{digest}: nested image indexes are not supported")
    same_registry = source.registry == dest.registry
    for blob in (doc.config, *doc.layers):
        if dest.blob_exists(dest_repo, blob.digest):
            status = "exists"
        elif same_registry and dest.mount_blob(dest_repo, blob.digest, source_repo):
            status = "mounted"
        else:
            dest.upload_blob(dest_repo, blob.digest, blob.size,
                             lambda b=blob: source.iter_blob(source_repo, b.digest, b.size))
            status = "copied"
        if report:
            report(blob.digest, status)
    return dest.put_manifest(dest_repo, digest, fetched.data, doc.media_type)
