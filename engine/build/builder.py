"""The build loop: stages in order, each step applied to the stage's state
(config, layer chain), a layer per filesystem step, an intermediate image and a
cache entry per step (--layers), the final image tagged.

Output follows Podman: `[i/n] STEP k/m: INSTRUCTION` (the prefix only with
several stages), `--> Using cache <id>`, `--> <id 11>`, `COMMIT name`,
`Successfully tagged name`, the full image ID last.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from engine.build import cache as cachemod
from engine.build.context import BuildContext, SourceRoot, close_sources
from engine.build.dockerfile import Dockerfile, Instruction, json_form
from engine.build.expand import expand, expand_vars, words
from engine.build.layer import layer_descriptors, layer_from_dir, new_layer_descriptor, write_image
from engine.build.mount import WorkMount, has_changes
from engine.build.options import BuildOptions
from engine.build.stages import PROXY_ARGS, Stage, arg_decl, find_stage, needed, platform_args, split_stages
from engine.errors import BuildError, HullError, ImageNotFound, InvalidArgument

DEFAULT_SHELL = ["/bin/sh", "-c"]
LAYER_STEPS = ("RUN", "COPY", "ADD")
OCI_DROPPED = ("HEALTHCHECK", "ONBUILD", "SHELL")


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class StageState:
    doc: dict[str, Any]                     # the image config document being built
    chain: list[str]                        # layer chain IDs, bottom first
    descs: list[dict[str, Any]]             # manifest layer descriptors, bottom first
    key: str                                # cache key of the state so far
    args: dict[str, str] = field(default_factory=dict)      # ARGs declared in this stage (with values)
    cmd_set: bool = False
    image_id: str = ""                      # last intermediate/base image
    mount: WorkMount | None = None          # single-layer mode: the stage's one working mount

    @property
    def conf(self) -> dict[str, Any]:
        return self.doc.setdefault("config", {})

    def env(self) -> dict[str, str]:
        out = {}
        for item in self.conf.get("Env") or []:
            k, _, v = item.partition("=")
            out[k] = v
        return out

    def expansion_env(self) -> dict[str, str]:
        return {**self.args, **self.env()}

    @property
    def shell(self) -> list[str]:
        return list(self.conf.get("Shell") or DEFAULT_SHELL)


class Builder:
    def __init__(self, cfg: Any, store: Any, opts: BuildOptions, ctx: BuildContext, df: Dockerfile,
                 progress: Callable[[str], None], output_fd: int | None) -> None:
        self.cfg = cfg
        self.store = store
        self.opts = opts
        self.ctx = ctx
        self.df = df
        self.say = progress
        self.output_fd = output_fd
        self.cache = cachemod.BuildCache(cfg.root)
        self.scratch = Path(cfg.root) / "tmp" / f"build-{secrets.token_hex(8)}"
        self.done: dict[int, StageState] = {}
        self.consumed: set[str] = set()
        self.use_layers = opts.layers and not opts.squash
        self.warned: set[str] = set()
        self._mounts: list[WorkMount] = []

    # ------------------------------------------------------------------ driver
    def build(self) -> str:
        global_args, stages = split_stages(self.df, self.opts.build_args)
        self.global_args = global_args
        self.consumed.update(k for k in self.opts.build_args if k in global_args)
        self.stages = stages
        todo = needed(stages, self.opts.target, global_args, self.df.escape)
        self.scratch.mkdir(mode=0o700, parents=True)
        try:
            final: StageState | None = None
            for n, stage in enumerate(todo):
                prefix = f"[{n + 1}/{len(todo)}] " if len(todo) > 1 else ""
                last = stage is todo[-1]
                final = self._stage(stage, prefix, last)
                self.done[stage.index] = final
            assert final is not None
            unused = sorted(k for k in self.opts.build_args if k not in self.consumed and k not in PROXY_ARGS)
            if unused:
                self.say(f"[Warning] one or more build args were not consumed: {unused}")
            return final.image_id
        finally:
            self._cleanup()

    def _cleanup(self) -> None:
        from engine.store.rmtree import remove_tree

        for m in self._mounts:
            try:
                m.unmount()
            except HullError:
                pass
        try:
            if self.scratch.exists():
                remove_tree(self.scratch)
        except (HullError, OSError):
            pass

    # ------------------------------------------------------------------ one stage
    def _stage(self, stage: Stage, prefix: str, last: bool) -> StageState:
        total = len(stage.instructions) + 1
        self.say(f"{prefix}STEP 1/{total}: {stage.from_ins.original}")
        state = self._from(stage)
        # --label is part of the final image: part of every key, so a cached image never lacks it
        state.key = cachemod.step_key(state.key, "labels", self.opts.labels)
        if self.opts.annotations:  # the same for the manifest's annotations and its format
            state.key = cachemod.step_key(state.key, "annotations", self.opts.annotations)
        if self.opts.format == "docker":
            state.key = cachemod.step_key(state.key, "format", {"format": "docker"})
        steps = list(stage.instructions)
        triggers = list(state.conf.pop("OnBuild", None) or [])
        if triggers:  # the base image's ONBUILD triggers run first, as Docker
            from engine.build.dockerfile import parse as parse_df

            for trigger in triggers:
                for ins in parse_df(trigger).instructions:
                    self._step(stage, state, ins, is_last=False)
        for k, ins in enumerate(steps):
            self.say(f"{prefix}STEP {k + 2}/{total}: {ins.original}")
            self._step(stage, state, ins, is_last=last and k == len(steps) - 1)
        if state.mount is not None:  # single-layer mode: the stage's changes as one layer
            self._flush(state, state.mount)
        if last:
            self._final(state, prefix)
        return state

    def _step(self, stage: Stage, state: StageState, ins: Instruction, is_last: bool) -> None:
        try:
            if ins.cmd == "FROM":
                raise InvalidArgument("FROM inside a stage")
            if ins.cmd in LAYER_STEPS:
                self._layer_step(stage, state, ins, is_last)
            elif ins.cmd == "WORKDIR":
                self._workdir(state, ins, is_last)
            elif ins.cmd in OCI_DROPPED and self.opts.format != "docker":
                if ins.cmd not in self.warned:
                    self.warned.add(ins.cmd)
                    self.say(f"WARN[0000] {ins.cmd} is not supported for OCI image format and "
                             f"{ins.cmd.lower()} will be ignored. Must use `docker` format")
                self._metadata(state, ins, is_last, apply=False)
            else:
                self._metadata(state, ins, is_last)
        except BuildError:
            raise
        except HullError as err:
            raise BuildError(f'building at STEP "{ins.original}": {err}') from None

    # ------------------------------------------------------------------ FROM
    def _from(self, stage: Stage) -> StageState:
        from engine.oci.platform import host_platform

        if stage.platform:
            p = host_platform()
            host = f"{p.os}/{p.architecture}"
            if not (stage.platform == host or stage.platform.startswith(host + "/")):
                raise BuildError(f'building at STEP "{stage.from_ins.original}": platform {stage.platform} '
                                 f'is not the host platform {host}: cross-platform builds are not supported')
        base = stage.base
        dep = find_stage(self.stages, base, stage.index)
        if dep is not None and dep.index in self.done:
            prev = self.done[dep.index]
            state = StageState(copy.deepcopy(prev.doc), list(prev.chain), copy.deepcopy(prev.descs),
                               cachemod.step_key("stage", prev.key), image_id=prev.image_id)
            return state
        if base.lower() == "scratch":
            p = host_platform()
            doc = {"architecture": p.architecture, "os": p.os, "config": {},
                   "rootfs": {"type": "layers", "diff_ids": []}, "history": []}
            if p.variant:
                doc["variant"] = p.variant
            return StageState(doc, [], [], cachemod.step_key("scratch", ""))
        image = self._image(base, f'building at STEP "{stage.from_ins.original}"')
        return self._state_of_image(image, cachemod.step_key("image", image.id))

    def _state_of_image(self, image: Any, key: str) -> StageState:
        from engine.services.common import image_config

        doc = copy.deepcopy(image_config(self.store, image))
        for drop in ("container_config", "container", "docker_version"):
            doc.pop(drop, None)
        return StageState(doc, list(image.layers), layer_descriptors(self.store, image, self.opts.format),
                          key, image_id=image.id)

    def _image(self, text: str, where: str) -> Any:
        from engine.services.images import find_image

        policy = self.opts.pull
        if policy in ("always", "true"):
            return self._pull(text, where)
        try:
            image = find_image(self.store, text)
        except ImageNotFound:
            if policy in ("never", "false"):
                raise BuildError(f"{where}: {text}: image not known") from None
            return self._pull(text, where)
        if policy == "newer" and self._registry_differs(image, text):
            return self._pull(text, where)
        return image

    def _registry_differs(self, image: Any, text: str) -> bool:
        """--pull=newer: the registry's manifest digest for `text` is not the local
        image's.  As Podman, a registry that cannot be asked leaves the local image."""
        from engine.services.auto_update import AutoUpdateOptions, remote_digest

        if image.id.removeprefix("sha256:").startswith(text.removeprefix("sha256:")):
            return False  # named by ID: nothing to compare with
        try:
            remote = remote_digest(self.cfg, text, AutoUpdateOptions(authfile=self.opts.authfile or None,
                                                                      tls_verify=self.opts.tls_verify))
        except HullError:
            return False
        return remote not in (image.digests or [image.digest])

    def _pull(self, text: str, where: str) -> Any:
        from engine.services.image_registry import PullOptions, pull

        try:
            image_id = pull(self.cfg, text, PullOptions(tls_verify=self.opts.tls_verify,
                                                        authfile=self.opts.authfile or None,
                                                        creds=self.opts.creds or None))
        except HullError as err:
            raise BuildError(f"{where}: {err}") from None
        return self.store.images.get(image_id if ":" in image_id else "sha256:" + image_id)

    # ------------------------------------------------------------------ ARG
    def _arg(self, state: StageState, ins: Instruction) -> None:
        env = {**platform_args(), **state.expansion_env()}
        for name, default in arg_decl(ins, env, self.df.escape):
            if name in self.opts.build_args:
                value: str | None = self.opts.build_args[name]
                self.consumed.add(name)
            elif default is not None:
                value = default
            elif name in self.global_args:
                value = self.global_args[name]
            elif name in platform_args():
                value = platform_args()[name]
            else:
                value = None
            if value is not None:
                state.args[name] = value
            else:
                state.args.pop(name, None)

    # ------------------------------------------------------------------ metadata steps
    def _metadata(self, state: StageState, ins: Instruction, is_last: bool, apply: bool = True) -> None:
        from engine.build.steps import metadata

        if ins.cmd == "ARG":
            self._arg(state, ins)
            names = " ".join(n for n, _ in arg_decl(ins, {}, self.df.escape))
            text = f"ARG {names}"
            key = cachemod.step_key(state.key, ins.original, state.args)
        elif apply:
            text = metadata.apply(ins, state.conf, state.expansion_env(), self.df.escape, state.shell, self.say,
                                  state.cmd_set)
            state.cmd_set = state.cmd_set or ins.cmd == "CMD"
            key = cachemod.step_key(state.key, text, state.args)
        else:
            text = ins.original
            key = cachemod.step_key(state.key, "ignored " + text, state.args)
        if self._try_cache(state, key, is_last):
            return
        self._record(state, key, f"/bin/sh -c #(nop) {text}", layer=False, is_last=is_last)

    def _workdir(self, state: StageState, ins: Instruction, is_last: bool) -> None:
        """WORKDIR also makes the directory when the image lacks it (as buildah):
        then the step has a layer with just that directory."""
        from engine.archive.inroot import InRoot
        from engine.build.steps import metadata

        text = metadata.apply(ins, state.conf, state.expansion_env(), self.df.escape, state.shell, self.say)
        key = cachemod.step_key(state.key, "mkdir " + text, state.args)
        if self._try_cache(state, key, is_last):
            return
        mount = state.mount if state.mount is not None else self._open_mount(state)
        path = os.fsencode(state.conf["WorkingDir"])
        with InRoot(mount.merged) as root:
            try:
                os.close(root.open_dir(path))
                made = False
            except HullError:
                os.close(root.open_dir(path, create=True))
                made = True
        if self.use_layers:
            made = self._flush(state, mount)
        self._record(state, key, f"/bin/sh -c #(nop) {text}", layer=made, is_last=is_last)

    # ------------------------------------------------------------------ RUN / COPY / ADD
    def _layer_step(self, stage: Stage, state: StageState, ins: Instruction, is_last: bool) -> None:
        plan = self._plan_run(stage, state, ins) if ins.cmd == "RUN" else self._plan_copy(stage, state, ins)
        key = cachemod.step_key(state.key, plan["key_text"], state.args, plan.get("content", ""))
        try:
            if self._try_cache(state, key, is_last):
                return
            mount = state.mount if state.mount is not None else self._open_mount(state)
            plan["do"](mount)
        finally:
            plan["cleanup"]()
        made = self._flush(state, mount) if self.use_layers else True
        self._record(state, key, plan["created_by"], layer=made, is_last=is_last)

    def _open_mount(self, state: StageState) -> WorkMount:
        m = WorkMount(self.store, state.chain, self.scratch / f"w{len(self._mounts)}")
        m.__enter__()
        self._mounts.append(m)
        if not self.use_layers:
            state.mount = m
        return m

    def _try_cache(self, state: StageState, key: str, is_last: bool) -> bool:
        if not self.use_layers or self.opts.no_cache:
            return False
        image = self.cache.lookup(self.store, key)
        if image is None:
            return False
        hexid = image.id.partition(":")[2]
        self.say(f"--> Using cache {hexid}")
        new = self._state_of_image(image, key)
        state.doc, state.chain, state.descs, state.key, state.image_id = (new.doc, new.chain, new.descs,
                                                                             key, image.id)
        if not is_last:
            self.say(f"--> {hexid[:11]}")
        return True

    def _flush(self, state: StageState, mount: WorkMount) -> bool:
        """The mount's changes -> a layer on the stage's chain; False when nothing changed."""
        mount.unmount()
        made = False
        if has_changes(mount.upper):
            with self.store.writing():
                layer = layer_from_dir(self.store, mount.upper, state.chain[-1] if state.chain else None)
            state.chain.append(layer.chain_id)
            state.descs.append(new_layer_descriptor(layer, self.opts.format))
            state.doc.setdefault("rootfs", {"type": "layers"}).setdefault("diff_ids", []).append(layer.diff_id)
            made = True
        mount.remove()
        state.mount = None
        return made

    def _record(self, state: StageState, key: str, created_by: str, layer: bool, is_last: bool) -> None:
        """History entry for the step; with --layers an intermediate image and a
        cache entry (the last step of the build is the final image instead)."""
        created = _now()
        entry: dict[str, Any] = {"created": created, "created_by": created_by}
        if not layer:
            entry["empty_layer"] = True
        state.doc.setdefault("history", []).append(entry)
        state.doc["created"] = created
        state.key = key
        if not self.use_layers or is_last:
            return
        image = self._write(state, [])
        state.image_id = image.id
        self.cache.record(key, image.id)
        self.say(f"--> {image.id.partition(':')[2][:11]}")

    def _write(self, state: StageState, names: list[str], annotations: dict[str, str] | None = None) -> Any:
        doc = copy.deepcopy(state.doc)
        doc["rootfs"] = {"type": "layers", "diff_ids": list((state.doc.get("rootfs") or {}).get("diff_ids") or [])}
        with self.store.writing():
            return write_image(self.store, doc, list(state.chain), copy.deepcopy(state.descs), names,
                               self.opts.format, annotations)

    def _final(self, state: StageState, prefix: str = "") -> None:
        from engine.services.images import normalize_new_name

        if self.opts.labels:
            labels = dict(state.conf.get("Labels") or {})
            labels.update(self.opts.labels)
            state.conf["Labels"] = labels
        names = [normalize_new_name(t) for t in self.opts.tags]
        self.say(f"{prefix}COMMIT {self.opts.tags[0]}" if names else f"{prefix}COMMIT")
        if self.opts.annotations and self.opts.format == "docker":
            self.say("WARN[0000] annotations are not supported for docker format and will be ignored. "
                     "Must use `oci` format")
        image = self._write(state, names, self.opts.annotations)
        state.image_id = image.id
        if self.use_layers:
            self.cache.record(state.key, image.id)
        hexid = image.id.partition(":")[2]
        self.say(f"--> {hexid[:11]}")
        for name in names:
            self.say(f"Successfully tagged {name}")

    # ------------------------------------------------------------------ RUN
    def _plan_run(self, stage: Stage, state: StageState, ins: Instruction) -> dict[str, Any]:
        from engine.build import runplan
        from engine.build.steps import run as runstep

        argv = json_form(ins.args) if not ins.heredocs else None
        script = runplan.shebang_script(ins.args, ins.heredocs, self.scratch) if ins.heredocs else None
        script_key = ""
        if script is not None:  # `RUN <<EOF` starting with #!: the heredoc runs as a script file
            argv, script_mount, script_key = script
        elif argv is None:
            script_text = ins.args
            if ins.heredocs:
                if ins.args.strip() in (f"<<{ins.heredocs[0].name}", f"<<-{ins.heredocs[0].name}") \
                        and len(ins.heredocs) == 1:
                    script_text = ins.heredocs[0].content
                else:
                    script_text = ins.args + "\n" + "".join(h.content + h.name + "\n" for h in ins.heredocs)
            argv = [*state.shell, script_text]
        network = ins.flags.get("network") or self.opts.network or "default"
        from engine.network import transient

        transient.check_mode(network)
        run = self._run_mounts(stage, state, ins)
        if script is not None:
            run.mounts.append(script_mount)
        env = {**{k: v for k, v in state.args.items()}, **state.env()}
        for proxy in PROXY_ARGS:
            if proxy in self.opts.build_args:
                env.setdefault(proxy, self.opts.build_args[proxy])
                self.consumed.add(proxy)
        env.update(run.env)  # secrets as env: this step's process only, never the config or history
        declared = {k: v for k, v in state.args.items() if k not in PROXY_ARGS}
        shown = ins.args
        created_by = (f"|{len(declared)} " + " ".join(f"{k}={v}" for k, v in sorted(declared.items())) + " "
                      if declared else "") + (" ".join(state.shell) + " " + shown if json_form(ins.args) is None
                                              else shown)

        def do(mount: WorkMount) -> None:
            code = runstep.run_command(self.cfg, mount, state.doc, argv, env,
                                       workdir=state.conf.get("WorkingDir") or "/", user=state.conf.get("User") or "",
                                       network=network, mounts=run.mounts, output_fd=self.output_fd,
                                       runtime_name=self.opts.runtime or None,
                                       extra_mount_points=[m.destination for m in run.mounts],
                                       overlay_options=run.overlays, store=self.store)
            if code != 0:
                raise BuildError(f'building at STEP "{ins.original}": while running runtime: exit status {code}',
                                 exit_code=code)

        def cleanup() -> None:
            for c in run.cleanups:
                c()

        mount_key = ";".join(run.key)
        return {"key_text": f"RUN {network} {mount_key} {json.dumps(argv)} {script_key}".rstrip(), "do": do,
                "created_by": created_by, "cleanup": cleanup}

    def _run_mounts(self, stage: Stage, state: StageState, ins: Instruction) -> Any:
        from engine.build import runplan

        env = state.expansion_env()

        def source_path(from_name: str, source: str) -> tuple[str, Callable[[], None]]:
            root, close = self._source_root(from_name, stage, state)
            try:
                found = root.resolve(source)
                try:
                    real = os.readlink(f"/proc/self/fd/{found[0].dir_fd}")
                    return (os.path.join(real, found[0].name) if found[0].name != "." else real), close
                finally:
                    close_sources(found)
            except BaseException:
                close()
                raise

        texts = [expand(text, env, self.df.escape) for text in ins.flag_list("mount")]
        return runplan.plan(texts, self.opts, Path(self.cfg.root) / "build-cache" / "mounts", self.scratch,
                            source_path)

    # ------------------------------------------------------------------ COPY / ADD
    def _source_root(self, name: str, stage: Stage, state: StageState) -> tuple[SourceRoot, Callable[[], None]]:
        """The tree a COPY --from (or a bind mount) reads: the context, a named
        --build-context, a finished stage, or an image; with its release."""
        if not name:
            return self.ctx.root, lambda: None
        text = expand(name, {**self.global_args, **state.expansion_env()}, self.df.escape)
        if text in self.opts.build_contexts:
            value = self.opts.build_contexts[text]
            for scheme in ("docker-image://", "container-image://"):
                if value.startswith(scheme):
                    return self._image_root(self._image(value[len(scheme):], f"COPY --from={text}"))
            from engine.build.ignore import IgnoreMatcher

            return SourceRoot(Path(value).resolve(), IgnoreMatcher([]), label=text, is_context=True), lambda: None
        dep = find_stage(self.stages, text, stage.index)
        if dep is not None:
            if dep.index not in self.done:
                raise BuildError(f"COPY --from={text}: stage {text} was not built")
            prev = self.done[dep.index]
            return self._chain_root(prev.chain, text)
        try:
            image = self._image(text, f"COPY --from={text}")
        except (BuildError, HullError):
            raise BuildError(f"COPY --from={text}: no stage or image found with that name") from None
        return self._image_root(image)

    def _image_root(self, image: Any) -> tuple[SourceRoot, Callable[[], None]]:
        return self._chain_root(list(image.layers), image.id)

    def _chain_root(self, chain: list[str], label: str) -> tuple[SourceRoot, Callable[[], None]]:
        m = WorkMount(self.store, chain, self.scratch / f"r{len(self._mounts)}", readonly=True)
        m.__enter__()
        self._mounts.append(m)
        root = SourceRoot(m.merged, label=label)

        def close() -> None:
            root.close()
            m.unmount()

        return root, close

    def _plan_copy(self, stage: Stage, state: StageState, ins: Instruction) -> dict[str, Any]:
        from engine.build.copier import CopyAttrs, digest_tree
        from engine.build.steps import copy as copystep

        env = state.expansion_env()
        is_add = ins.cmd == "ADD"
        for flag in ins.flags:
            allowed = ("chown", "chmod", "link", "from") if not is_add else ("chown", "chmod", "link", "checksum",
                                                                              )
            if flag not in allowed:
                raise InvalidArgument(f"unknown flag: --{flag}" if flag != "from" else "ADD does not support --from")
        exec_form = json_form(ins.args)
        parts = [expand(p, env, self.df.escape) for p in exec_form] if exec_form is not None else \
            words(ins.args, env, self.df.escape)
        if len(parts) < 2:
            raise InvalidArgument(f"{ins.cmd} requires at least two arguments, but only one was provided. "
                                  f"Destination could not be determined")
        srcs, dest_text = parts[:-1], parts[-1]
        workdir = state.conf.get("WorkingDir") or "/"
        dest = copystep.dest_path(dest_text, workdir)
        heredocs = {h.name: h for h in ins.heredocs}
        from_name = ins.flags.get("from", "")
        root, close_root = (self._source_root(from_name, stage, state) if from_name
                            else (self.ctx.root, lambda: None))
        keep_owner = bool(from_name) and "chown" not in ins.flags
        chown = ins.flags.get("chown")
        chmod = copystep.parse_chmod(ins.flags["chmod"]) if "chmod" in ins.flags else None
        resolved: list[Any] = []
        urls: list[tuple[Path, str, float | None]] = []
        docs: list[tuple[str, bytes]] = []
        digest = hashlib.sha256()
        try:
            for src in srcs:
                if src.startswith("<<") and src.lstrip("<-").strip("'\"") in heredocs:
                    h = heredocs[src.lstrip("<-").strip("'\"")]
                    data = (expand_vars(h.content, env) if h.expand else h.content).encode()
                    docs.append((h.name, data))
                    digest.update(b"heredoc\0" + h.name.encode() + b"\0" + data)
                    continue
                if is_add and (src.startswith("http://") or src.startswith("https://")):
                    path, name, mtime = copystep.download(src, self.scratch)
                    want = ins.flags.get("checksum")
                    if want:
                        got = "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
                        if got != want:
                            raise InvalidArgument(f"digest mismatch for {src}: expected {want}, got {got}")
                    urls.append((path, name, mtime))
                    digest.update(b"url\0" + src.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
                    continue
                if src.startswith("http://") or src.startswith("https://") or src.startswith("git@"):
                    raise InvalidArgument("source can't be a URL for COPY")
                found = root.resolve(src)
                resolved.extend(found)
                ignore = root.ignored if root.is_context else None
                for s in found:
                    digest.update(s.rel.encode() + b"\0" + digest_tree(s.dir_fd, s.name, keep_owner, ignore,
                                                                        s.rel).encode())
        except BaseException:
            close_sources(resolved)
            close_root()
            raise
        multi = len(srcs) > 1 or any(c in s for s in srcs for c in "*?[")
        if len(srcs) > 1 and not dest.endswith("/"):
            close_sources(resolved)
            close_root()
            raise InvalidArgument(f"When using {ins.cmd} with more than one source file, the destination must be "
                                  f"a directory and end with a /")
        def do(mount: WorkMount) -> None:
            owner = self._owner(mount, chown)
            attrs = CopyAttrs(owner=None if keep_owner else owner, chmod=chmod, explicit_owner=chown is not None)
            ignore = root.ignored if root.is_context else None
            copystep.copy_sources(mount.merged, resolved, dest, attrs, multi, ignore, unpack=is_add)
            for name, data in docs:
                copystep.write_heredoc(mount.merged, name, data, dest, attrs, multi)
            for path, name, mtime in urls:
                copystep.place_download(mount.merged, path, name, dest, attrs, mtime, multi)

        def cleanup() -> None:
            close_sources(resolved)
            close_root()

        import stat as _stat

        kind = "file" if len(resolved) == 1 and not _stat.S_ISDIR(resolved[0].st.st_mode) else "dir"
        content = "sha256:" + digest.hexdigest()
        created_by = f"/bin/sh -c #(nop) {ins.cmd} {'multi' if multi else kind}:{digest.hexdigest()} in {dest_text} "
        key_text = f"{ins.cmd} {from_name} {chown} {chmod} {dest}"
        return {"key_text": key_text, "content": content, "do": do, "created_by": created_by, "cleanup": cleanup}

    def _owner(self, mount: WorkMount, chown: str | None) -> tuple[int, int]:
        if not chown:
            return (0, 0)
        user, _, group = chown.partition(":")
        if user.isdigit() and (not group or group.isdigit()):
            return int(user), int(group or user)
        from engine.spec.users import ImageAccounts

        resolved = ImageAccounts.from_rootfs(mount.merged).resolve(chown if group else user)
        gid = resolved.gid
        if group and not group.isdigit():
            gid = ImageAccounts.from_rootfs(mount.merged).resolve(f"0:{group}").gid
        elif group:
            gid = int(group)
        return resolved.uid, gid


__all__ = ["Builder", "StageState", "time"]
