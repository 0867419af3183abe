"""Registry authentication: WWW-Authenticate challenges, Basic and Bearer tokens.

Credentials go to two places only: the registry host the user named (Basic, or
the bearer token it issued) and the token realm its challenge points to, and the
realm must be a plain http(s) URL with a host, no userinfo, not link-local or a
cloud metadata address (CVE-2020-15157), https unless the registry itself is
reached over http.  Token requests never follow redirects.  Tokens are cached per
scope, and a token response is read up to 1 MiB.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import re
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from engine.errors import RegistryAuthError, RegistryError
from engine.registry.authfile import Credentials

MAX_TOKEN_RESPONSE = 1024 * 1024
_PARAM_RE = re.compile(r'\s*([A-Za-z0-9_.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?')
_METADATA_HOSTS = {"metadata.google.internal", "metadata", "169.254.169.254", "fd00:ec2::254"}


@dataclass(frozen=True)
class Challenge:
    scheme: str  # lower case: "basic" or "bearer"
    params: dict[str, str] = field(default_factory=dict, hash=False)


def parse_challenges(header: str) -> list[Challenge]:
    """Parse a WWW-Authenticate header (RFC 7235 auth-params; quoted strings)."""
    challenges: list[Challenge] = []
    rest = header.strip()
    while rest:
        m = re.match(r"([A-Za-z][A-Za-z0-9_-]*)\s*", rest)
        if not m:
            break
        scheme = m.group(1).lower()
        rest = rest[m.end() :]
        params: dict[str, str] = {}
        while rest:
            pm = _PARAM_RE.match(rest)
            # A bare token without "=" starts the next challenge.
            if not pm:
                break
            value = pm.group(2) if pm.group(2) is not None else pm.group(3)
            params[pm.group(1).lower()] = re.sub(r"\\(.)", r"\1", value)
            rest = rest[pm.end() :]
        challenges.append(Challenge(scheme, params))
        rest = rest.lstrip(", ")
    return challenges


def validate_realm(realm: str, registry_scheme: str) -> str:
    """Refuse realms that would leak credentials to a place nobody chose."""
    try:
        url = urlsplit(realm)
        host = url.hostname
        url.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise RegistryAuthError(f"invalid token realm {realm!r}") from None
    if url.scheme not in ("https", "http") or not host:
        raise RegistryAuthError(f"invalid token realm {realm!r}: must be an http(s) URL with a host")
    if url.scheme == "http" and registry_scheme != "http":
        raise RegistryAuthError(f"refusing token realm {realm!r}: plain http for a https registry")
    if url.username is not None or url.password is not None or "@" in url.netloc:
        raise RegistryAuthError(f"refusing token realm {realm!r}: contains userinfo")
    if host.lower() in _METADATA_HOSTS:
        raise RegistryAuthError(f"refusing token realm {realm!r}: metadata address")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is not None and (ip.is_link_local or ip.is_multicast or ip.is_unspecified):
        raise RegistryAuthError(f"refusing token realm {realm!r}: link-local address")
    return realm


def basic_header(creds: Credentials) -> str:
    return "Basic " + base64.b64encode(f"{creds.username}:{creds.password}".encode()).decode()


def _read_capped(response: httpx.Response, cap: int) -> bytes:
    data = bytearray()
    for chunk in response.iter_bytes():
        data += chunk
        if len(data) > cap:
            raise RegistryAuthError(f"token response larger than {cap} bytes")
    return bytes(data)


class Authenticator:
    """Turns challenges into Authorization headers for one registry host."""

    def __init__(self, registry_host: str, credentials: Credentials | None, http: httpx.Client) -> None:
        self.registry_host = registry_host
        self.credentials = credentials
        self._http = http
        self._lock = threading.Lock()
        self._scheme: str | None = None  # "basic" or "bearer" once challenged
        self._challenge: Challenge | None = None
        self._tokens: dict[str, tuple[str, float]] = {}  # scope -> (token, expiry)
        self._registry_scheme = "https"

    def header_for(self, scope: str) -> str | None:
        """The Authorization value to send proactively, if we know one."""
        with self._lock:
            if self._scheme == "basic" and self.credentials:
                return basic_header(self.credentials)
            if self._scheme == "bearer":
                cached = self._tokens.get(scope)
                if cached and cached[1] > time.monotonic():
                    return "Bearer " + cached[0]
        return None

    def handle_challenge(self, response: httpx.Response, scope: str) -> str | None:
        """After a 401: the Authorization value to retry with; None if we have none."""
        header = response.headers.get("www-authenticate", "")
        challenges = {c.scheme: c for c in parse_challenges(header)}
        self._registry_scheme = response.request.url.scheme
        if "bearer" in challenges:
            challenge = challenges["bearer"]
            token = self._fetch_token(challenge, scope)
            with self._lock:
                self._scheme, self._challenge = "bearer", challenge
            return "Bearer " + token
        if "basic" in challenges:
            if not self.credentials:
                return None
            with self._lock:
                self._scheme = "basic"
            return basic_header(self.credentials)
        raise RegistryAuthError(f"unauthorized: unsupported authentication challenge {header[:100]!r}")

    def token_for(self, scope: str) -> str | None:
        """A bearer token for a new scope once the registry is known to use tokens."""
        with self._lock:
            challenge = self._challenge if self._scheme == "bearer" else None
        if challenge is None:
            return self.header_for(scope)
        return "Bearer " + self._fetch_token(challenge, scope)

    def _fetch_token(self, challenge: Challenge, scope: str) -> str:
        with self._lock:
            cached = self._tokens.get(scope)
            if cached and cached[1] > time.monotonic():
                return cached[0]
        realm = challenge.params.get("realm")
        if not realm:
            raise RegistryAuthError("unauthorized: bearer challenge without realm")
        validate_realm(realm, self._registry_scheme)
        params: list[tuple[str, str]] = []
        if service := challenge.params.get("service"):
            params.append(("service", service))
        for part in scope.split(" "):
            if part:
                params.append(("scope", part))
        headers = {}
        if self.credentials:
            params.append(("account", self.credentials.username))
            headers["Authorization"] = basic_header(self.credentials)
        try:
            with self._http.stream("GET", realm, params=params, headers=headers, follow_redirects=False) as resp:
                body = _read_capped(resp, MAX_TOKEN_RESPONSE)
                status = resp.status_code
        except httpx.HTTPError as exc:
            raise RegistryError(f"getting token from {realm}: {exc.__class__.__name__}: {exc}") from None
        if status in (401, 403):
            raise RegistryAuthError(f"unable to retrieve auth token: invalid username/password: unauthorized ({status})")
        if status != 200:
            raise RegistryAuthError(f"getting token from {realm}: unexpected status {status}")
        try:
            doc = json.loads(body)
            token = doc.get("token") or doc.get("access_token")
        except (ValueError, AttributeError):
            token = None
        if not isinstance(token, str) or not token or any(c in token for c in "\r\n"):
            raise RegistryAuthError(f"getting token from {realm}: no token in response")
        expires_in = doc.get("expires_in")
        lifetime = expires_in if isinstance(expires_in, int) and expires_in > 0 else 60
        with self._lock:
            # Renew a little early so a long pull never sends a just-expired token.
            self._tokens[scope] = (token, time.monotonic() + max(lifetime - 10, 5))
        return token
