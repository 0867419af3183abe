"""Where Hull keeps its state, and the defaults every command starts from.

Rootless: storage under $XDG_DATA_HOME/hull (~/.local/share/hull), runtime files
under $XDG_RUNTIME_DIR/hull (or a private /tmp/hull-run-UID when that is unset,
as Podman falls back).  Root: /var/lib/hull and /run/hull.  `--root`,
`--runroot`, HULL_ROOT and HULL_RUNROOT override both; tests use them to isolate
themselves.

This module is imported by every CLI call: keep it free of heavy imports.  Not
even pathlib at the top (re, enum, urllib come with it, ~7 ms): `hull run`/`start`
spawn their monitor before anything imports it (`EngineConfig.early`).
"""

from __future__ import annotations

import os
import stat

from engine.errors import StorageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path


def _path(p: str | os.PathLike) -> Path:
    from pathlib import Path

    return Path(p)


def path_str(p: str) -> str:
    """str(Path(p)) without pathlib: `.` and empty components dropped, `..` kept,
    two leading slashes kept as POSIX allows (pathlib's PurePosixPath rules)."""
    root = "//" if p.startswith("//") and not p.startswith("///") else "/" if p.startswith("/") else ""
    return (root + "/".join(part for part in p.split("/") if part and part != ".")) or "."


def absolute_str(p: str) -> str:
    """str(Path(p).absolute()) without pathlib."""
    if p.startswith("/"):
        return path_str(p)
    base, rest = path_str(os.getcwd()), path_str(p)
    if rest == ".":
        return base
    return base + rest if base.endswith("/") else f"{base}/{rest}"


def is_rootless() -> bool:
    """True for an unprivileged user, also once inside Hull's user namespace
    (where geteuid() is 0 but the store and auth files are still the user's)."""
    return os.geteuid() != 0 or os.environ.get("_HULL_USERNS_CONFIGURED") == "1"


def _home_str() -> str:
    return os.environ.get("HOME") or os.path.expanduser("~")


def _home() -> Path:
    return _path(_home_str())


def _default_root_str() -> str:
    if env := os.environ.get("HULL_ROOT"):
        return env
    if not is_rootless():
        return "/var/lib/hull"
    data_home = os.environ.get("XDG_DATA_HOME") or os.path.join(_home_str(), ".local", "share")
    return os.path.join(data_home, "hull")


def default_root() -> Path:
    return _path(_default_root_str())


def _runtime_dir_str() -> str:
    env = os.environ.get("XDG_RUNTIME_DIR")
    if env and os.path.isdir(env) and os.access(env, os.W_OK):
        return env
    fallback = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"hull-run-{os.geteuid()}")
    ensure_private_dir(fallback)
    return fallback


def runtime_dir() -> Path:
    """$XDG_RUNTIME_DIR when usable, else a private directory we own."""
    return _path(_runtime_dir_str())


def _default_runroot_str() -> str:
    if env := os.environ.get("HULL_RUNROOT"):
        return env
    if not is_rootless():
        return "/run/hull"
    return os.path.join(_runtime_dir_str(), "hull")


def default_runroot() -> Path:
    return _path(_default_runroot_str())


