"""What removal commands (rm, rmi, volume rm, secret rm) report, and the exit code
Podman gives them."""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs ~2 ms on every run/start/rm: annotations only
if TYPE_CHECKING:
    from typing import Any, Callable, Iterable

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

    def remove_each(self, names: Iterable[str], remove_one: Callable[[str], str], ignore: bool = False) -> Any:
        """Call `remove_one` on each name: the name it returns goes to `removed`, a HullError
        to `errors` (an unknown name, NOT_FOUND, is passed over with `ignore`).  Returns self."""
        for text in names:
            try:
                self.removed.append(remove_one(text))
            except self.NOT_FOUND as err:
                if not ignore:
                    self.errors.append(err)
            except HullError as err:
                self.errors.append(err)
        return self


def remove_users(cfg: Any, container_ids: list[str], timeout: int | None) -> None:
    """`volume rm -f` / `network rm -f`: the containers using the object are removed first
    (stopped if running), as Podman; the first failure is raised."""
    from engine.services.containers import RmOptions, remove as remove_containers

    rm = remove_containers(cfg, container_ids, RmOptions(force=True, time=timeout))
    if rm.errors:
        raise rm.errors[0]
