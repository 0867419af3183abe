"""`create`: ContainerOptions -> a container row, its userdata and its config.json.

Order: resolve (or pull) the image per --pull, --replace, record the row
("configured"), make the directories, write hostname/hosts/resolv.conf, set up
volumes and secrets, build the OCI config (engine/spec/generate.py), write
config.json and the monitor's monitor.json, then move to "created".  Any
failure removes what was made, so a failed create leaves nothing behind.
"""

from __future__ import annotations

import os
from pathlib import Path

from engine.config import EngineConfig
from engine.errors import Conflict, HullError, ImageNotFound, InvalidArgument, StorageError
from engine.services.common import enter_userns, image_config, open_store
from engine.record import Factory, Record
from engine.store.containers import ContainerState

TYPE_CHECKING = False  # typing and dataclasses cost milliseconds on every run/create
if TYPE_CHECKING:
    from typing import Any

PULL_POLICIES = ("always", "missing", "never", "newer")
SECRETS_DIR = "/run/secrets"


class CreateResult(Record):
    id: str
    name: str
    warnings: list[str] = Factory(list)


# ---------------------------------------------------------------- image
def resolve_image(cfg: EngineConfig, store: Any, text: str, policy: str, pull_options: Any = None) -> tuple[Any, str]:
    """(image, the name to record) for `text`, pulling as `policy` says."""
    from engine.services import images as image_services

    policy = (policy or "missing").lower()
    if policy not in PULL_POLICIES:
        raise InvalidArgument(f'invalid pull policy "{policy}"')
    if not text:
        raise InvalidArgument("an image name or ID is required")
    image = None
    if policy != "always":
        try:
            image = image_services.find_image(store, text)
        except ImageNotFound:
            if policy == "never":
                raise ImageNotFound(f"{text}: image not known") from None
    if image is None:
        if pull_options is None:
            from engine.services.image_registry import PullOptions

            pull_options = PullOptions()
        image_id = image_services.pull(cfg, text, pull_options)
        image = store.images.get(image_id)
    from engine.oci.mediatypes import INDEXES

    if image.manifest_media_type in INDEXES:  # a manifest list: its entry for this host
        from engine.services.manifests import resolve_instance

        return resolve_instance(cfg, store, image), _record_name(image, text)
    return image, _record_name(image, text)


def _record_name(image: Any, text: str) -> str:
    from engine.oci.reference import parse_reference

    try:
        wanted = str(parse_reference(text))
    except HullError:
        wanted = ""
    if wanted in image.names:
        return wanted
    bare = text.removeprefix("sha256:")
    if all(c in "0123456789abcdef" for c in bare) and image.id.removeprefix("sha256:").startswith(bare):
        return image.id.removeprefix("sha256:")
    for name in image.names:  # a short name that matched, e.g. busybox -> localhost/busybox:latest
        if name.rsplit("/", 1)[-1].startswith(text.rsplit("/", 1)[-1]):
            return name
    return image.names[0] if image.names else image.id.removeprefix("sha256:")


def command_of(config: dict, opts: Any) -> list[str]:
    """entrypoint + cmd as Docker combines them (--entrypoint clears the image's CMD)."""
    cc = config.get("config") or {}
    if opts.entrypoint is not None:
        entrypoint = list(opts.entrypoint)
        cmd = list(opts.command)
    else:
        entrypoint = list(cc.get("Entrypoint") or [])
        cmd = list(opts.command) if opts.command else list(cc.get("Cmd") or [])
    return entrypoint + cmd


# ---------------------------------------------------------------- userdata files
def resolv_conf(opts: Any, host_file: str = "/etc/resolv.conf", view: Any = None) -> str:
    from engine.network.hostsfiles import resolv_conf as build

    return build(opts, host_file, view)


def hosts_file(opts: Any, hostname: str, name: str, host_file: str = "/etc/hosts", view: Any = None) -> str:
    from engine.network.hostsfiles import hosts_file as build

    return build(opts, hostname, name, host_file, view)


def _write(path: Path, text: str | bytes, mode: int = 0o644) -> None:
    data = text.encode() if isinstance(text, str) else text
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    try:
        os.fchmod(fd, mode)
        os.write(fd, data)
    finally:
        os.close(fd)


