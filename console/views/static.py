"""Serve static/ through the middleware stack, so static files get the same headers.

Small files read whole: Django's FileResponse would hand ASGI a sync iterator.
Paths are resolved with safe_join, so `..` cannot leave static/.
"""

from __future__ import annotations

import mimetypes
import posixpath

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.utils._os import safe_join
from django.views.decorators.http import require_safe

MAX_STATIC_SIZE = 8 * 1024 * 1024


@require_safe
def static_file(request: HttpRequest, path: str) -> HttpResponse:
    path = posixpath.normpath(path).lstrip("/")
    try:
        full = safe_join(settings.HULL_STATIC_DIR, path)
        with open(full, "rb") as f:
            data = f.read(MAX_STATIC_SIZE + 1)
    except (SuspiciousFileOperation, OSError, ValueError):
        raise Http404("no such file") from None
    if len(data) > MAX_STATIC_SIZE:
        raise Http404("file too large")
    content_type, encoding = mimetypes.guess_type(full)
    response = HttpResponse(data, content_type=content_type or "application/octet-stream")
    if encoding:
        response.headers["Content-Encoding"] = encoding
    response.headers["Cache-Control"] = "no-cache"
    return response
