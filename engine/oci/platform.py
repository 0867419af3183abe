"""The platform (os/architecture/variant) of this host, in OCI/Go spelling."""

from __future__ import annotations

import platform as _platform
from dataclasses import dataclass

from engine.errors import InvalidArgument

_ARCH = {
    "x86_64": "amd64",
    "amd64": "amd64",
    "aarch64": "arm64",
    "arm64": "arm64",
    "armv7l": "arm",
    "armv6l": "arm",
    "i386": "386",
    "i686": "386",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
    "riscv64": "riscv64",
}


@dataclass(frozen=True)
class Platform:
    os: str
    architecture: str
    variant: str | None = None

    def __str__(self) -> str:
        text = f"{self.os}/{self.architecture}"
        return f"{text}/{self.variant}" if self.variant else text


def normalise_arch(machine: str) -> tuple[str, str | None]:
    """uname machine -> (GOARCH, variant); arm64 is v8 as containerd says."""
    arch = _ARCH.get(machine.lower(), machine.lower())
    variant = None
    if arch == "arm64":
        variant = "v8"
    elif machine.startswith("armv"):
        variant = machine[3:5]  # armv7l -> v7
    return arch, variant


def host_platform() -> Platform:
    arch, variant = normalise_arch(_platform.machine())
    return Platform("linux", arch, variant)


def parse_platform(text: str) -> Platform:
    """`linux/arm64/v8`, `linux/amd64`, `arm64` (os defaults to linux)."""
    parts = text.strip().split("/")
    if not all(parts) or len(parts) > 3:
        raise InvalidArgument(f"invalid platform {text!r}")
    if len(parts) == 1:
        parts = ["linux", *parts]
    arch, default_variant = normalise_arch(parts[1])
    variant = parts[2] if len(parts) == 3 else (default_variant if arch == "arm64" else None)
    return Platform(parts[0], arch, variant)
