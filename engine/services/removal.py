"""What removal commands (rm, rmi, volume rm, secret rm) report, and the exit code
Podman gives them."""

from __future__ import annotations

from engine.errors import HullError, NotFound
from engine.record import Factory, Record


def removal_exit_code(errors: list[HullError], not_found: type[HullError],
                      in_use: tuple[type[HullError], ...] = ()) -> int:
    """0 when everything went; 1 when every failure was an unknown name; 2 when
    something is in use (or running without --force); 125 for anything else."""
    if not errors:
        return 0
    if all(isinstance(e, not_found) for e in errors):
        return 1
    if in_use and any(isinstance(e, in_use) for e in errors):
        return 2
    return 125


class RemovalReport(Record):
    """The names removed and one error per failure.  Subclasses set NOT_FOUND and
    IN_USE (class settings, not fields: they carry no annotation)."""

    removed: list[str] = Factory(list)
    errors: list[HullError] = Factory(list)

    NOT_FOUND = NotFound
    IN_USE = ()

    @property
    def exit_code(self) -> int:
        return removal_exit_code(self.errors, self.NOT_FOUND, self.IN_USE)
