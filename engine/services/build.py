"""`hull build`: the facade the CLI, the REST API and the console call.

`build(cfg, BuildOptions, progress, output_fd) -> image ID ("sha256:...")`.
`progress(line)` gets Podman's step lines (`STEP 1/3: FROM ...`, `--> abc`,
`COMMIT name`); RUN output is written to `output_fd` (None: discarded).
Rootless, the whole build runs inside Hull's user namespace (entered first,
before any thread), so layers hold container uids and the working mounts live
in that namespace.
"""

from __future__ import annotations

from typing import Callable

from engine.build.options import BuildOptions
from engine.config import EngineConfig
from engine.errors import InvalidArgument

__all__ = ["BuildOptions", "build"]


def _check(opts: BuildOptions) -> None:
    if opts.format not in ("oci", "docker"):
        raise InvalidArgument(f'unrecognized image type "{opts.format}"')
    if opts.pull not in ("missing", "always", "never", "newer", "true", "false"):
        raise InvalidArgument(f'invalid pull policy "{opts.pull}"')
    if opts.platform:
        from engine.oci.platform import host_platform

        p = host_platform()
        host = f"{p.os}/{p.architecture}"
        if not (opts.platform == host or opts.platform.startswith(host + "/")):
            raise InvalidArgument(f"--platform {opts.platform}: only the host platform {host} can be built "
                                  f"(no cross-platform builds)")
    from engine.services.images import normalize_new_name

    for tag in opts.tags:
        normalize_new_name(tag)


def build(cfg: EngineConfig, opts: BuildOptions, progress: Callable[[str], None] | None = None,
          output_fd: int | None = 1) -> str:
    _check(opts)
    from engine.services.common import enter_userns, open_store

    enter_userns(cfg)
    import secrets
    from pathlib import Path

    from engine.build.builder import Builder
    from engine.build.context import open_context
    from engine.build.dockerfile import parse

    store = open_store(cfg)
    store.cleanup()
    scratch = Path(cfg.root) / "tmp" / f"build-ctx-{secrets.token_hex(8)}"
    scratch.mkdir(mode=0o700, parents=True)
    try:
        ctx = open_context(opts.context, list(opts.files), opts.ignorefile or None, scratch)
        df = parse(ctx.dockerfile_text)
        say = progress or (lambda line: None)
        try:
            with store.writing():  # gc must not take layers a build is still stacking
                image_id = Builder(cfg, store, opts, ctx, df, say, output_fd).build()
        finally:
            ctx.root.close()
    finally:
        from engine.store.rmtree import remove_tree

        try:
            remove_tree(scratch)
        except OSError:
            pass
    if opts.iidfile:
        try:
            with open(opts.iidfile, "w", encoding="utf-8") as fh:
                fh.write(image_id)
        except OSError as exc:
            raise InvalidArgument(f"failed to write image ID to file {opts.iidfile!r}: {exc.strerror}") from None
    return image_id