def ensure_private_dir(path: str | Path) -> str | Path:
    """Create `path` mode 0700, refusing one that another user owns."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        st = os.lstat(path)
    except OSError as exc:
        raise StorageError(f"cannot create {path}: {exc.strerror}") from None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid():
        raise StorageError(f"{path} is not a directory owned by uid {os.geteuid()}")
    if st.st_mode & 0o077:
        os.chmod(path, 0o700)
    return path


class EngineConfig:
    """Paths and defaults for one Hull invocation.

    A plain class, not a dataclass: this module is on every command's start-up
    path and `dataclasses` drags in `inspect` (milliseconds per call).
    """

    __slots__ = ("root", "runroot", "rootless", "tls_verify", "registries_conf", "authfile")

    def __init__(self, root: Path | None = None, runroot: Path | None = None,
                 rootless: bool | None = None, tls_verify: bool | None = None,
                 registries_conf: Path | None = None, authfile: Path | None = None) -> None:
        self.root = _path(root) if root is not None else default_root()
        self.runroot = _path(runroot) if runroot is not None else default_runroot()
        self.rootless = is_rootless() if rootless is None else rootless
        self.tls_verify = tls_verify  # None: as registries.conf says
        self.registries_conf = registries_conf  # explicit file (tests, --registries-conf)
        self.authfile = authfile

    @classmethod
    def early(cls, root: str | None, runroot: str | None) -> "EngineConfig":
        """The store of `--root ROOT --runroot RUNROOT` (each absolute, as Context.config()
        makes it) with root and runroot as the str their Path would print, built without
        pathlib: only for spawning the monitor before argparse (engine/cli/early.py:
        enter_userns and monitor.launch.prespawn use os.path on them).  replace() gives
        the usual Path form."""
        cfg = cls.__new__(cls)
        cfg.root = absolute_str(root) if root else path_str(_default_root_str())  # type: ignore[assignment]
        cfg.runroot = absolute_str(runroot) if runroot else path_str(_default_runroot_str())  # type: ignore[assignment]
        cfg.rootless = is_rootless()
        cfg.tls_verify = cfg.registries_conf = cfg.authfile = None
        return cfg

    def replace(self, **changes: object) -> "EngineConfig":
        """A copy with some fields changed."""
        fields = {name: getattr(self, name) for name in self.__slots__}
        fields.update(changes)
        return EngineConfig(**fields)  # type: ignore[arg-type]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EngineConfig) and all(
            getattr(self, n) == getattr(other, n) for n in self.__slots__)

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__)
        return f"EngineConfig({inner})"

    # --- storage layout (see docs/architecture.md) ---
    @property
    def db_path(self) -> Path:
        return self.root / "state.db"

    @property
    def blobs_dir(self) -> Path:
        return self.root / "blobs"

    @property
    def layers_dir(self) -> Path:
        return self.root / "layers"

    @property
    def containers_dir(self) -> Path:
        return self.root / "containers"

    @property
    def volumes_dir(self) -> Path:
        return self.root / "volumes"

    @property
    def tmp_dir(self) -> Path:
        return self.root / "tmp"

    @property
    def locks_dir(self) -> Path:
        return self.root / "locks"

    def prepare(self) -> "EngineConfig":
        """Create the directories (0700: setuid files in layers stay private)."""
        ensure_private_dir(self.root)
        for sub in (self.blobs_dir, self.layers_dir, self.tmp_dir, self.locks_dir):
            sub.mkdir(mode=0o700, exist_ok=True)
        ensure_private_dir(self.runroot)
        return self

    def auth_file_candidates(self) -> list[Path]:
        """auth.json to read, in order; the first is where login writes."""
        if self.authfile:
            return [self.authfile]
        from pathlib import Path

        if env := os.environ.get("REGISTRY_AUTH_FILE"):
            return [Path(env)]
        paths = []
        if self.rootless:
            paths.append(runtime_dir() / "containers" / "auth.json")
        else:
            paths.append(Path("/run/containers/0/auth.json"))
        paths.append(_home() / ".config" / "containers" / "auth.json")
        docker_cfg = os.environ.get("DOCKER_CONFIG")
        paths.append(Path(docker_cfg) / "config.json" if docker_cfg else _home() / ".docker" / "config.json")
        return paths

    def registries_conf_candidates(self) -> list[Path]:
        if self.registries_conf:
            return [self.registries_conf]
        from pathlib import Path

        if env := os.environ.get("CONTAINERS_REGISTRIES_CONF"):
            return [Path(env)]
        user = Path(os.environ.get("XDG_CONFIG_HOME") or _home() / ".config") / "containers" / "registries.conf"
        return [user, Path("/etc/containers/registries.conf")]
