"""login / logout: credentials in auth.json, checked against the registry first."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.config import EngineConfig
from engine.errors import InvalidArgument, RegistryAuthError


@dataclass
class LoginOptions:
    username: str
    password: str
    tls_verify: bool | None = None
    authfile: str | None = None


def _auth_path(cfg: EngineConfig, authfile: str | None) -> Path:
    return Path(authfile) if authfile else cfg.auth_file_candidates()[0]


def registry_host(text: str) -> str:
    """`https://quay.io/v1/`, `quay.io/repo`, `docker.io` -> the registry key."""
    for scheme in ("https://", "http://"):
        if text.startswith(scheme):
            text = text[len(scheme):].split("/", 1)[0]
    host = text.split("/", 1)[0].strip()
    if not host:
        raise InvalidArgument("please provide a registry to log in to")
    return "docker.io" if host in ("index.docker.io", "registry-1.docker.io") else host


def verify(cfg: EngineConfig, registry: str, username: str, password: str, tls_verify: bool | None) -> None:
    """Ask the registry whether these credentials open /v2/ (Basic or a token)."""
    from engine.registry.authfile import Credentials
    from engine.registry.pull import open_client
    from engine.registry.registries_conf import Endpoint, load_registries_conf

    conf = load_registries_conf(cfg.registries_conf_candidates())
    host = "registry-1.docker.io" if registry == "docker.io" else registry
    client = open_client(cfg, conf, Endpoint(host), "", tls_verify=tls_verify,
                         credentials=Credentials(username, password))
    try:
        client.ping()
        resp = client.request("GET", "/v2/", scope="")
        status = resp.status_code
        resp.close()
    finally:
        client.close()
    if status == 401:
        raise RegistryAuthError(f'logging into "{registry}": invalid username/password')
    if status >= 400:
        raise RegistryAuthError(f'logging into "{registry}": unexpected HTTP status {status}')


def login(cfg: EngineConfig, registry_text: str, opts: LoginOptions) -> str:
    """Verify, then store; returns the auth file written."""
    from engine.registry import authfile

    registry = registry_host(registry_text)
    if not opts.username:
        raise InvalidArgument("username is empty")
    if not opts.password:
        raise InvalidArgument("password is empty")
    verify(cfg, registry, opts.username, opts.password, opts.tls_verify)
    path = _auth_path(cfg, opts.authfile)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    authfile.store(path, registry, authfile.Credentials(opts.username, opts.password))
    return str(path)


def get_login(cfg: EngineConfig, registry_text: str, authfile_path: str | None = None) -> str:
    """`login --get-login`: the stored user name, or an error when not logged in."""
    from engine.registry import authfile

    registry = registry_host(registry_text)
    candidates = [Path(authfile_path)] if authfile_path else cfg.auth_file_candidates()
    creds = authfile.lookup(candidates, registry)
    if creds is None:
        raise RegistryAuthError(f"not logged into {registry}")
    return creds.username


def logout(cfg: EngineConfig, registry_text: str | None, all_: bool = False, authfile_path: str | None = None) -> None:
    from engine.registry import authfile

    path = _auth_path(cfg, authfile_path)
    if all_:
        if path.exists():
            authfile.remove_all(path)
        return
    if not registry_text:
        raise InvalidArgument("registry must be given")
    registry = registry_host(registry_text)
    if not path.exists() or not authfile.remove(path, registry):
        raise InvalidArgument(f"not logged into {registry}")