# ---------------------------------------------------------------- volumes, secrets
def _setup_volumes(store: Any, cid: str, opts: Any, config: dict) -> tuple[list[Any], dict[str, str]]:
    """Named/anonymous volumes made and recorded; bind sources checked.  Returns the
    (possibly rewritten) mounts and {destination: host path} for volume mounts."""
    from engine.spec.options import MountSpec

    mounts = list(opts.mounts)
    for other in opts.volumes_from:
        mounts += _mounts_from(store, other, {m.destination for m in mounts})
    taken = {os.path.normpath(m.destination) for m in mounts}
    for dest in sorted((config.get("config") or {}).get("Volumes") or {}):
        if os.path.normpath(dest) not in taken:  # image VOLUMEs become anonymous volumes
            mounts.append(MountSpec(type="volume", destination=dest))
            taken.add(os.path.normpath(dest))
    sources: dict[str, str] = {}
    for m in mounts:
        if m.type == "bind":
            if not os.path.exists(m.source):
                raise StorageError(f"statfs {m.source}: no such file or directory")
        elif m.type == "volume":
            if m.source and store.volumes.exists(m.source):
                volume = store.volumes.get(m.source)
            else:
                volume = store.volumes.create(m.source or None, anonymous=not m.source, ignore_existing=True)
                m.source = volume.name if not m.anonymous else m.source
            store.volumes.attach(cid, volume.name, m.destination)
            sources[m.destination] = volume.data_path
    return mounts, sources


def _mounts_from(store: Any, text: str, taken: set[str]) -> list[Any]:
    from engine.spec.options import MountSpec

    name, _, mode = text.partition(":")
    other = store.containers.lookup(name)
    from engine.spec.options import ContainerOptions

    theirs = ContainerOptions.from_dict(other.options).mounts
    volumes = dict((dest, vol) for vol, dest in store.volumes.of_container(other.id))
    out = []
    for m in theirs:
        if m.destination in taken or m.type == "tmpfs":
            continue
        copy = MountSpec(**{**m.__dict__})
        if m.type == "volume":
            copy.source = volumes.get(m.destination, m.source)
        if mode in ("ro", "rw"):
            copy.readonly = mode == "ro"
        out.append(copy)
    for dest, vol in volumes.items():  # the image-VOLUME anonymous volumes of the other container
        if dest not in taken and not any(o.destination == dest for o in out):
            out.append(MountSpec(type="volume", destination=dest, source=vol, readonly=mode == "ro"))
    return out


OVERLAY_MOUNTS = "overlay-mounts"


def _setup_overlay_mounts(store: Any, cid: str, mounts: list[Any],
                          volume_sources: dict[str, str]) -> dict[str, list[str]]:
    """-v SRC:DST:O: an overlay with SRC as its lower layer and a private upper dir under
    the container's directory, emptied after every run (Podman: changes are thrown away)."""
    from engine.runtime.overlay import escape_option_path

    out: dict[str, list[str]] = {}
    for i, m in enumerate(x for x in mounts if x.overlay):
        lower = volume_sources.get(m.destination) if m.type == "volume" else m.source
        if not lower or not os.path.isdir(lower):
            raise InvalidArgument(f"{m.source or m.destination}: overlay mount (O) needs a directory as its source")
        base = store.containers.dir(cid) / OVERLAY_MOUNTS / str(i)
        (base / "upper").mkdir(parents=True, exist_ok=True)
        (base / "work").mkdir(exist_ok=True)
        out[m.destination] = ["lowerdir=" + escape_option_path(lower),
                              "upperdir=" + escape_option_path(str(base / "upper")),
                              "workdir=" + escape_option_path(str(base / "work")), "userxattr"]
    return out


def reset_overlay_mounts(store: Any, cid: str) -> None:
    """Throw away what a run wrote into its :O overlays (the next run starts clean)."""
    from engine.store.rmtree import remove_tree

    top = store.containers.dir(cid) / OVERLAY_MOUNTS
    try:
        entries = list(top.iterdir())
    except OSError:
        return
    for base in entries:
        for sub in ("upper", "work"):
            try:
                remove_tree(base / sub)
                (base / sub).mkdir()
            except (OSError, HullError):
                pass


def _host_id(maps: list[dict] | None, cid: int) -> int:
    """A container uid/gid as this process sees it (through the spec's own user
    namespace maps, when the container has one)."""
    if not maps:
        return cid
    for m in maps:
        if m["containerID"] <= cid < m["containerID"] + m["size"]:
            return m["hostID"] + cid - m["containerID"]
    raise InvalidArgument(f"cannot chown to {cid}: not mapped in the container's user namespace")


