"""BuildOptions: every `hull build` flag in typed form (CLI, API and console
translate their input into this record)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class BuildOptions:
    context: str = "."                              # directory, tar file, or "-" (tar on stdin)
    files: list[str] = field(default_factory=list)  # -f (several are concatenated); "-" = stdin
    tags: list[str] = field(default_factory=list)   # -t, each normalised to a full reference
    build_args: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    target: str = ""
    no_cache: bool = False
    layers: bool = True                             # intermediate images + cache (Podman's default)
    pull: str = "missing"                           # missing | always | never | newer
    squash: bool = False                            # the stage's new layers as one
    format: str = "oci"                             # oci | docker
    iidfile: str = ""
    quiet: bool = False
    network: str = ""                               # RUN's network: "" (default: pasta), host, none, ...
    build_contexts: dict[str, str] = field(default_factory=dict)   # --build-context name=dir|image
    secrets: dict[str, str] = field(default_factory=dict)          # --secret id -> host file
    secret_values: dict[str, str] = field(default_factory=dict)    # --secret id=x,env=VAR: id -> VAR's value
    ignorefile: str = ""
    platform: str = ""
    runtime: str = ""
    rm: bool = True                                 # RUN containers are transient: always removed
    force_rm: bool = False
    tls_verify: bool | None = None                  # pulls of FROM images (None: registries.conf)
    authfile: str = ""
    creds: str = ""                                 # "user:password"
