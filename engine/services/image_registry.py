"""Pull and push: the registry client (engine/registry) behind typed options."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from engine.config import EngineConfig
from engine.errors import InvalidArgument
from engine.services.common import enter_userns, id_hex, open_store

PUSH_FORMATS = ("oci", "v2s2")


@dataclass
class RegistryOptions:
    """What every registry operation may be told on the command line."""

    tls_verify: bool | None = None  # None: as registries.conf says
    creds: str | None = None  # "user:password"
    authfile: str | None = None


@dataclass
class PullOptions(RegistryOptions):
    platform: str | None = None  # "os/arch[/variant]"
    arch: str | None = None
    os: str | None = None
    variant: str | None = None
    progress: Callable[[Any], None] | None = None  # gets engine.registry.pull.PullEvent


@dataclass
class PushOptions(RegistryOptions):
    format: str | None = None  # "oci" or "v2s2": the stored manifest is pushed as it is
    progress: Callable[[Any], None] | None = None
    digestfile: str | None = None


def parse_creds(text: str | None) -> Any:
    """`--creds user:password` -> Credentials (None when not given)."""
    if text is None:
        return None
    from engine.registry.authfile import Credentials

    user, sep, password = text.partition(":")
    if not user:
        raise InvalidArgument("credentials must be in the form USERNAME[:PASSWORD]: username is empty")
    return Credentials(user, password)


def registry_config(cfg: EngineConfig, opts: RegistryOptions) -> EngineConfig:
    """The config with this call's --authfile and --tls-verify applied."""
    changes: dict[str, Any] = {}
    if opts.authfile:
        changes["authfile"] = Path(opts.authfile)
    if opts.tls_verify is not None:
        changes["tls_verify"] = opts.tls_verify
    return cfg.replace(**changes) if changes else cfg


def _platform(opts: PullOptions) -> Any:
    if not (opts.platform or opts.arch or opts.os or opts.variant):
        return None
    from engine.oci.platform import Platform, host_platform, parse_platform

    if opts.platform:
        if opts.arch or opts.os or opts.variant:
            raise InvalidArgument("--platform option can not be specified with --arch or --os")
        return parse_platform(opts.platform)
    host = host_platform()
    base = parse_platform(opts.arch) if opts.arch else host
    return Platform(opts.os or host.os, base.architecture, opts.variant or (base.variant if opts.arch else None))


def pull(cfg: EngineConfig, reference: str, opts: PullOptions) -> str:
    """Pull `reference`; returns the image ID (hex)."""
    from engine.oci.reference import parse_reference

    parse_reference(reference)  # a bad reference fails before anything else happens
    platform = _platform(opts)
    creds = parse_creds(opts.creds)
    enter_userns(cfg)  # before the download threads start
    from engine.registry.pull import pull_image

    cfg = registry_config(cfg, opts)
    store = open_store(cfg)
    image = pull_image(store, reference, cfg=cfg, tls_verify=opts.tls_verify, progress=opts.progress,
                       platform=platform, credentials=creds)
    from engine.services.events import emit

    emit(cfg, "image", "pull", id=id_hex(image.id), name=reference)
    return id_hex(image.id)


def push(cfg: EngineConfig, source: str, destination: str | None, opts: PushOptions) -> str:
    """Push a local image to `destination` (default: its own name); returns the manifest digest."""
    from engine.services.images import find_image

    if opts.format is not None and opts.format not in PUSH_FORMATS:
        raise InvalidArgument(f"unsupported manifest format {opts.format!r}: expected oci or v2s2")
    creds = parse_creds(opts.creds)
    cfg = registry_config(cfg, opts)
    store = open_store(cfg)
    image = find_image(store, source)
    target = destination or source
    if destination is None and source not in image.names:
        # pushing by short name or ID: use the image's name that matched
        target = next((n for n in image.names if n.endswith("/" + source) or n.endswith("/" + source + ":latest")),
                      image.names[0] if image.names else source)
    if target.startswith("docker://"):
        target = target[len("docker://"):]
    from engine.registry.push import push_image

    digest = push_image(store, image, target, cfg=cfg, tls_verify=opts.tls_verify, credentials=creds,
                        progress=opts.progress)
    if opts.digestfile:
        try:
            Path(opts.digestfile).write_text(digest)
        except OSError as exc:
            raise InvalidArgument(f"cannot write digest file {opts.digestfile}: {exc.strerror}") from None
    from engine.services.events import emit

    emit(cfg, "image", "push", id=id_hex(image.id), name=target)
    return digest
