"""registries.conf (containers-registries.conf(5), v2 TOML), the parts Hull honours.

    unqualified-search-registries = ["docker.io", "quay.io"]
    [[registry]]
    prefix = "example.com/foo"      # defaults to location
    location = "internal:5000/foo"
    insecure = true                 # http allowed, TLS not verified
    blocked = false
    [[registry.mirror]]
    location = "mirror.local/foo"
    insecure = true

The most specific prefix wins.  Mirrors are tried first, then the location.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import InvalidArgument, RegistryError
from engine.oci.reference import Reference


@dataclass(frozen=True)
class Endpoint:
    """One place to fetch from: `host[:port][/path]` replacing the prefix."""

    location: str
    insecure: bool = False

    @property
    def host(self) -> str:
        return self.location.split("/", 1)[0]


@dataclass(frozen=True)
class RegistryEntry:
    prefix: str
    location: str
    insecure: bool = False
    blocked: bool = False
    mirrors: tuple[Endpoint, ...] = ()


@dataclass
class RegistriesConf:
    unqualified_search: list[str] = field(default_factory=list)
    registries: list[RegistryEntry] = field(default_factory=list)
    path: Path | None = None

    def find(self, name: str) -> RegistryEntry | None:
        """The entry whose prefix matches `registry/repository` best."""
        best: RegistryEntry | None = None
        for entry in self.registries:
            prefix = entry.prefix
            if prefix.startswith("*."):  # wildcard subdomains: *.example.com
                host = name.split("/", 1)[0]
                if not host.endswith(prefix[1:]):
                    continue
            elif not (name == prefix or name.startswith(prefix + "/") or name.startswith(prefix + ":") or name.startswith(prefix + "@")):
                continue
            if best is None or len(prefix) > len(best.prefix):
                best = entry
        return best

    def is_insecure(self, host: str) -> bool:
        """Whether registries.conf marks `host` (as location or mirror) insecure."""
        for entry in self.registries:
            if entry.location.split("/", 1)[0] == host and entry.insecure:
                return True
            if any(m.host == host and m.insecure for m in entry.mirrors):
                return True
        entry = self.find(host)
        return bool(entry and entry.insecure and entry.prefix.split("/", 1)[0] == host)

    def endpoints(self, ref: Reference) -> list[tuple[Endpoint, str]]:
        """(endpoint, repository on that endpoint) pairs to try for `ref`, in order."""
        entry = self.find(ref.name)
        if entry is None:
            return [(Endpoint(ref.registry, self.is_insecure(ref.registry)), ref.repository)]
        if entry.blocked:
            raise RegistryError(f"registry {ref.registry} is blocked in {self.path or 'registries.conf'}")
        # A wildcard entry (*.example.com) has no location: the matched host is it.
        prefix = ref.registry if entry.prefix.startswith("*.") else entry.prefix
        location = ref.registry if entry.prefix.startswith("*.") else entry.location
        # Mirrors first (tags allowed: mirror-by-digest-only is not implemented).
        return [_rewrite(t, ref.name, prefix) for t in (*entry.mirrors, Endpoint(location, entry.insecure))]


def _rewrite(target: Endpoint, name: str, prefix: str) -> tuple[Endpoint, str]:
    full = target.location + name[len(prefix) :]
    host, _, repository = full.partition("/")
    if not repository:
        raise InvalidArgument(f"registries.conf location {target.location!r} leaves no repository for {name}")
    return Endpoint(host, target.insecure), repository


def _entry(doc: dict, source: Path | str) -> RegistryEntry:
    location = doc.get("location", "")
    prefix = doc.get("prefix") or location
    if not isinstance(location, str) or not isinstance(prefix, str) or not prefix:
        raise InvalidArgument(f"{source}: [[registry]] needs a location or a prefix")
    location = location.removeprefix("https://").removeprefix("http://").rstrip("/")
    prefix = prefix.rstrip("/")
    mirrors = []
    for m in doc.get("mirror", []) or []:
        if not isinstance(m, dict) or not isinstance(m.get("location"), str) or not m["location"]:
            raise InvalidArgument(f"{source}: [[registry.mirror]] needs a location")
        mirrors.append(Endpoint(m["location"].rstrip("/"), bool(m.get("insecure", False))))
    return RegistryEntry(
        prefix=prefix,
        location=location or prefix,
        insecure=bool(doc.get("insecure", False)),
        blocked=bool(doc.get("blocked", False)),
        mirrors=tuple(mirrors),
    )


def parse_registries_conf(text: str, source: Path | str = "registries.conf") -> RegistriesConf:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidArgument(f"{source}: {exc}") from None
    search = doc.get("unqualified-search-registries", [])
    if not isinstance(search, list) or not all(isinstance(s, str) for s in search):
        raise InvalidArgument(f"{source}: unqualified-search-registries must be a list of strings")
    entries = doc.get("registry", []) or []
    if not isinstance(entries, list):
        raise InvalidArgument(f"{source}: [[registry]] must be an array of tables")
    # v1 format ([registries.insecure] registries = [...]) is still common: honour it.
    v1 = doc.get("registries") if isinstance(doc.get("registries"), dict) else {}
    regs = [_entry(e, source) for e in entries]
    for host in (v1.get("insecure") or {}).get("registries", []) or []:
        regs.append(RegistryEntry(prefix=host, location=host, insecure=True))
    for host in (v1.get("block") or {}).get("registries", []) or []:
        regs.append(RegistryEntry(prefix=host, location=host, blocked=True))
    if not search:
        search = list((v1.get("search") or {}).get("registries", []) or [])
    return RegistriesConf(unqualified_search=list(search), registries=regs, path=Path(source) if isinstance(source, Path) else None)


def load_registries_conf(candidates: list[Path]) -> RegistriesConf:
    """The first existing file of `candidates`, or an empty configuration."""
    for path in candidates:
        try:
            text = path.read_text()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise InvalidArgument(f"cannot read {path}: {exc.strerror}") from None
        conf = parse_registries_conf(text, path)
        conf.path = path
        return conf
    return RegistriesConf()
