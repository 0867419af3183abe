"""Small helpers every service shares: opening the store, entering the user
namespace, reading an image's config, parsing times."""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs milliseconds to import: annotations only
if TYPE_CHECKING:
    from typing import Any, Callable

from engine.config import EngineConfig
from engine.errors import HullError, StorageError


_kept_stores: dict | None = None  # see keep_stores()


def open_store(cfg: EngineConfig) -> Any:
    """The Store (engine/store) for `cfg`, directories created on first use."""
    from engine.store import Store

    if _kept_stores is None:
        return Store.open(cfg)
    key = (str(cfg.root), str(cfg.runroot), cfg.rootless)
    store = _kept_stores.get(key)
    if store is None:
        store = _kept_stores[key] = Store.open(cfg)
    return store


def keep_stores() -> None:
    """From now on open_store() gives one Store per store for the rest of this process:
    one SQLite connection (and schema check) where `hull run --rm` opened three (create,
    start, remove).  For one-shot processes only (the CLI's run/start): a long-lived
    caller would keep a store that `system reset` removed."""
    global _kept_stores
    if _kept_stores is None:
        _kept_stores = {}


def enter_userns(cfg: EngineConfig) -> None:
    """Rootless storage changes happen inside Hull's user namespace (files owned
    by subuids).  Must run before any thread starts: call it first thing."""
    from engine.runtime.userns import ensure_in_userns

    ensure_in_userns(cfg)


def image_config(store: Any, image: Any) -> dict:
    """The image's config document (a dict), whatever form the store keeps it in."""
    config = getattr(image, "config", None)
    if isinstance(config, dict):
        return config
    digest = config if isinstance(config, str) and config.startswith("sha256:") else image.id
    try:
        data = store.blobs.read_bytes(digest, 16 << 20)
        import json  # here, not at the top: run/start import this module before their monitor spawns

        doc = json.loads(data)
    except HullError:
        raise
    except (OSError, ValueError) as exc:
        raise StorageError(f"reading config of image {image.id}: {exc}") from None
    if not isinstance(doc, dict):
        raise StorageError(f"config of image {image.id} is not a JSON object")
    return doc


def image_manifest(store: Any, image: Any) -> dict:
    try:
        import json

        return json.loads(store.blobs.read_bytes(image.digest, 4 << 20))
    except HullError:
        raise
    except (OSError, ValueError) as exc:
        raise StorageError(f"reading manifest of image {image.id}: {exc}") from None


def parse_time(value: Any) -> float:
    """RFC 3339 (with nanoseconds, `Z`) or Unix seconds -> Unix seconds; 0 if unknown."""
    if value is None or value == "":
        return 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if hasattr(value, "timestamp"):  # a datetime from the store
        return float(value.timestamp())
    from datetime import datetime

    text = str(value).strip()
    if text.endswith("Z") or text.endswith("z"):
        text = text[:-1] + "+00:00"
    # Python wants at most 6 fractional digits
    if "." in text:
        head, _, tail = text.partition(".")
        digits = ""
        while tail and tail[0].isdigit():
            digits, tail = digits + tail[0], tail[1:]
        text = f"{head}.{digits[:6]}{tail}" if digits else head + tail
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return 0.0


def rfc3339(ts: float) -> str:
    """Unix seconds -> "2026-11-29T17:25:48Z" (UTC), as Podman prints CreatedAt."""
    from datetime import datetime, timezone

    dt = datetime.fromtimestamp(ts, tz=timezone.utc)
    frac = f".{dt.microsecond:06d}".rstrip("0").rstrip(".")
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + frac + "Z"


def id_hex(image_id: str) -> str:
    return image_id.partition(":")[2] if ":" in image_id else image_id


def full_id(image_id: str) -> str:
    return image_id if ":" in image_id else "sha256:" + image_id


def clone_name(base: str, taken: Callable[[str], bool]) -> str:
    """`container clone` / `pod clone` without a name: Podman's <base>-clone, then
    <base>-clone1, -clone2, ... until `taken` says no."""
    name = f"{base}-clone"
    n = 1
    while taken(name):
        name = f"{base}-clone{n}"
        n += 1
    return name
