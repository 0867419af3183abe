"""Request helpers shared by the image, volume, network, build and libpod handlers:
Docker's `filters` query, the X-Registry-Auth header, the request body as a file,
and a response stream as a file."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

from engine.api.http import Request, Stream
from engine.errors import InvalidArgument


def filters(request: Request, name: str = "filters") -> dict[str, list[str]]:
    """Docker's filters come as {"key": ["v", ...]} or (older clients) {"key": {"v": true}}."""
    doc = request.json_arg(name)
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise InvalidArgument(f"invalid filters: {name} must be a JSON object")
    out: dict[str, list[str]] = {}
    for key, value in doc.items():
        if isinstance(value, dict):
            out[key] = [k for k, v in value.items() if v]
        elif isinstance(value, list):
            out[key] = [str(v) for v in value]
        elif isinstance(value, str):
            out[key] = [value]
        else:
            raise InvalidArgument(f"invalid filters: value of {key} must be a list")
    return out


def json_map(request: Request, name: str) -> dict[str, str]:
    """A query parameter holding a JSON object of strings (buildargs, labels)."""
    doc = request.json_arg(name)
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise InvalidArgument(f"invalid {name}: must be a JSON object")
    return {str(k): "" if v is None else str(v) for k, v in doc.items()}


def _b64json(text: str) -> Any:
    text = text.strip()
    if not text:
        return None
    padded = text + "=" * (-len(text) % 4)
    for decode in (base64.urlsafe_b64decode, base64.b64decode):
        try:
            return json.loads(decode(padded))
        except (ValueError, TypeError):
            continue
    raise InvalidArgument("invalid X-Registry-Auth header: not base64-encoded JSON")


def registry_creds(request: Request, registry: str | None = None) -> str | None:
    """X-Registry-Auth (base64url JSON AuthConfig) -> "user:password", or None.

    Docker sends one AuthConfig; podman-py may send a map registry -> AuthConfig
    (X-Registry-Config's shape), from which the entry for `registry` is taken."""
    doc = _b64json(request.headers.get("x-registry-auth", ""))
    if not isinstance(doc, dict) or not doc:
        return None
    if "username" not in doc and "identitytoken" not in doc and registry is not None:
        doc = doc.get(registry) or next((v for k, v in doc.items() if k.split("/")[-1] == registry or
                                         registry in k), None)
        if not isinstance(doc, dict):
            return None
    user, password = doc.get("username") or "", doc.get("password") or ""
    if doc.get("identitytoken") and not password:
        password = doc["identitytoken"]
    return f"{user}:{password}" if user else None


class BodyReader(io.RawIOBase):
    """The request body as a read-only binary file, streamed (image load, import, build)."""

    def __init__(self, request: Request) -> None:
        self._chunks = request.iter_body()
        self._pending = b""
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending and not self._done:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                self._done = True
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


class StreamWriter(io.RawIOBase):
    """A chunked response as a write-only binary file (image save)."""

    def __init__(self, stream: Stream, chunk: int = 256 << 10) -> None:
        self._stream = stream
        self._buf = bytearray()
        self._chunk = chunk

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._buf += data
        if len(self._buf) >= self._chunk:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if self._buf:
            self._stream.write(bytes(self._buf))
            self._buf.clear()


def error_line(message: str) -> dict[str, Any]:
    """A failure in the middle of a JSON progress stream, as dockerd writes it."""
    return {"errorDetail": {"message": message}, "error": message}
