"""POST /build (Docker's legacy builder API) and POST /build/prune, on Hull's
builder (engine/services/build.py).

The tar context is unpacked straight from the request body (streamed, through the
safe extractor) into a private scratch directory; the builder's Podman-style lines
become the legacy builder's JSON stream:

    {"stream":"Step 1/3 : FROM busybox\\n"} {"stream":" ---> 1a2b3c4d5e6f\\n"} ...
    {"aux":{"ID":"sha256:..."}} {"stream":"Successfully built 1a2b3c4d5e6f\\n"}
    {"stream":"Successfully tagged x:latest\\n"}

RUN output goes to a file the handler copies into the stream at each progress
line (no reader thread: the runtime forks, which must happen single-threaded)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from engine.api import context
from engine.api.http import Request
from engine.api.params import BodyReader, error_line, json_map
from engine.api.router import route
from engine.errors import HullError, InvalidArgument

_STEP = re.compile(r"^(?:\[[^\]]*\] )?STEP (\d+)/(\d+): (.*)$", re.S)


class _Legacy:
    """Podman step lines -> the legacy builder's stream lines."""

    def __init__(self, stream: Any, out_fd: int, quiet: bool) -> None:
        self.stream = stream
        self.out_fd = out_fd
        self.offset = 0
        self.quiet = quiet
        self.tagged: list[str] = []

    def flush_output(self) -> None:
        while True:
            data = os.pread(self.out_fd, 64 << 10, self.offset)
            if not data:
                return
            self.offset += len(data)
            if not self.quiet:
                self.stream.write_json({"stream": data.decode("utf-8", "replace")})

    def say(self, line: str) -> None:
        self.flush_output()
        if line.startswith("Successfully tagged "):
            self.tagged.append(line)
            return
        if self.quiet:
            return
        m = _STEP.match(line)
        if m:
            text = f"Step {m.group(1)}/{m.group(2)} : {m.group(3)}"
        elif line.startswith("--> Using cache"):
            self.stream.write_json({"stream": " ---> Using cache\n"})
            text = " ---> " + line.rsplit(" ", 1)[-1][:12]
        elif line.startswith("--> "):
            text = " ---> " + line[4:]
        elif re.match(r"^(?:\[[^\]]*\] )?COMMIT\b", line):
            return
        else:
            text = line
        self.stream.write_json({"stream": text + "\n"})


def _options(request: Request, root: Path) -> Any:
    from engine.build.options import BuildOptions

    dockerfile = request.arg("dockerfile") or "Dockerfile"
    path = (root / dockerfile.lstrip("/")).resolve()
    if path != root and root not in path.parents:
        raise InvalidArgument(f"dockerfile {dockerfile!r} is outside the build context")
    files = [str(path)] if path.is_file() or request.arg("dockerfile") else []
    pull = request.arg("pull") or ""
    policy = "always" if pull.lower() in ("1", "true", "always") else "missing"
    return BuildOptions(
        context=str(root), files=files, tags=[t for t in request.args("t") if t],
        build_args=json_map(request, "buildargs"), labels=json_map(request, "labels"),
        target=request.arg("target") or "", no_cache=request.flag("nocache"), pull=policy,
        quiet=request.flag("q"), format="docker", platform=request.arg("platform") or "",
        network=request.arg("networkmode") or "" if request.arg("networkmode") not in ("default",) else "",
        squash=request.flag("squash"),
    )


@route("POST", "/build")
def build(request: Request) -> None:
    import secrets

    from engine.build.context import unpack_tar_context
    from engine.services.build import build as run_build
    from engine.store.rmtree import remove_tree

    if request.arg("remote"):
        raise InvalidArgument("remote build contexts are not supported: send the context as a tar body")
    cfg = context.config()
    scratch = Path(cfg.root) / "tmp" / f"api-build-{secrets.token_hex(8)}"
    scratch.mkdir(mode=0o700, parents=True)
    try:
        root = scratch / "context"
        root.mkdir(mode=0o700)
        unpack_tar_context(BodyReader(request), root)
        opts = _options(request, root)
        out_path = scratch / "output"
        out_fd = os.open(scratch / "output", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            stream = request.stream()
            legacy = _Legacy(stream, out_fd, opts.quiet)
            try:
                image_id = run_build(cfg, opts, legacy.say, out_fd)
            except HullError as err:
                legacy.flush_output()
                stream.write_json(error_line(str(err)))
                stream.close()
                return
            legacy.flush_output()
        finally:
            os.close(out_fd)
        full = image_id if image_id.startswith("sha256:") else "sha256:" + image_id
        stream.write_json({"aux": {"ID": full}})
        if opts.quiet:
            stream.write_json({"stream": full + "\n"})
        else:
            stream.write_json({"stream": f"Successfully built {full[7:19]}\n"})
            for line in legacy.tagged:
                stream.write_json({"stream": line + "\n"})
        stream.close()
    finally:
        try:
            remove_tree(scratch)
        except OSError:
            pass


@route("POST", "/build/prune")
def build_prune(request: Request) -> None:
    """The legacy builder's cache is its intermediate images, which image prune
    removes; there is no separate build cache to prune."""
    request.send_json({"CachesDeleted": [], "SpaceReclaimed": 0})
