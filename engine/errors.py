"""One exception tree for all of Hull.

Every error knows the exit code the CLI returns (Podman's: 125 engine error,
126 command cannot be invoked, 127 command not found) and the HTTP status the
REST API answers with.  Lower layers (OS, HTTP, sqlite) raise their own
exceptions; they are translated into these once, at the boundary of the stage
that called them, so the CLI, API and console only ever see HullError.
"""

from __future__ import annotations


class HullError(Exception):
    """Base of every error Hull reports to a user."""

    exit_code: int = 125
    http_status: int = 500

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:  # one clear line, never a traceback
        return self.message.splitlines()[0] if self.message else self.__class__.__name__


class InvalidArgument(HullError):
    """A flag, reference, option or request body that makes no sense."""

    http_status = 400


class NotFound(HullError):
    http_status = 404


class ImageNotFound(NotFound):
    pass


class ContainerNotFound(NotFound):
    pass


class VolumeNotFound(NotFound):
    pass


class PodNotFound(NotFound):
    pass


class NetworkNotFound(NotFound):
    pass


class Conflict(HullError):
    """The object exists already or is in the wrong state (in use, running...)."""

    http_status = 409


class InUse(Conflict):
    pass


class RegistryError(HullError):
    """The registry answered with an error or could not be reached."""

    http_status = 502


class RegistryAuthError(RegistryError):
    http_status = 401


class RegistryNotFound(RegistryError, ImageNotFound):
    """Manifest or blob unknown to the registry."""

    http_status = 404


class IntegrityError(HullError):
    """Content does not match the digest (or size) it was promised to have."""

    http_status = 500


class UnsafeArchive(HullError):
    """A layer or archive tried to escape its root, or exceeded a size cap."""

    http_status = 400


class StorageError(HullError):
    """The on-disk state is unusable (corrupt database, unwritable directory)."""


class SyscallError(HullError):
    """A system call failed; carries the call's name and errno."""

    def __init__(self, call: str, errno_: int, detail: str = "") -> None:
        import os

        self.call = call
        self.errno = errno_
        text = f"{call}: {os.strerror(errno_)}"
        if detail:
            text = f"{call} {detail}: {os.strerror(errno_)}"
        super().__init__(text)


class CannotInvoke(HullError):
    """The container's command exists but cannot be run (permission, format)."""

    exit_code = 126


class CommandNotFound(HullError):
    """The container's command does not exist."""

    exit_code = 127


class BuildError(HullError):
    """A build step failed: exit code 125, or the failing RUN's own status as Podman."""

    def __init__(self, message: str = "", exit_code: int = 125) -> None:
        super().__init__(message)
        self.exit_code = exit_code
