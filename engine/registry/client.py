"""The distribution API (OCI distribution spec / Docker registry v2) over httpx.

One RegistryClient talks to one registry host.  It decides https or http once
(http only for insecure registries: `--tls-verify=false` or registries.conf),
answers 401 challenges through auth.Authenticator, retries connection errors,
5xx and 429 with back-off, follows redirects by hand so that Authorization is
only ever sent to the registry's own origin (S3-style blob redirects are fetched
without it), caps every body it reads into memory, and verifies content against
digests.  httpx errors are translated to engine.errors here and nowhere else.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from engine.errors import IntegrityError, InvalidArgument, RegistryAuthError, RegistryError, RegistryNotFound
from engine.oci import mediatypes as mt
from engine.oci.digest import is_digest, new_hasher, validate_digest
from engine.oci.manifest import MAX_MANIFEST_SIZE
from engine.registry.auth import Authenticator
from engine.registry.authfile import Credentials

MAX_ERROR_BODY = 1024 * 1024
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECTS = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "hull/0.1 (containers/image compatible)"
CHUNK = 1024 * 1024

Progress = Callable[[int], None]  # called with the bytes just transferred


@dataclass(frozen=True)
class FetchedManifest:
    data: bytes
    media_type: str
    digest: str


def api_host(registry: str) -> str:
    """Docker Hub's API lives on registry-1.docker.io."""
    return "registry-1.docker.io" if registry in ("docker.io", "index.docker.io") else registry


def pull_scope(repository: str) -> str:
    return f"repository:{repository}:pull"


def push_scope(repository: str, *mount_from: str) -> str:
    return " ".join([f"repository:{repository}:pull,push", *(pull_scope(r) for r in mount_from if r != repository)])


def _describe(exc: Exception) -> str:
    text = str(exc) or exc.__class__.__name__
    return text.splitlines()[0][:300]


def read_capped(response: httpx.Response, cap: int, what: str) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > cap:
        response.close()
        raise RegistryError(f"{what} of {declared} bytes exceeds the {cap} byte limit")
    data = bytearray()
    try:
        for chunk in response.iter_bytes():
            data += chunk
            if len(data) > cap:
                raise RegistryError(f"{what} exceeds the {cap} byte limit")
    except httpx.HTTPError as exc:
        raise RegistryError(f"reading {what}: {_describe(exc)}") from None
    finally:
        response.close()
    return bytes(data)


def error_message(response: httpx.Response) -> str:
    """The registry's error, as containers/image words it ("manifest unknown")."""
    try:
        body = read_capped(response, MAX_ERROR_BODY, "error body")
    except (RegistryError, httpx.StreamError):  # HEAD answers, already-closed streams
        body = b""
    try:
        errors = json.loads(body).get("errors") or []
        first = errors[0]
        code = str(first.get("code", "")).lower().replace("_", " ")
        message = str(first.get("message", "")).strip()
        text = message if code in ("", message.lower()) else f"{code}: {message}" if message else code
    except (ValueError, AttributeError, IndexError, KeyError, TypeError):
        text = ""
    if not text:
        text = {401: "unauthorized: authentication required", 403: "denied: requested access to the resource is denied",
                404: "not found"}.get(response.status_code, f"received unexpected HTTP status: {response.status_code} {response.reason_phrase}")
    return " ".join(text.split())[:500]


def raise_for_status(response: httpx.Response, what: str) -> None:
    status = response.status_code
    if status < 400:
        return
    message = f"{what}: {error_message(response)}"
    if status == 404:
        raise RegistryNotFound(message)
    if status in (401, 403):
        raise RegistryAuthError(message)
    raise RegistryError(message)


