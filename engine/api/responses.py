"""Response shapes the volume, network, secret and image handlers share: libpod's
`/exists` answer and the answer to a one-name DELETE."""

from __future__ import annotations

from typing import Any

from engine.api.http import Request
from engine.errors import HullError


def send_exists(request: Request, found: bool, missing: HullError) -> None:
    """`GET .../{name}/exists`: 204 when found, else `missing` (a NotFound: 404)."""
    if not found:
        raise missing
    request.send_empty(204)


def send_removal(request: Request, report: Any, doc: Any = None) -> None:
    """`DELETE .../{name}`: the removal report's first error as the error answer; else
    `doc` as JSON, or 204 without one."""
    if report.errors:
        raise report.errors[0]
    if doc is None:
        request.send_empty(204)
    else:
        request.send_json(doc)
