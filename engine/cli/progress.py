"""Pull/push progress: rich bars on a terminal, Podman's plain lines otherwise.

Both write to stderr (stdout carries only the image ID or digest), and both are
called from the download threads, serialised by the registry's reporter.  The
header ("Trying to pull ...") is written with the first event, so a command
that fails before any content moves prints only its one error line.
"""

from __future__ import annotations

import sys
from typing import Any


class PlainProgress:
    """`Copying blob sha256:...` once per blob, as Podman prints without a TTY."""

    def __init__(self, verb: str = "Copying", header: list[str] | None = None) -> None:
        self.verb = verb
        self.header = list(header or [])
        self.seen: set[tuple[str, str]] = set()

    def __call__(self, event: Any) -> None:
        if self.header:
            for line in self.header:
                self._line(line)
            self.header = []
        kind, digest, status = event.kind, event.digest, event.status
        if kind == "manifest":
            if status == "writing" and ("manifest", "") not in self.seen:
                self.seen.add(("manifest", ""))
                self._line("Writing manifest to image destination")
            return
        key = (kind, digest)
        if key in self.seen:
            return
        self.seen.add(key)
        if status == "exists":
            self._line(f"{self.verb} {kind} {digest} skipped: already exists")
        else:
            self._line(f"{self.verb} {kind} {digest}")

    def _line(self, text: str) -> None:
        sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def close(self) -> None:
        pass


class RichProgress:
    """One bar per blob (rich is imported only on a terminal)."""

    def __init__(self, verb: str = "Copying", header: list[str] | None = None) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

        self.verb = verb
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                                 TransferSpeedColumn(), console=Console(stderr=True), transient=False)
        self.tasks: dict[str, Any] = {}
        self.header = list(header or [])
        self.started = False

    def __call__(self, event: Any) -> None:
        if not self.started:
            self.started = True
            for line in self.header:
                self.progress.console.print(line, highlight=False)
            self.progress.start()
        if event.kind == "manifest":
            if event.status == "writing":
                self.progress.console.print("Writing manifest to image destination")
            return
        task = self.tasks.get(event.digest)
        if task is None:
            short = event.digest.partition(":")[2][:12]
            task = self.tasks[event.digest] = self.progress.add_task(
                f"{self.verb} {event.kind} {short}", total=event.total or None)
        if event.status == "exists":
            self.progress.update(task, description=f"{self.verb} {event.kind} "
                                 f"{event.digest.partition(':')[2][:12]} skipped: already exists",
                                 completed=event.total or 1, total=event.total or 1)
        elif event.status == "done":
            self.progress.update(task, completed=event.total or event.done, total=event.total or event.done or None)
        else:
            self.progress.update(task, completed=event.done, total=event.total or None)

    def close(self) -> None:
        if self.started:
            self.progress.stop()


def make_progress(quiet: bool, verb: str = "Copying", header: list[str] | None = None) -> Any:
    """None when quiet; bars on a terminal; plain lines otherwise."""
    if quiet:
        return None
    if sys.stderr.isatty():
        return RichProgress(verb, header)
    return PlainProgress(verb, header)