class RegistryClient:
    def __init__(
        self,
        registry: str,
        *,
        insecure: bool = False,
        credentials: Credentials | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 60.0,
        attempts: int = 4,
        backoff: float = 0.25,
    ) -> None:
        self.registry = registry
        self.host = api_host(registry)
        self.insecure = insecure
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self._scheme: str | None = None
        self._http = httpx.Client(
            verify=not insecure,
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 15.0)),
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
        )
        self.auth = Authenticator(self.host, credentials, self._http)

    # --- plumbing -------------------------------------------------------
    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "RegistryClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def base(self) -> str:
        if self._scheme is None:
            self.ping()
        return f"{self._scheme}://{self.host}"

    def _is_registry(self, url: httpx.URL) -> bool:
        """Same origin as the registry: the only place credentials may go."""
        default = 443 if url.scheme == "https" else 80
        return (
            url.scheme == self._scheme
            and f"{url.host}:{url.port or default}" == self._host_port(default)
        )

    def _host_port(self, default: int) -> str:
        host, _, port = self.host.rpartition(":") if self.host.count(":") == 1 else (self.host, "", "")
        return f"{host.lower()}:{port or default}"

    def _sleep(self, attempt: int, response: httpx.Response | None = None) -> None:
        delay = self.backoff * (2 ** (attempt - 1))
        if response is not None and (after := response.headers.get("retry-after", "")).isdigit():
            delay = min(max(delay, int(after)), 10)
        time.sleep(delay)

    def ping(self) -> None:
        """GET /v2/ to pick the scheme; http only for an insecure registry."""
        schemes = ("https", "http") if self.insecure else ("https",)
        last: Exception | None = None
        for scheme in schemes:
            for attempt in range(1, self.attempts + 1):
                try:
                    resp = self._http.get(f"{scheme}://{self.host}/v2/")
                    resp.close()
                except (httpx.ConnectError, httpx.RemoteProtocolError) as exc:
                    last = exc
                    if len(schemes) > 1 and scheme == "https":
                        break  # insecure: fall back to http at once
                    if attempt < self.attempts:
                        self._sleep(attempt)
                    continue
                except httpx.HTTPError as exc:
                    last = exc
                    if attempt < self.attempts:
                        self._sleep(attempt)
                    continue
                if resp.status_code in RETRY_STATUSES and attempt < self.attempts:
                    self._sleep(attempt, resp)
                    continue
                if resp.status_code >= 500:
                    raise RegistryError(f"pinging container registry {self.registry}: received unexpected HTTP status: {resp.status_code}")
                self._scheme = scheme
                return
        reason = _describe(last) if last else "no answer"
        raise RegistryError(f"pinging container registry {self.registry}: {reason}")

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        scope: str,
        headers: dict[str, str] | None = None,
        content: bytes | Callable[[], Iterable[bytes]] | None = None,
        params: dict[str, str] | None = None,
        retry: bool = True,
    ) -> httpx.Response:
        """Send with auth, retries and safe redirects; the response is streaming."""
        url = httpx.URL(path_or_url if "://" in path_or_url else self.base + path_or_url)
        if params:
            url = url.copy_merge_params(params)
        auth_value = self.auth.header_for(scope)
        challenged = False
        attempt = hops = 0
        while True:
            on_registry = self._is_registry(url)
            req_headers = dict(headers or {})
            if on_registry and auth_value:
                req_headers["Authorization"] = auth_value
            body = content() if callable(content) else content
            request = self._http.build_request(method, url, headers=req_headers, content=body)
            try:
                resp = self._http.send(request, stream=True)
            except httpx.HTTPError as exc:
                attempt += 1
                if not retry or attempt >= self.attempts:
                    raise RegistryError(f"{method} {url.copy_with(query=None)}: {_describe(exc)}") from None
                self._sleep(attempt)
                continue
            status = resp.status_code
            if status == 401 and on_registry and not challenged:
                new_value = self.auth.handle_challenge(resp, scope)
                if new_value is None:
                    return resp  # nothing to offer: the caller reports the 401
                resp.close()
                auth_value, challenged = new_value, True
                continue
            if status in RETRY_STATUSES and retry and attempt + 1 < self.attempts:
                resp.close()
                attempt += 1
                self._sleep(attempt, resp)
                continue
            if status in REDIRECTS and "location" in resp.headers:
                hops += 1
                if hops > 10:
                    resp.close()
                    raise RegistryError(f"{method} {url.copy_with(query=None)}: too many redirects")
                new_url = url.join(resp.headers["location"])
                resp.close()
                if new_url.scheme not in ("http", "https"):
                    raise RegistryError(f"refusing redirect to {new_url.scheme} URL")
                if status == 303 or (status in (301, 302) and method == "POST"):
                    method, content = "GET", None
                url = new_url  # Authorization is re-added only when back on the registry
                continue
            return resp

    # --- manifests ------------------------------------------------------
    def get_manifest(self, repository: str, reference: str) -> FetchedManifest:
        """Manifest bytes; verified against `reference` when it is a digest."""
        what = f"reading manifest {reference} in {self.registry}/{repository}"
        resp = self.request(
            "GET", f"/v2/{repository}/manifests/{quote(reference, safe=':')}",
            scope=pull_scope(repository), headers={"Accept": mt.MANIFEST_ACCEPT},
        )
        raise_for_status(resp, what)
        data = read_capped(resp, MAX_MANIFEST_SIZE, "manifest")
        media_type = resp.headers.get("content-type", "").split(";")[0].strip()
        if is_digest(reference):
            hasher = new_hasher(reference)
            hasher.update(data)
            computed = f"{reference.partition(':')[0]}:{hasher.hexdigest()}"
            if computed != reference:
                raise IntegrityError(f"{what}: manifest digest mismatch: got {computed}")
            return FetchedManifest(data, media_type, reference)
        import hashlib

        return FetchedManifest(data, media_type, "sha256:" + hashlib.sha256(data).hexdigest())

    def head_manifest(self, repository: str, reference: str) -> str | None:
        """The digest the registry reports for `reference`, None when unknown."""
        resp = self.request(
            "HEAD", f"/v2/{repository}/manifests/{quote(reference, safe=':')}",
            scope=pull_scope(repository), headers={"Accept": mt.MANIFEST_ACCEPT},
        )
        resp.close()
        if resp.status_code == 404:
            return None
        raise_for_status(resp, f"checking manifest {reference} in {self.registry}/{repository}")
        digest = resp.headers.get("docker-content-digest")
        return digest if digest and is_digest(digest) else None

    def put_manifest(self, repository: str, reference: str, data: bytes, media_type: str) -> str:
        import hashlib

        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        resp = self.request(
            "PUT", f"/v2/{repository}/manifests/{quote(reference, safe=':')}",
            scope=push_scope(repository), headers={"Content-Type": media_type}, content=data,
        )
        raise_for_status(resp, f"writing manifest to {self.registry}/{repository}:{reference}")
        resp.close()
        returned = resp.headers.get("docker-content-digest")
        if returned and returned != digest:
            raise IntegrityError(f"registry stored manifest as {returned}, expected {digest}")
        return digest

    # --- blobs ----------------------------------------------------------
    @contextmanager
    def open_blob(self, repository: str, digest: str) -> Iterator[httpx.Response]:
        """A streaming response for the blob (after redirects, auth stripped off-origin)."""
        validate_digest(digest)
        # identity: the digest is over the stored bytes, never a transfer re-encoding
        resp = self.request("GET", f"/v2/{repository}/blobs/{digest}", scope=pull_scope(repository),
                            headers={"Accept-Encoding": "identity"})
        try:
            raise_for_status(resp, f"fetching blob {digest} from {self.registry}/{repository}")
            yield resp
        finally:
            resp.close()

    def iter_blob(self, repository: str, digest: str, size: int | None, progress: Progress | None = None,
                  verify: bool = True) -> Iterator[bytes]:
        """Chunks of the blob; raises IntegrityError on a size or digest mismatch."""
        hasher = new_hasher(digest) if verify else None
        received = 0
        with self.open_blob(repository, digest) as resp:
            try:
                for chunk in resp.iter_bytes(CHUNK):
                    received += len(chunk)
                    if size is not None and received > size:
                        raise IntegrityError(f"blob {digest} is larger than its declared size {size}")
                    if hasher:
                        hasher.update(chunk)
                    if progress:
                        progress(len(chunk))
                    yield chunk
            except httpx.HTTPError as exc:
                raise RegistryError(f"reading blob {digest}: {_describe(exc)}") from None
        if size is not None and received != size:
            raise IntegrityError(f"blob {digest} has {received} bytes, expected {size}")
        if hasher and f"{digest.partition(':')[0]}:{hasher.hexdigest()}" != digest:
            raise IntegrityError(f"blob digest mismatch: expected {digest}")

    def read_blob(self, repository: str, digest: str, max_size: int, size: int | None = None) -> bytes:
        if size is not None and size > max_size:
            raise InvalidArgument(f"blob {digest} of {size} bytes exceeds the {max_size} byte limit")
        data = bytearray()
        for chunk in self.iter_blob(repository, digest, size):
            data += chunk
            if len(data) > max_size:
                raise RegistryError(f"blob {digest} exceeds the {max_size} byte limit")
        return bytes(data)

    def blob_exists(self, repository: str, digest: str, scope: str | None = None) -> bool:
        resp = self.request("HEAD", f"/v2/{repository}/blobs/{validate_digest(digest)}",
                            scope=scope or push_scope(repository))
        resp.close()
        if resp.status_code == 404:
            return False
        raise_for_status(resp, f"checking blob {digest} in {self.registry}/{repository}")
        return True

    def mount_blob(self, repository: str, digest: str, from_repository: str) -> bool:
        """Cross-repository mount; True when the registry linked the blob."""
        resp = self.request(
            "POST", f"/v2/{repository}/blobs/uploads/",
            scope=push_scope(repository, from_repository),
            params={"mount": validate_digest(digest), "from": from_repository},
        )
        resp.close()
        if resp.status_code == 201:
            return True
        if resp.status_code == 202 and (location := resp.headers.get("location")):
            # The registry opened an upload instead; cancel it, we upload normally.
            self.request("DELETE", str(resp.url.join(location)), scope=push_scope(repository), retry=False).close()
            return False
        raise_for_status(resp, f"mounting blob {digest} into {self.registry}/{repository}")
        return False

    def _start_upload(self, repository: str) -> httpx.URL:
        resp = self.request("POST", f"/v2/{repository}/blobs/uploads/", scope=push_scope(repository))
        resp.close()
        raise_for_status(resp, f"starting blob upload to {self.registry}/{repository}")
        location = resp.headers.get("location")
        if resp.status_code != 202 or not location:
            raise RegistryError(f"starting blob upload to {self.registry}/{repository}: no upload location")
        return resp.url.join(location)

    def upload_blob(
        self,
        repository: str,
        digest: str,
        size: int,
        open_stream: Callable[[], Iterable[bytes]],
        progress: Progress | None = None,
        chunk_size: int | None = None,
    ) -> None:
        """Upload a blob: monolithic PUT, or PATCH chunks of `chunk_size` then PUT."""
        validate_digest(digest)
        location = self._start_upload(repository)
        scope = push_scope(repository)

        def counted() -> Iterator[bytes]:
            for chunk in open_stream():
                if progress:
                    progress(len(chunk))
                yield chunk

        if chunk_size is None:
            resp = self.request(
                "PUT", str(location), scope=scope, params={"digest": digest}, retry=False,
                headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
                content=counted,
            )
            raise_for_status(resp, f"uploading blob {digest} to {self.registry}/{repository}")
            resp.close()
            return
        offset = 0
        buffer = bytearray()

        def send(part: bytes) -> None:
            nonlocal location, offset
            resp = self.request(
                "PATCH", str(location), scope=scope, retry=False, content=part,
                headers={"Content-Type": "application/octet-stream", "Content-Length": str(len(part)),
                         "Content-Range": f"{offset}-{offset + len(part) - 1}"},
            )
            raise_for_status(resp, f"uploading blob {digest} to {self.registry}/{repository}")
            resp.close()
            location = resp.url.join(resp.headers.get("location", str(location)))
            offset += len(part)

        for chunk in counted():
            buffer += chunk
            while len(buffer) >= chunk_size:
                send(bytes(buffer[:chunk_size]))
                del buffer[:chunk_size]
        if buffer:
            send(bytes(buffer))
        resp = self.request("PUT", str(location), scope=scope, params={"digest": digest}, retry=False,
                            headers={"Content-Length": "0"}, content=b"")
        raise_for_status(resp, f"finishing blob upload {digest} to {self.registry}/{repository}")
        resp.close()

    def catalog_tags(self, repository: str) -> list[str]:
        resp = self.request("GET", f"/v2/{repository}/tags/list", scope=pull_scope(repository))
        raise_for_status(resp, f"listing tags of {self.registry}/{repository}")
        doc: Any = json.loads(read_capped(resp, MAX_MANIFEST_SIZE, "tag list"))
        tags = doc.get("tags") if isinstance(doc, dict) else None
        return [t for t in tags or [] if isinstance(t, str)]
