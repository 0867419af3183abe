"""Stages of a Dockerfile: the global ARGs before the first FROM, then one stage
per FROM (`AS name`), and which stages a target needs (FROM another stage,
COPY --from, RUN --mount=from=), so unused stages are skipped as Podman does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.build.dockerfile import Dockerfile, DockerfileError, Instruction
from engine.build.expand import expand, words
from engine.errors import InvalidArgument

PROXY_ARGS = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
              "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy")


@dataclass
class Stage:
    index: int
    name: str                      # `AS name` (lower case) or ""
    base: str                      # FROM's image text, expanded with the global args
    platform: str
    from_ins: Instruction
    instructions: list[Instruction] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.name or str(self.index)


def platform_args() -> dict[str, str]:
    """BuildKit's automatic platform args (the host platform: no cross builds)."""
    from engine.oci.platform import host_platform

    p = host_platform()
    plat = f"{p.os}/{p.architecture}" + (f"/{p.variant}" if p.variant else "")
    out = {}
    for prefix in ("TARGET", "BUILD"):
        out.update({f"{prefix}PLATFORM": plat, f"{prefix}OS": p.os, f"{prefix}ARCH": p.architecture,
                    f"{prefix}VARIANT": p.variant or ""})
    return out


def arg_decl(ins: Instruction, env: dict[str, str], escape: str) -> list[tuple[str, str | None]]:
    """`ARG A B=2` -> [("A", None), ("B", "2")] (defaults expanded)."""
    from engine.build.expand import split_raw

    out: list[tuple[str, str | None]] = []
    for word in split_raw(ins.args, escape):
        name, eq, default = word.partition("=")
        if not name:
            raise InvalidArgument(f"dockerfile parse error on line {ins.line}: ARG names can not be blank")
        out.append((name, expand(default, env, escape) if eq else None))
    if not out:
        raise InvalidArgument(f"dockerfile parse error on line {ins.line}: ARG requires at least one argument")
    return out


def split_stages(df: Dockerfile, build_args: dict[str, str]) -> tuple[dict[str, str], list[Stage]]:
    """(global ARG values, stages)."""
    global_args: dict[str, str] = {}
    auto = platform_args()
    stages: list[Stage] = []
    for ins in df.instructions:
        if ins.cmd == "FROM":
            env = {**auto, **global_args}
            parts = words(ins.args, env, df.escape)
            if len(parts) == 3 and parts[1].lower() == "as":
                name = parts[2].lower()
            elif len(parts) == 1:
                name = ""
            else:
                raise DockerfileError(f"dockerfile parse error on line {ins.line}: FROM requires either one "
                                      f"or three arguments")
            if name and any(s.name == name for s in stages):
                raise DockerfileError(f"dockerfile parse error on line {ins.line}: duplicate stage name {name!r}")
            stages.append(Stage(len(stages), name, parts[0], expand(ins.flags.get("platform", ""), env, df.escape),
                                ins))
        elif not stages:
            if ins.cmd != "ARG":
                raise DockerfileError(f"dockerfile parse error on line {ins.line}: no build stage in current "
                                      f"context" if ins.cmd != "ONBUILD" else "ONBUILD before FROM")
            for name, default in arg_decl(ins, {**auto, **global_args}, df.escape):
                value = build_args.get(name, default)
                if value is not None:
                    global_args[name] = value
                else:
                    global_args.setdefault(name, "")
        else:
            stages[-1].instructions.append(ins)
    if not stages:
        raise DockerfileError("no FROM statement found")
    return global_args, stages


def find_stage(stages: list[Stage], text: str, before: int) -> Stage | None:
    """A stage named `text` (or numbered) that comes before index `before`."""
    low = text.lower()
    for s in stages[:before]:
        if s.name == low or (low.isdigit() and int(low) == s.index):
            return s
    return None


def needed(stages: list[Stage], target: str, global_args: dict[str, str], escape: str) -> list[Stage]:
    """The target stage (default: the last) and the stages it depends on, in order."""
    if target:
        end = next((s for s in stages if s.name == target.lower()), None)
        if end is None:
            raise InvalidArgument(f"the target {target!r} was not found in the provided Dockerfile")
    else:
        end = stages[-1]
    keep: set[int] = set()
    todo = [end]
    while todo:
        s = todo.pop()
        if s.index in keep:
            continue
        keep.add(s.index)
        refs = [s.base]
        for ins in s.instructions:
            refs += ins.flag_list("from")
            for m in ins.flag_list("mount"):
                for part in m.split(","):
                    k, _, v = part.partition("=")
                    if k == "from":
                        refs.append(v)
        for ref in refs:
            dep = find_stage(stages, expand(ref, {**platform_args(), **global_args}, escape), s.index)
            if dep is not None:
                todo.append(dep)
    return [s for s in stages if s.index in keep and s.index <= end.index]
