"""Pull: registry -> content store -> unpacked layers -> image record.

The pipeline overlaps everything it can:
  downloads   a thread pool fetches the missing layer blobs concurrently into the
              content store (each verified against its digest and size while
              streaming, by BlobWriter);
  unpacking   each blob is unpacked while it downloads (the worker reads the
              ingest's temp file as it grows, engine/registry/follow.py), into a
              private staging directory, in a worker *process* pool (tar parsing
              holds the GIL, so processes use both cores); the result is kept only
              if the attempt it followed is the one whose digest was verified and
              committed (else the stored blob is unpacked again), and the
              uncompressed stream's diff ID must equal the config's rootfs.diff_ids[i];
  recording   layers are created bottom-up with store.layers.create(); the
              populate step only renames the staged tree into place.
Layers already present (by chain ID) are neither downloaded nor unpacked.

A pull killed at any point leaves: blob temp files (flock-marked, removed by
gc), incomplete layer records (store.cleanup()), staging directories under
{root}/tmp/pull-* (removed by the next pull once stale).  None breaks the next pull.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.config import EngineConfig
from engine.errors import HullError, IntegrityError, InvalidArgument, RegistryError, RegistryNotFound
from engine.oci.manifest import MAX_CONFIG_SIZE, Index, Manifest, choose_platform, parse_config, parse_manifest
from engine.oci.platform import Platform, host_platform
from engine.oci.reference import Reference, candidates
from engine.registry import authfile
from engine.registry.authfile import Credentials
from engine.registry.client import RegistryClient
from engine.registry.follow import GrowingFile, StreamAborted
from engine.registry.registries_conf import Endpoint, RegistriesConf, load_registries_conf
from engine.store.topdir import mark_topdir

if TYPE_CHECKING:
    from engine.store import Image, Store

STAGING_PREFIX = "pull-"
STALE_STAGING_SECONDS = 3600.0
DOWNLOAD_WORKERS = 4
BLOB_ATTEMPTS = 3
# Below this much compressed data, forking workers costs more than it saves.
PROCESS_POOL_THRESHOLD = 8 * 1024 * 1024
# Layers are independent trees: unpack them all at once even on 2 cores, since much
# of the time is spent in the kernel creating files, not holding a CPU.
MAX_UNPACKERS = 4


@dataclass(frozen=True)
class PullEvent:
    """One progress report; `kind` is "blob", "config" or "manifest"."""

    kind: str
    digest: str
    status: str  # "downloading", "exists", "done", "extracting", "writing"
    done: int = 0
    total: int = 0


ProgressCallback = Callable[[PullEvent], None]
ApplyLayer = Callable[[Any, Path], Any]  # (stream, dest) -> ApplyResult(diff_id, size)


def _default_apply_layer() -> ApplyLayer:
    from engine.archive.extract import apply_layer

    return apply_layer


def _unpack_blob(apply_layer: ApplyLayer, blob_path: str, dest: str) -> tuple[str, int]:
    """Worker body (module level: it runs in a pool process)."""
    with open(blob_path, "rb") as fh:
        result = apply_layer(fh, Path(dest))
    return result.diff_id, int(result.size)


def _unpack_following(apply_layer: ApplyLayer, temp_path: str, final_path: str, size: int,
                      dest: str) -> tuple[str, int]:
    """Worker body: unpack a blob while it downloads (engine/registry/follow.py)."""
    try:
        fd = os.open(temp_path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        try:  # committed (renamed into place) before this worker got to it
            fd = os.open(final_path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise StreamAborted("download abandoned") from None
    reader = GrowingFile(fd, size)
    try:
        result = apply_layer(reader, Path(dest))
    finally:
        reader.close()
    return result.diff_id, int(result.size)


def open_client(cfg: EngineConfig, conf: RegistriesConf, endpoint: Endpoint, repository: str, *,
                tls_verify: bool | None, credentials: Credentials | None,
                transport: Any = None) -> RegistryClient:
    """A client for one endpoint: TLS as the flag or registries.conf say, credentials looked up."""
    verify = tls_verify if tls_verify is not None else cfg.tls_verify
    insecure = (verify is False) or (verify is None and (endpoint.insecure or conf.is_insecure(endpoint.host)))
    creds = credentials or authfile.lookup(cfg.auth_file_candidates(), endpoint.host, repository)
    return RegistryClient(endpoint.host, insecure=insecure, credentials=creds, transport=transport)


class _Reporter:
    """Serialises progress calls: the CLI draws from whichever thread reports."""

    def __init__(self, callback: ProgressCallback | None) -> None:
        self._callback = callback
        self._lock = threading.Lock()

    def __call__(self, event: PullEvent) -> None:
        if self._callback:
            with self._lock:
                self._callback(event)


def _clean_stale_staging(tmp_dir: Path) -> None:
    now = time.time()
    try:
        names = os.listdir(tmp_dir)
    except FileNotFoundError:
        return
    for name in names:
        if name.startswith(STAGING_PREFIX):
            path = tmp_dir / name
            try:
                if now - path.lstat().st_mtime > STALE_STAGING_SECONDS:
                    shutil.rmtree(path, ignore_errors=True)
            except OSError:
                pass


def _resolve(client: RegistryClient, repository: str, ref: Reference, platform: Platform
             ) -> tuple[Manifest, list[str]]:
    """The image manifest for `platform`, and the index digests it came through."""
    fetched = client.get_manifest(repository, ref.manifest_reference)
    doc = parse_manifest(fetched.data, fetched.media_type)
    via: list[str] = []
    if isinstance(doc, Index):
        via.append(fetched.digest)
        entry = choose_platform(doc, platform)
        fetched = client.get_manifest(repository, entry.digest)
        doc = parse_manifest(fetched.data, fetched.media_type)
        if isinstance(doc, Index):
            raise InvalidArgument("nested image indexes are not supported")
    assert isinstance(doc, Manifest)
    return doc, via


class _Puller:
    def __init__(self, store: "Store", client: RegistryClient, repository: str, manifest: Manifest,
                 report: _Reporter, apply_layer: ApplyLayer) -> None:
        self.store = store
        self.client = client
        self.repository = repository
        self.manifest = manifest
        self.report = report
        self.apply_layer = apply_layer
        self.staging: list[Path] = []

    def fetch_config(self) -> Any:
        desc = self.manifest.config
        if self.store.blobs.has(desc.digest):
            data = self.store.blobs.read_bytes(desc.digest, MAX_CONFIG_SIZE)
            self.report(PullEvent("config", desc.digest, "exists", desc.size, desc.size))
        else:
            data = self.client.read_blob(self.repository, desc.digest, MAX_CONFIG_SIZE, desc.size)
        config = parse_config(data, desc.digest)  # config digest = image ID: verified
        self.store.blobs.put_bytes(data, desc.digest)
        self.report(PullEvent("config", desc.digest, "done", desc.size, desc.size))
        return config

    def download(self, index: int, on_start: Callable[[int, Path], None] | None = None) -> tuple[str, int]:
        """Fetch layer blob `index` into the content store (retrying broken transfers).

        Returns the blob's path and the number of the attempt that stored it (0: it
        was there already); `on_start(attempt, temp_path)` runs as each attempt begins."""
        desc = self.manifest.layers[index]
        if self.store.blobs.has(desc.digest):
            self.report(PullEvent("blob", desc.digest, "exists", desc.size, desc.size))
            return str(self.store.blobs.path(desc.digest)), 0
        for attempt in range(1, BLOB_ATTEMPTS + 1):
            done = 0

            def progress(n: int) -> None:
                nonlocal done
                done += n
                self.report(PullEvent("blob", desc.digest, "downloading", done, desc.size))

            try:
                with self.store.blobs.ingest(desc.digest, desc.size) as writer:
                    if on_start:
                        on_start(attempt, writer.temp_path)
                    # The writer checks size and digest; no second hash here.
                    for chunk in self.client.iter_blob(self.repository, desc.digest, desc.size, progress, verify=False):
                        writer.write(chunk)
                    writer.commit()
                break
            except RegistryNotFound:
                raise
            except RegistryError:
                if attempt == BLOB_ATTEMPTS:
                    raise
                time.sleep(0.5 * attempt)
        self.report(PullEvent("blob", desc.digest, "done", desc.size, desc.size))
        return str(self.store.blobs.path(desc.digest)), attempt

    def new_staging(self) -> Path:
        path = self.store.cfg.tmp_dir / f"{STAGING_PREFIX}{secrets.token_hex(8)}"
        os.mkdir(path, 0o755)
        self.staging.append(path)
        return path

    def cleanup(self) -> None:
        for path in self.staging:
            shutil.rmtree(path, ignore_errors=True)


def _pull_from(store: "Store", client: RegistryClient, repository: str, ref: Reference, *,
               platform: Platform, report: _Reporter, apply_layer: ApplyLayer, names: list[str]) -> "Image":
    manifest, via = _resolve(client, repository, ref, platform)
    puller = _Puller(store, client, repository, manifest, report, apply_layer)
    config = puller.fetch_config()
    layers = manifest.layers
    if len(layers) != len(config.diff_ids):
        raise InvalidArgument(f"image has {len(layers)} layers but its config lists {len(config.diff_ids)} diff IDs")
    chain_ids: list[str] = []
    parent: str | None = None
    for diff_id in config.diff_ids:
        parent = store.layers.chain_id(parent, diff_id)
        chain_ids.append(parent)
    missing = [i for i, chain in enumerate(chain_ids) if not store.layers.exists(chain)]
    for i in range(len(layers)):
        if i not in missing:
            report(PullEvent("blob", layers[i].digest, "exists", layers[i].size, layers[i].size))

    # Each staged layer tree is an independent hierarchy: let ext4 spread them.
    mark_topdir(store.cfg.tmp_dir)
    need_download = sum(layers[i].size for i in missing if not store.blobs.has(layers[i].digest))
    use_processes = need_download >= PROCESS_POOL_THRESHOLD and len(missing) > 1
    unpackers: cf.Executor
    if use_processes:
        # fork now, before the download threads exist
        unpackers = cf.ProcessPoolExecutor(min(len(missing), max(os.cpu_count() or 2, MAX_UNPACKERS)), mp_context=multiprocessing.get_context("fork"))
    else:
        unpackers = cf.ThreadPoolExecutor(2)
    downloads = cf.ThreadPoolExecutor(DOWNLOAD_WORKERS)
    try:
        # Unpacking starts with each download's first attempt, reading the temp file
        # as it grows; the result counts only if that attempt is the one committed.
        followed: dict[int, tuple[int, cf.Future, Path]] = {}

        def start_following(i: int, attempt: int, temp_path: Path) -> None:
            if i in followed:
                return  # a retry: the first attempt's unpacker ends on its own
            dest = puller.new_staging()
            desc = layers[i]
            fut = unpackers.submit(_unpack_following, apply_layer, str(temp_path),
                                   str(store.blobs.path(desc.digest)), desc.size, str(dest))
            followed[i] = (attempt, fut, dest)

        def unpack_stored(i: int, path: str) -> tuple[cf.Future, Path]:
            dest = puller.new_staging()
            return unpackers.submit(_unpack_blob, apply_layer, path, str(dest)), dest

        blob_futures = {i: downloads.submit(puller.download, i, partial(start_following, i)) for i in missing}
        stored: dict[int, tuple[cf.Future, Path]] = {}
        # Blobs already in the store start unpacking as soon as that is known.
        for fut in cf.as_completed(blob_futures.values()):
            if not fut.exception() and fut.result()[1] == 0:
                i = next(k for k, f in blob_futures.items() if f is fut)
                stored[i] = unpack_stored(i, fut.result()[0])
        for i in missing:  # record bottom-up
            path, attempt = blob_futures[i].result()  # raises if the download failed
            report(PullEvent("blob", layers[i].digest, "extracting", layers[i].size, layers[i].size))
            if i in stored:
                fut, dest = stored[i]
                diff_id, size = fut.result()
            else:
                first, fut, dest = followed[i]
                try:
                    diff_id, size = fut.result()
                    ok = first == attempt
                except StreamAborted:
                    ok = False
                except Exception:
                    if first == attempt:
                        raise  # the verified bytes themselves are bad
                    ok = False
                if not ok:  # it followed an abandoned attempt: unpack the stored blob
                    shutil.rmtree(dest, ignore_errors=True)
                    fut, dest = unpack_stored(i, path)
                    diff_id, size = fut.result()
            if diff_id != config.diff_ids[i]:
                raise IntegrityError(
                    f"layer {layers[i].digest}: uncompressed digest {diff_id} does not match config diff_id {config.diff_ids[i]}")
            parent = chain_ids[i - 1] if i else None

            def populate(diff: Path, staged: Path = dest, size: int = size) -> int:
                os.rename(staged, diff)  # diff is an empty directory: rename replaces it
                return size

            store.layers.create(config.diff_ids[i], parent, populate, compressed_digest=layers[i].digest)
    finally:
        downloads.shutdown(wait=True, cancel_futures=True)
        unpackers.shutdown(wait=True, cancel_futures=True)
        puller.cleanup()
    report(PullEvent("manifest", manifest.digest, "writing"))
    store.blobs.put_bytes(manifest.raw, manifest.digest)
    return store.images.add(config.digest, manifest.digest, chain_ids, names=names,
                            manifest_media_type=manifest.media_type, digests=via)


def pull_image(
    store: "Store",
    reference_text: str,
    *,
    cfg: EngineConfig | None = None,
    tls_verify: bool | None = None,
    progress: ProgressCallback | None = None,
    platform: Platform | None = None,
    credentials: Credentials | None = None,
    registries_conf: RegistriesConf | None = None,
    apply_layer: ApplyLayer | None = None,
    transport: Any = None,
) -> "Image":
    """Pull `reference_text` into `store`; return the stored Image.

    Short names are tried on each unqualified-search registry (docker.io when none
    is configured); mirrors before the registry itself.  Errors read like Podman's:
    "initializing source docker://NAME: reading manifest TAG in NAME: manifest unknown".
    """
    cfg = cfg or store.cfg
    conf = registries_conf if registries_conf is not None else load_registries_conf(cfg.registries_conf_candidates())
    refs = candidates(reference_text, conf.unqualified_search)
    wanted = platform or host_platform()
    report = _Reporter(progress)
    apply = apply_layer or _default_apply_layer()
    errors: list[HullError] = []
    store.cleanup()
    _clean_stale_staging(cfg.tmp_dir)
    for ref in refs:
        # Podman drops the tag of a name:tag@digest reference and names nothing.
        names = [f"{ref.name}:{ref.tag}"] if ref.tag and not ref.digest else []
        for endpoint, repository in conf.endpoints(ref):
            client = open_client(cfg, conf, endpoint, repository, tls_verify=tls_verify,
                                 credentials=credentials, transport=transport)
            try:
                with store.writing():
                    return _pull_from(store, client, repository, ref, platform=wanted, report=report,
                                      apply_layer=apply, names=names)
            except (RegistryError, InvalidArgument) as exc:
                errors.append(type(exc)(f"initializing source docker://{ref}: {exc}"))
            finally:
                client.close()
    if len(errors) == 1 or len(refs) == 1:
        raise errors[-1]
    # Several candidates failed: name them all on one line, as Podman does.
    raise type(errors[-1])(f"{reference_text}: " + "; ".join(str(e) for e in errors))
