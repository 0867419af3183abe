"""Content digests: validation before a digest is ever used as a path or URL part."""

from __future__ import annotations

import re

from engine.errors import InvalidArgument

# OCI image spec grammar, with the known algorithms' exact lengths enforced.
_DIGEST_RE = re.compile(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")
_HEX_LENGTHS = {"sha256": 64, "sha512": 128}
_HEX_RE = re.compile(r"^[a-f0-9]+$")


def _hashlib():  # imported on first use: OpenSSL's hashlib costs ms at start-up
    import hashlib

    return hashlib


def validate_digest(digest: str) -> str:
    """Return `digest` if it is a well-formed sha256/sha512 digest, else raise."""
    if not isinstance(digest, str) or not _DIGEST_RE.match(digest):
        raise InvalidArgument(f"invalid digest {digest!r}")
    algorithm, _, hex_part = digest.partition(":")
    length = _HEX_LENGTHS.get(algorithm)
    if length is None:
        raise InvalidArgument(f"unsupported digest algorithm {algorithm!r}")
    if len(hex_part) != length or not _HEX_RE.match(hex_part):
        raise InvalidArgument(f"invalid {algorithm} digest {digest!r}")
    return digest


def is_digest(text: str) -> bool:
    try:
        validate_digest(text)
        return True
    except InvalidArgument:
        return False


def digest_hex(digest: str) -> str:
    return validate_digest(digest).partition(":")[2]


def sha256_digest(data: bytes) -> str:
    return "sha256:" + _hashlib().sha256(data).hexdigest()


def new_hasher(digest: str):
    """A hashlib object for the algorithm of `digest`."""
    return _hashlib().new(validate_digest(digest).partition(":")[0])
