"""`system prune` (CLI and API): as Podman, stopped pods, stopped containers, networks no
container uses, dangling images (`all`: every unused one) and, with `volumes`, unused
volumes; the filters go to the container, network, image and volume prunes."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.config import EngineConfig
from engine.errors import HullError, InvalidArgument

FILTERS = ("label", "until")   # the ones every prune below understands (Podman's list)


@dataclass
class SystemPruneReport:
    pods: list[str] = field(default_factory=list)
    containers: list[tuple[str, int]] = field(default_factory=list)   # (id, bytes)
    container_errors: list[HullError] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    volumes: list[tuple[str, int]] = field(default_factory=list)      # (name, bytes)
    images: list[str] = field(default_factory=list)

    @property
    def reclaimed(self) -> int:
        return sum(size for _, size in self.containers) + sum(size for _, size in self.volumes)


def prune(cfg: EngineConfig, all_images: bool = False, volumes: bool = False,
          filters: dict[str, list[str]] | None = None) -> SystemPruneReport:
    from engine.services import containers, images, networks, pods
    from engine.services import volumes as volume_services

    filters = filters or {}
    for key in filters:  # checked before anything is removed
        if key not in FILTERS:
            raise InvalidArgument(f"{key} is an invalid filter")
    report = SystemPruneReport()
    report.pods = pods.prune(cfg)
    pruned = containers.prune(cfg, filters)
    report.containers = list(zip(pruned.removed, pruned.sizes))
    report.container_errors = list(pruned.errors)
    report.networks = networks.prune(cfg, filters)
    if volumes:  # volumes have no `until`
        report.volumes = volume_services.prune(cfg, {k: v for k, v in filters.items() if k == "label"})
    report.images = images.prune(cfg, images.PruneOptions(all=all_images, filters=filters))
    return report
