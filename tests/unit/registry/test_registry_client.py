"""RegistryClient against in-memory fake hosts (httpx.MockTransport).

Three hosts: the registry (reg.example), its token service (auth.example) and a
blob CDN it redirects to (cdn.example).  The CDN and any other host must never
see an Authorization header.
"""

import base64
import hashlib
import json

import httpx
import pytest

from engine.errors import IntegrityError, RegistryAuthError, RegistryError, RegistryNotFound
from engine.oci import mediatypes as mt
from engine.registry.authfile import Credentials
from engine.registry.client import RegistryClient

BLOB = b"layer bytes" * 1000
BLOB_D = "sha256:" + hashlib.sha256(BLOB).hexdigest()
MANIFEST = json.dumps({"schemaVersion": 2, "mediaType": mt.OCI_MANIFEST,
                       "config": {"mediaType": mt.OCI_CONFIG, "digest": BLOB_D, "size": len(BLOB)},
                       "layers": []}).encode()
MANIFEST_D = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()
BASIC = "Basic " + base64.b64encode(b"alice:pw").decode()


class FakeHosts:
    def __init__(self, *, auth="bearer", realm="https://auth.example/token", redirect_blobs=True):
        self.auth, self.realm, self.redirect_blobs = auth, realm, redirect_blobs
        self.seen: list[tuple[str, str, str | None]] = []  # (host, path, authorization)
        self.token_requests: list[httpx.Request] = []
        self.fail_next: list[int] = []
        self.manifest = MANIFEST
        self.blob = BLOB
        self.token_body: bytes | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        authz = request.headers.get("authorization")
        self.seen.append((host, request.url.path, authz))
        if host == "auth.example":
            self.token_requests.append(request)
            if self.token_body is not None:
                return httpx.Response(200, content=self.token_body)
            if authz not in (None, BASIC):
                return httpx.Response(401)
            scope = request.url.params.get("scope")
            return httpx.Response(200, json={"token": f"tok:{scope}", "expires_in": 300})
        if host == "cdn.example":
            return httpx.Response(200, content=self.blob)
        if host != "reg.example":
            return httpx.Response(404)
        if self.fail_next:
            return httpx.Response(self.fail_next.pop(0))
        if request.url.path == "/v2/":
            return httpx.Response(200)
        if not self._authorised(request, authz):
            challenge = (f'Bearer realm="{self.realm}",service="reg.example"' if self.auth == "bearer"
                         else 'Basic realm="x"')
            return httpx.Response(401, headers={"WWW-Authenticate": challenge},
                                  json={"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]})
        if "/manifests/" in request.url.path:
            ref = request.url.path.rsplit("/", 1)[1]
            if ref in ("latest", MANIFEST_D):
                return httpx.Response(200, content=self.manifest, headers={"Content-Type": mt.OCI_MANIFEST})
            return httpx.Response(404, json={"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]})
        if "/blobs/" in request.url.path:
            if self.redirect_blobs:
                return httpx.Response(307, headers={"Location": "https://cdn.example/bucket/blob?sig=1"})
            return httpx.Response(200, content=self.blob)
        return httpx.Response(404)

    def _authorised(self, request, authz):
        if self.auth == "none":
            return True
        if self.auth == "basic":
            return authz == BASIC
        return bool(authz and authz.startswith("Bearer tok:repository:"))


def client(fake, creds=Credentials("alice", "pw"), **kw):
    return RegistryClient("reg.example", credentials=creds, transport=httpx.MockTransport(fake), backoff=0, **kw)


def test_bearer_flow_caches_token_and_never_leaks_credentials():
    fake = FakeHosts()
    c = client(fake)
    assert c.get_manifest("a/b", "latest").digest == MANIFEST_D
    assert c.get_manifest("a/b", MANIFEST_D).data == MANIFEST
    assert b"".join(c.iter_blob("a/b", BLOB_D, len(BLOB))) == BLOB
    # one token for the scope, fetched with basic credentials, service and scope
    assert len(fake.token_requests) == 1
    tr = fake.token_requests[0]
    assert tr.url.params["service"] == "reg.example" and tr.url.params["scope"] == "repository:a/b:pull"
    assert tr.headers["authorization"] == BASIC
    for host, _path, authz in fake.seen:
        if host == "cdn.example":
            assert authz is None
        if host == "reg.example" and authz:
            assert authz.startswith("Bearer ")  # the password itself only goes to the realm


def test_new_scope_gets_new_token():
    fake = FakeHosts()
    c = client(fake)
    c.get_manifest("a/b", "latest")
    c.get_manifest("c/d", "latest")
    assert [r.url.params["scope"] for r in fake.token_requests] == ["repository:a/b:pull", "repository:c/d:pull"]


def test_anonymous_bearer():
    fake = FakeHosts()
    client(fake, creds=None).get_manifest("a/b", "latest")
    assert "authorization" not in fake.token_requests[0].headers


def test_basic_auth_only_to_registry():
    fake = FakeHosts(auth="basic")
    c = client(fake)
    assert b"".join(c.iter_blob("a/b", BLOB_D, None)) == BLOB
    assert any(h == "reg.example" and a == BASIC for h, _, a in fake.seen)
    assert all(a is None for h, _, a in fake.seen if h != "reg.example")


def test_wrong_credentials_one_line_auth_error():
    fake = FakeHosts(auth="basic")
    with pytest.raises(RegistryAuthError) as info:
        client(fake, creds=Credentials("alice", "wrong")).get_manifest("a/b", "latest")
    assert str(info.value) == "reading manifest latest in reg.example/a/b: unauthorized: authentication required"
    with pytest.raises(RegistryAuthError):
        client(FakeHosts(), creds=Credentials("alice", "wrong")).get_manifest("a/b", "latest")


def test_realm_pointing_at_metadata_is_refused():
    fake = FakeHosts(realm="https://169.254.169.254/token")
    with pytest.raises(RegistryAuthError):
        client(fake).get_manifest("a/b", "latest")
    assert not any(h == "169.254.169.254" for h, _, _ in fake.seen)


def test_token_response_capped():
    fake = FakeHosts()
    fake.token_body = b'{"token": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    with pytest.raises(RegistryAuthError, match="larger"):
        client(fake).get_manifest("a/b", "latest")


def test_not_found_is_one_line():
    with pytest.raises(RegistryNotFound) as info:
        client(FakeHosts()).get_manifest("a/b", "nope")
    assert str(info.value) == "reading manifest nope in reg.example/a/b: manifest unknown"


def test_manifest_digest_mismatch_detected():
    fake = FakeHosts(auth="none")
    fake.manifest = MANIFEST + b" "
    with pytest.raises(IntegrityError):
        client(fake).get_manifest("a/b", MANIFEST_D)


def test_manifest_size_capped():
    fake = FakeHosts(auth="none")
    fake.manifest = b" " * (4 * 1024 * 1024 + 1)
    with pytest.raises(RegistryError, match="limit"):
        client(fake).get_manifest("a/b", "latest")


def test_blob_digest_and_size_mismatch_detected():
    fake = FakeHosts(auth="none")
    fake.blob = BLOB[:-1] + b"X"
    with pytest.raises(IntegrityError, match="digest"):
        b"".join(client(fake).iter_blob("a/b", BLOB_D, len(BLOB)))
    fake.blob = BLOB + b"more"
    with pytest.raises(IntegrityError, match="larger"):
        b"".join(client(fake).iter_blob("a/b", BLOB_D, len(BLOB)))


def test_retries_5xx_and_429_then_gives_up():
    fake = FakeHosts(auth="none", redirect_blobs=False)
    fake.fail_next = [503, 429]
    assert client(fake).get_manifest("a/b", "latest").digest == MANIFEST_D
    fake.fail_next = [500] * 10
    with pytest.raises(RegistryError):
        client(fake, attempts=3).get_manifest("a/b", "latest")
    assert len(fake.fail_next) == 10 - 3


def test_connection_errors_retried():
    calls = []

    def flaky(request):
        calls.append(request.url.path)
        if len(calls) <= 2:
            raise httpx.ConnectError("connection refused")
        return httpx.Response(200, content=MANIFEST, headers={"Content-Type": mt.OCI_MANIFEST})

    c = RegistryClient("reg.example", transport=httpx.MockTransport(flaky), backoff=0)
    assert c.get_manifest("a/b", "latest").digest == MANIFEST_D


def test_redirect_back_to_registry_keeps_auth_but_foreign_never_gets_it():
    seen = []

    def handler(request):
        seen.append((request.url.host, request.headers.get("authorization")))
        if request.url.host == "reg.example" and request.url.path == "/v2/":
            return httpx.Response(200)
        if request.url.host == "reg.example" and request.headers.get("authorization") != BASIC:
            return httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="r"'})
        if request.url.host == "reg.example":
            return httpx.Response(302, headers={"Location": "https://other.example/x"})
        return httpx.Response(200, content=BLOB)

    c = RegistryClient("reg.example", credentials=Credentials("alice", "pw"), transport=httpx.MockTransport(handler))
    assert c.read_blob("a/b", BLOB_D, 1 << 20) == BLOB
    assert ("other.example", None) in seen
    assert all(a is None for h, a in seen if h == "other.example")


def test_https_only_unless_insecure():
    schemes = []

    def handler(request):
        schemes.append(request.url.scheme)
        if request.url.scheme == "https":
            raise httpx.ConnectError("wrong version number")
        return httpx.Response(200, content=MANIFEST, headers={"Content-Type": mt.OCI_MANIFEST})

    with pytest.raises(RegistryError, match="pinging container registry"):
        RegistryClient("reg.example", transport=httpx.MockTransport(handler), backoff=0, attempts=2).ping()
    assert set(schemes) == {"https"}
    insecure = RegistryClient("reg.example", insecure=True, transport=httpx.MockTransport(handler), backoff=0)
    assert insecure.get_manifest("a/b", "latest").digest == MANIFEST_D
    assert schemes[-1] == "http"
