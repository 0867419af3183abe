"""Validate a config.json against the OCI runtime schema in ../shared/specs.

The schema files refer to each other by bare file name (`defs.json#/...`), so each
is registered under its own name and the root is validated with that registry."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

SCHEMA_DIR = Path(__file__).resolve().parents[4] / "shared" / "specs" / "oci-runtime-schema"


@lru_cache(maxsize=1)
def _validator():
    from jsonschema import Draft4Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    registry = Registry()
    for path in SCHEMA_DIR.glob("*.json"):
        registry = registry.with_resource(
            path.name, Resource.from_contents(json.loads(path.read_text()), default_specification=DRAFT4))
    root = json.loads((SCHEMA_DIR / "config-schema.json").read_text())
    return Draft4Validator(root, registry=registry)


def schema_errors(spec: dict) -> list[str]:
    """Every schema violation of `spec`, as `path: message` lines (empty when valid)."""
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in _validator().iter_errors(spec)]
