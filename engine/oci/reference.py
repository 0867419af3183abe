"""Image references, parsed and normalised as Podman (containers/image) does.

`busybox` -> docker.io/library/busybox:latest, `user/app` -> docker.io/user/app,
`localhost:5000/a/b:tag`, `host/a@sha256:...`, `name:tag@digest`.  The first path
component is a registry only if it contains `.` or `:` or is `localhost`, so
`user/app` is a Docker Hub name while `quay.io/app` is not.

Tables keep the full name (`docker.io/library/busybox`) in REPOSITORY as Podman
does; `.familiar` is the short Docker form for callers that want it.
"""

from __future__ import annotations

import re

from engine.errors import InvalidArgument
from engine.oci.digest import validate_digest
from engine.record import DataRecord

DOCKER_HUB = "docker.io"
DEFAULT_TAG = "latest"
_NAME_MAX = 255

# distribution/reference grammar.
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_PATH_RE = re.compile(rf"^{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*$")
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_RE = re.compile(
    rf"^(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$"
)
_TAG_RE = re.compile(r"^[\w][\w.-]{0,127}$")
_ID_RE = re.compile(r"^[a-f0-9]{64}$")


class Reference(DataRecord, frozen=True):  # not @dataclass: that import costs ms on every run
    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """registry/repository, what Podman shows in REPOSITORY."""
        return f"{self.registry}/{self.repository}"

    def __str__(self) -> str:
        text = self.name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text

    @property
    def familiar(self) -> str:
        """Docker's short form: `busybox:latest`, `user/app:1`, others unchanged."""
        text = str(self)
        if self.registry == DOCKER_HUB:
            text = text[len(DOCKER_HUB) + 1 :]
            if text.startswith("library/") and "/" not in self.repository[len("library/") :]:
                text = text[len("library/") :]
        return text

    @property
    def manifest_reference(self) -> str:
        """What to put after /manifests/: the digest when pinned, else the tag."""
        return self.digest or self.tag or DEFAULT_TAG

    def with_tag(self, tag: str | None) -> "Reference":
        return self.replace(tag=tag)

    def with_digest(self, digest: str | None) -> "Reference":
        return self.replace(digest=digest)


def _split_domain(name: str) -> tuple[str | None, str]:
    """(registry or None when the name does not start with one, remainder)."""
    first, sep, rest = name.partition("/")
    if not sep:
        return None, name
    if "." in first or ":" in first or first == "localhost" or first != first.lower():
        return first, rest
    return None, name


def _split_tag_digest(text: str) -> tuple[str, str | None, str | None]:
    digest = None
    if "@" in text:
        text, _, digest = text.partition("@")
        validate_digest(digest)
    tag = None
    slash = text.rfind("/")
    colon = text.rfind(":")
    if colon > slash:  # a colon after the last slash is a tag, before it a port
        text, tag = text[:colon], text[colon + 1 :]
        if not _TAG_RE.match(tag):
            raise InvalidArgument(f"invalid tag {tag!r} in reference")
    return text, tag, digest


def _parse(text: str) -> tuple[str | None, str, str | None, str | None]:
    if not isinstance(text, str) or not text or text != text.strip():
        raise InvalidArgument(f"invalid reference format: {text!r}")
    if text.startswith("docker://"):  # Podman accepts the transport prefix
        text = text[len("docker://") :]
    try:
        name, tag, digest = _split_tag_digest(text)
    except InvalidArgument as exc:
        raise InvalidArgument(f"invalid reference format {text!r}: {exc}") from None
    if len(name) > _NAME_MAX:
        raise InvalidArgument(f"invalid reference format {text!r}: repository name must not be more than {_NAME_MAX} characters")
    registry, path = _split_domain(name)
    if registry is not None:
        if not _DOMAIN_RE.match(registry):
            raise InvalidArgument(f"invalid reference format {text!r}: bad registry host {registry!r}")
        if registry == "index.docker.io":
            registry = DOCKER_HUB
    if path != path.lower() and _PATH_RE.match(path.lower()):
        raise InvalidArgument(f"invalid reference format {text!r}: repository name must be lowercase")
    if not _PATH_RE.match(path):
        raise InvalidArgument(f"invalid reference format: {text!r}")
    if registry is None and _ID_RE.match(path):
        raise InvalidArgument(f"invalid reference format {text!r}: cannot specify 64-byte hexadecimal strings")
    return registry, path, tag, digest


def _qualify(registry: str, path: str, tag: str | None, digest: str | None) -> Reference:
    if registry == DOCKER_HUB and "/" not in path:
        path = "library/" + path
    if tag is None and digest is None:
        tag = DEFAULT_TAG
    return Reference(registry, path, tag, digest)


def is_fully_qualified(text: str) -> bool:
    """True when `text` names its registry (`quay.io/x`, `localhost/x`)."""
    return _parse(text)[0] is not None


def parse_reference(text: str) -> Reference:
    """Parse and normalise; an unqualified name lands on docker.io like Docker."""
    registry, path, tag, digest = _parse(text)
    return _qualify(registry or DOCKER_HUB, path, tag, digest)


def parse_repository(text: str) -> Reference:
    """Like parse_reference but without adding `:latest` (for `--filter reference=`, tag)."""
    registry, path, tag, digest = _parse(text)
    ref = _qualify(registry or DOCKER_HUB, path, tag or "x", digest)
    return ref.with_tag(tag)


def candidates(text: str, search_registries: list[str] | None) -> list[Reference]:
    """Full names to try for `text`, in order (Podman, short-name-mode permissive).

    A qualified name is its only candidate; an unqualified one is tried on each of
    registries.conf's unqualified-search-registries, docker.io when none is set.
    """
    registry, path, tag, digest = _parse(text)
    if registry is not None:
        return [_qualify(registry, path, tag, digest)]
    registries = [r for r in (search_registries or []) if r] or [DOCKER_HUB]
    out: list[Reference] = []
    for reg in registries:
        reg = DOCKER_HUB if reg == "index.docker.io" else reg
        if not _DOMAIN_RE.match(reg):
            raise InvalidArgument(f"invalid unqualified-search-registries entry {reg!r}")
        ref = _qualify(reg, path, tag, digest)
        if ref not in out:
            out.append(ref)
    return out
