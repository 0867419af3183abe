"""Archive builders and constants for the transport tests (no Hull code used)."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

from engine.config import EngineConfig
from engine.store import Store

SHARED = Path("/work/shared/images")
PODMAN_OCI = SHARED / "busybox.oci.tar"
PODMAN_DOCKER = SHARED / "busybox.docker.tar"
BUSYBOX_ID = "sha256:a1650e46735caa638ff50713280371bb8a5a3f9b3e987521fc875151ab4a7264"
BUSYBOX_NAME = "localhost:5000/busybox:latest"


def make_store(path: Path) -> Store:
    return Store.open(EngineConfig(root=path / "root", runroot=path / "run", rootless=False))


def layer_tar(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def config_for(layers: list[bytes], **extra) -> bytes:
    doc = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": [sha(layer) for layer in layers]},
        "history": [{"created_by": "test"} for _ in layers],
        **extra,
    }
    return json.dumps(doc).encode()


def write_tar(path: Path, members: list[tuple[str, bytes | str | None]]) -> Path:
    """members: (name, bytes) files, (name, "->target") symlinks, (name, None) dirs."""
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif isinstance(data, str):
                info.type = tarfile.SYMTYPE
                info.linkname = data.removeprefix("->")
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return path


def docker_archive(path: Path, layers: list[bytes], tags=("localhost/test:1",), layer_names=None,
                   config: bytes | None = None, extra: list | None = None) -> Path:
    """A `docker save` archive (Docker <25 style: <id>/layer.tar files)."""
    config = config or config_for(layers)
    names = layer_names or [f"{sha(layer)[7:]}/layer.tar" for layer in layers]
    manifest = [{"Config": sha(config)[7:] + ".json", "RepoTags": list(tags), "Layers": names}]
    members = [(n, data) for n, data in zip(names, layers)]
    members += [(sha(config)[7:] + ".json", config), ("manifest.json", json.dumps(manifest).encode())]
    members += extra or []
    return write_tar(path, members)
