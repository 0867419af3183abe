"""`hull-quadlet [-user] [-dryrun] [-v] [-no-kmsg-log] NORMAL-DIR [EARLY-DIR LATE-DIR]`.

A systemd generator (systemd.generator(7)): systemd runs it early at boot and on
daemon-reload with three output directories; it writes one .service per Quadlet file
into NORMAL-DIR (with [Install] links).  Installed as a generator by symlinking it into
/usr/lib/systemd/system-generators (or user-generators, where a name containing "user"
makes it read the rootless directories, as Podman's podman-user-generator).
Errors name the file and go to stderr as `hull-quadlet[PID]: converting "x": why`; the
other files are still converted and the exit code is 1.
"""

from __future__ import annotations

import os
import sys


def _log(text: str) -> None:
    sys.stderr.write(f"hull-quadlet[{os.getpid()}]: {text}\n")


def run(argv: list[str]) -> int:
    user = "user" in os.path.basename(sys.argv[0] if sys.argv else "")
    dryrun = verbose = False
    dirs: list[str] = []
    for arg in argv:
        if arg in ("-user", "--user"):
            user = True
        elif arg in ("-dryrun", "--dryrun"):
            dryrun = True
        elif arg in ("-v", "--v"):
            verbose = True
        elif arg in ("-no-kmsg-log", "--no-kmsg-log"):
            pass  # we always log to stderr (systemd puts a generator's stderr in the journal)
        elif arg.startswith("-"):
            _log(f"unknown flag {arg}")
            return 1
        else:
            dirs.append(arg)
    if not dryrun and len(dirs) not in (1, 3):
        _log("missing output directory: hull-quadlet [-user] [-dryrun] NORMAL-DIR [EARLY-DIR LATE-DIR]")
        return 1
    from engine.errors import HullError
    from engine.services import quadlet as q

    search = q.search_dirs(user)
    if verbose:
        _log(f"Starting quadlet-generator, output to: {dirs[0] if dirs else '(dry run)'}")
    try:
        sources = q.load_sources(search)
    except (HullError, OSError) as exc:
        _log(str(exc))
        return 1
    by_name = {s.name: s for s in sources}
    failed = False
    out = dirs[0] if dirs else ""
    if out:
        os.makedirs(out, exist_ok=True)
    for src in sources:
        if verbose or dryrun:
            _log(f"Loading source unit file {src.path}")
        try:
            service, text = q.convert(src, by_name)
        except HullError as exc:
            _log(f'converting "{src.name}": {exc}')
            failed = True
            continue
        if dryrun:
            sys.stdout.write(f"---{service}---\n{text}\n")
            continue
        path = os.path.join(out, service)
        with open(path + ".tmp", "w") as fh:
            fh.write(text)
        os.replace(path + ".tmp", path)
        for link, target in q.install_links(src, service):
            full = os.path.join(out, link)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            try:
                os.unlink(full)
            except FileNotFoundError:
                pass
            os.symlink(target, full)
    return 1 if failed else 0


def main() -> int:
    code = run(sys.argv[1:])
    sys.stdout.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
