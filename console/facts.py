"""Facts about the engine for the home page, read without changing anything.

Images come through the services facade (engine.services.images), as every
console page will; where that is missing from a build, or fails, the page says
so instead of failing.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from pathlib import Path

import engine
from engine.config import EngineConfig
from engine.errors import HullError

RECENT_IMAGES = 8


@dataclass(frozen=True)
class ImageRow:
    name: str
    short_id: str
    size: int | None


@dataclass(frozen=True)
class EngineFacts:
    version: str
    python: str
    rootless: bool
    root: Path
    runroot: Path
    image_count: int | None = None  # None: unknown (see store_note)
    images: list[ImageRow] = field(default_factory=list)
    store_note: str | None = None


def _image_row(image: object) -> ImageRow:
    names = list(getattr(image, "names", None) or [])
    image_id = str(getattr(image, "id", ""))
    hex_id = image_id.split(":", 1)[-1]
    size = getattr(image, "size", None)
    return ImageRow(
        name=str(names[0]) if names else "<none>",
        short_id=hex_id[:12],
        size=size if isinstance(size, int) else None,
    )


def list_images(cfg: EngineConfig) -> list[ImageRow]:
    """Rows for every stored image, newest first; ImportError when the services are missing."""
    from engine.services import images as image_service

    if not cfg.db_path.exists():
        return []  # nothing ever stored: opening the store would create it
    return [_image_row(summary) for summary in image_service.list_images(cfg, image_service.ListOptions())]


def gather_facts(cfg: EngineConfig | None = None) -> EngineFacts:
    cfg = cfg or EngineConfig()
    base = dict(
        version=engine.__version__,
        python=platform.python_version(),
        rootless=cfg.rootless,
        root=cfg.root,
        runroot=cfg.runroot,
    )
    try:
        rows = list_images(cfg)
    except ImportError:
        return EngineFacts(**base, store_note="The image store is not available in this build yet.")
    except HullError as err:
        return EngineFacts(**base, store_note=f"The image store could not be read: {err}")
    return EngineFacts(**base, image_count=len(rows), images=rows[:RECENT_IMAGES])