def _chown_sources(spec: dict, mounts: list[Any], volume_sources: dict[str, str]) -> None:
    """-v SRC:DST:U: SRC (recursively, never following links) owned by the container's user."""
    wanted = [m for m in mounts if m.chown and m.type in ("bind", "volume")]
    if not wanted:
        return
    user = spec["process"]["user"]
    linux = spec.get("linux") or {}
    uid = _host_id(linux.get("uidMappings"), int(user.get("uid", 0)))
    gid = _host_id(linux.get("gidMappings"), int(user.get("gid", 0)))
    for m in wanted:
        top = volume_sources.get(m.destination) if m.type == "volume" else m.source
        if not top:
            continue
        try:
            os.chown(top, uid, gid, follow_symlinks=False)
            if os.path.isdir(top) and not os.path.islink(top):
                for _, dirs, files, dfd in os.fwalk(top, follow_symlinks=False):
                    for name in dirs + files:
                        os.chown(name, uid, gid, dir_fd=dfd, follow_symlinks=False)
        except OSError as exc:
            raise StorageError(f"chown {top} to {uid}:{gid} (U): {(exc.strerror or str(exc)).lower()}") from None


def _setup_secrets(store: Any, cid: str, opts: Any) -> tuple[dict[str, str], dict[str, str]]:
    """({secret name: 0400-ish copy in userdata} for type=mount, {name: value} for type=env)."""
    paths: dict[str, str] = {}
    env: dict[str, str] = {}
    if not opts.secrets:
        return paths, env
    sdir = store.containers.userdata(cid) / "secrets"
    sdir.mkdir(mode=0o755, exist_ok=True)
    for spec in opts.secrets:
        secret = store.secrets.lookup(spec.name)
        data = store.secrets.read_data(secret)
        if spec.type == "env":
            try:
                env[spec.name] = data.decode()
            except UnicodeDecodeError:
                raise InvalidArgument(f"secret {spec.name} is not valid UTF-8: cannot be an environment variable") from None
            continue
        if spec.type != "mount":
            raise InvalidArgument(f"unsupported secret type {spec.type!r}: must be mount or env")
        host = sdir / f"{secret.id}-{len(paths)}"
        _write(host, data, 0o600)
        try:  # rootless this runs in the user namespace: these are container ids
            os.chown(host, spec.uid, spec.gid)
        except OSError as exc:
            raise InvalidArgument(f"secret {spec.name}: cannot set owner {spec.uid}:{spec.gid}: {exc.strerror}") from None
        os.chmod(host, spec.mode)
        paths[spec.name] = str(host)
    return paths, env


# ---------------------------------------------------------------- create
def _open_cidfile(path: str) -> int | None:
    """Podman creates the cidfile before the container: a path that exists or cannot be
    written fails the create with nothing made."""
    if not path:
        return None
    try:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    except FileExistsError:
        raise Conflict(f"container id file exists. Ensure another container is not using it or delete {path}") from None
    except OSError as exc:
        raise StorageError(f"opening cidfile: open {path}: {(exc.strerror or str(exc)).lower()}") from None


def create(cfg: EngineConfig, opts: Any, *, runtime: str | None = None, pull_options: Any = None) -> CreateResult:
    """Create a container from `opts` (engine.spec.options.ContainerOptions)."""
    enter_userns(cfg)
    store = open_store(cfg)
    cid_fd = _open_cidfile(opts.cidfile)
    try:
        result = _create(cfg, store, opts, runtime, pull_options)
        if cid_fd is not None:
            os.write(cid_fd, result.id.encode())
    except BaseException:
        if cid_fd is not None:
            os.close(cid_fd)
            cid_fd = None
            try:
                os.unlink(opts.cidfile)
            except OSError:
                pass
        raise
    finally:
        if cid_fd is not None:
            os.close(cid_fd)
    return result


def _create(cfg: EngineConfig, store: Any, opts: Any, runtime: str | None, pull_options: Any) -> CreateResult:
    image, image_name = resolve_image(cfg, store, opts.image, opts.pull, pull_options)
    if opts.replace and opts.name and store.containers.exists(opts.name):
        from engine.services.containers import RmOptions, remove

        old = store.containers.lookup(opts.name)
        if old.name == opts.name:
            remove(cfg, [old.id], RmOptions(force=True, time=0))
    if opts.pod:  # --pod NAME / new:NAME: the pod's shared namespaces (engine/services/pod_create.py)
        from engine.services.pod_create import prepare_member

        opts = prepare_member(cfg, store, opts)
    if opts.network == "container" or any((getattr(opts, k) or "").startswith("container:")
                                          for k in ("ipc", "uts", "pid")):
        from engine.network.lifecycle import resolve_dependencies

        resolve_dependencies(store, opts)  # container:NAME -> container:<ID>
    # --requires NAME: kept as IDs (a rename must not break it); a missing one is Podman's error
    opts.requires = [store.containers.lookup(name).id for name in opts.requires]
    config = image_config(store, image)
    port_warnings: list[str] = []
    if opts.publish or opts.publish_all:  # -p/-P: joined, conflicts refused, EXPOSEd ports added
        from engine.network.ports import final_publish

        opts, port_warnings = final_publish(opts, config)
    labels = {**((config.get("config") or {}).get("Labels") or {}), **opts.labels}
    argv = command_of(config, opts)
    if not argv:
        raise InvalidArgument("no command or entrypoint provided, and no CMD or ENTRYPOINT from image")
    container = store.containers.create(
        opts.name or None, image.id, image_name, options=opts.to_dict(), labels=labels, command=argv,
        runtime=runtime or "", pod=opts.pod)
    cid = container.id
    try:
        result = _prepare(cfg, store, container, image, config, opts)
        result.warnings[:0] = port_warnings
    except BaseException:
        _undo(store, cid)
        raise
    from engine.services.events import container_event

    container_event(cfg, "create", store.containers.get(cid))
    return result


def _prepare(cfg: EngineConfig, store: Any, container: Any, image: Any, config: dict, opts: Any) -> CreateResult:
    cid = container.id
    cs = store.containers
    if opts.network in ("", "bridge"):  # addresses on named networks (IPAM), before hosts is written
        from engine.services.networks import attach_at_create

        attach_at_create(cfg, store, cid, opts)
    cs.make_dirs(cid)
    userdata = cs.userdata(cid)
    hostname = opts.hostname or (os.uname().nodename if opts.network == "host" else cid[:12])
    _write(userdata / "hostname", hostname + "\n")
    from engine.network.hostsfiles import build_view

    view = build_view(cfg, store, container, opts)  # final addresses come at start
    _write(userdata / "resolv.conf", resolv_conf(opts, view=view))
    if not opts.no_hosts:
        _write(userdata / "hosts", hosts_file(opts, hostname, container.name, view=view))
    mounts, volume_sources = _setup_volumes(store, cid, opts, config)
    secret_paths, secret_env = _setup_secrets(store, cid, opts)
    from engine.services.container_spec import containerenv, write_bundle
    from engine.services.containers import mount_rootfs

    _write(userdata / ".containerenv", containerenv(cfg, container, image.id))
    from engine.services.container_userns import assign, chown_userdata

    assign(cfg, store, cid, opts, image)  # --userns=auto's id block, --uidmap/--gidmap (before the rootfs)
    # build_spec reads the image's /etc/passwd and /etc/group inside the rootfs
    mount_rootfs(store, cs.get(cid))
    run_opts = Record.replace(opts, mounts=mounts)  # not opts.replace: a field of that name
    overlays = _setup_overlay_mounts(store, cid, mounts, volume_sources)
    spec, warnings = write_bundle(cfg, store, container, config, run_opts, volume_sources=volume_sources,
                                  secret_paths=secret_paths, secret_env=secret_env, overlay_options=overlays)
    chown_userdata(store, cid, spec)
    _chown_sources(spec, mounts, volume_sources)
    cs.transition(cid, ContainerState.CREATED, spec_path=str(userdata / "config.json"),
                  options=_with_mounts(opts, mounts))
    return CreateResult(cid, container.name, warnings)


def _with_mounts(opts: Any, mounts: list[Any]) -> dict:
    """The stored options keep the resolved mounts (volume names filled in)."""
    doc = opts.to_dict()
    doc["mounts"] = [m.as_dict() for m in mounts]
    return doc


def _undo(store: Any, cid: str) -> None:
    from engine.services.containers import unmount_rootfs
    from engine.store.rmtree import remove_tree

    try:
        unmount_rootfs(store, store.containers.get(cid))
    except HullError:
        pass

    used = [vol for vol, _ in store.volumes.of_container(cid)]
    try:
        store.containers.delete(cid)
    except HullError:
        pass
    remove_anonymous_volumes(store, used)
    for path in (store.containers.dir(cid), store.containers.run_dir(cid)):
        try:
            remove_tree(path)
        except (FileNotFoundError, HullError, OSError):
            pass


def remove_anonymous_volumes(store: Any, names: list[str]) -> list[str]:
    """Remove those of `names` that are anonymous and no container uses any more."""
    removed = []
    for name in names:
        try:
            volume = store.volumes.get(name)
            if volume.anonymous and not store.volumes.users(name):
                store.volumes.remove(name)
                removed.append(name)
        except HullError:
            continue
    return removed
