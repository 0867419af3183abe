"""build_spec against what Podman puts in config.json for the same flags; every
generated spec must validate against the OCI runtime schema."""

import os

import pytest

from engine.errors import InvalidArgument
from engine.spec import defaults, parse
from engine.spec.generate import NO_COMMAND, SpecContext, build_spec, command_args
from engine.spec.options import ContainerOptions, IDMapping, Resources
from engine.spec.users import ImageAccounts, parse_group, parse_passwd
from tests.unit.spec.oci_schema import schema_errors

CID = "0123456789ab" + "c" * 52
ACCOUNTS = ImageAccounts(
    parse_passwd("root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"),
    parse_group("root:x:0:\napp:x:1000:\nwheel:x:10:app\n"))
IMAGE = {"config": {"Env": ["PATH=/usr/bin:/bin", "IMG=1"], "Cmd": ["sh"], "WorkingDir": "/srv"}}


def build(opts=None, image=IMAGE, **ctx_kw):
    ctx_kw.setdefault("host_capabilities", frozenset(parse.CAPABILITIES))  # not this host's bounding set
    ctx = SpecContext(container_id=CID, rootfs="/run/hull/rootfs", accounts=ACCOUNTS, **ctx_kw)
    spec = build_spec(image, opts or ContainerOptions(image="busybox"), ctx)
    assert schema_errors(spec) == []
    spec["_warnings"] = ctx.warnings
    return spec


def env_of(spec):
    return dict(e.split("=", 1) for e in spec["process"]["env"])


def mount(spec, dest):
    found = [m for m in spec["mounts"] if m["destination"] == dest]
    assert len(found) == 1, f"{dest}: {found}"
    return found[0]


# ------------------------------------------------------------------ args

@pytest.mark.parametrize("image_cfg,entrypoint,command,expected", [
    ({"Cmd": ["sh"]}, None, [], ["sh"]),
    ({"Cmd": ["sh"]}, None, ["ls", "-l"], ["ls", "-l"]),
    ({"Entrypoint": ["/ep"], "Cmd": ["a"]}, None, [], ["/ep", "a"]),
    ({"Entrypoint": ["/ep"], "Cmd": ["a"]}, None, ["b"], ["/ep", "b"]),
    ({"Entrypoint": ["/ep"], "Cmd": ["a"]}, ["/new"], [], ["/new"]),        # image Cmd dropped
    ({"Entrypoint": ["/ep"], "Cmd": ["a"]}, ["/new"], ["x"], ["/new", "x"]),
    ({"Entrypoint": ["/ep"], "Cmd": ["a"]}, [], ["x"], ["x"]),              # --entrypoint ""
    ({"Cmd": ["sh"]}, [], ["echo"], ["echo"]),
])
def test_entrypoint_cmd_rules(image_cfg, entrypoint, command, expected):
    opts = ContainerOptions(entrypoint=entrypoint, command=command)
    assert command_args({"config": image_cfg}, opts) == expected
    assert build(opts, {"config": image_cfg})["process"]["args"] == expected


@pytest.mark.parametrize("image_cfg,entrypoint", [({}, None), ({"Entrypoint": ["/ep"]}, []),
                                                 ({"Cmd": None, "Entrypoint": None}, None)])
def test_no_command(image_cfg, entrypoint):
    with pytest.raises(InvalidArgument, match=f"^{NO_COMMAND}$"):
        build(ContainerOptions(entrypoint=entrypoint), {"config": image_cfg})


def test_init_wraps_command():
    spec = build(ContainerOptions(init=True, command=["sleep", "1"]), init_path="/usr/bin/catatonit")
    assert spec["process"]["args"] == ["/run/podman-init", "--", "sleep", "1"]
    m = mount(spec, "/run/podman-init")
    assert m["source"] == "/usr/bin/catatonit" and "ro" in m["options"]
    assert spec["annotations"]["io.podman.annotations.init"] == "TRUE"


# ------------------------------------------------------------------ env, cwd, user

def test_env_merge_order():
    opts = ContainerOptions(env_host=True, env_file={"F": "file", "E": "file"},
                            env={"E": "cli", "IMG": "cli"})
    spec = build(opts, host_env={"H": "host", "F": "host", "PATH": "/host"})
    env = env_of(spec)
    assert env["container"] == "podman" and env["HOSTNAME"] == CID[:12]
    assert env["PATH"] == "/host"        # --env-host over image over defaults
    assert env["H"] == "host" and env["F"] == "file" and env["E"] == "cli" and env["IMG"] == "cli"
    assert env["HOME"] == "/root" and "TERM" not in env


def test_default_env_and_tty():
    env = env_of(build(ContainerOptions(tty=True), {"config": {"Cmd": ["sh"]}}))
    assert env["PATH"] == defaults.DEFAULT_PATH and env["TERM"] == "xterm"
    assert build(ContainerOptions(tty=True))["process"]["terminal"] is True


def test_unset_env():
    env = env_of(build(ContainerOptions(unset_env=["IMG", "container"])))
    assert "IMG" not in env and "container" not in env and "PATH" in env
    env = env_of(build(ContainerOptions(unset_env_all=True, env={"A": "1"})))
    assert set(env) == {"A", "HOME"}


def test_home_from_env_wins():
    assert env_of(build(ContainerOptions(env={"HOME": "/x"})))["HOME"] == "/x"


def test_cwd():
    assert build()["process"]["cwd"] == "/srv"
    assert build(ContainerOptions(workdir="/w"))["process"]["cwd"] == "/w"
    assert build(image={"config": {"Cmd": ["sh"]}})["process"]["cwd"] == "/"
    assert build(image={"config": {"Cmd": ["sh"], "WorkingDir": "rel"}})["process"]["cwd"] == "/rel"
    with pytest.raises(InvalidArgument, match="absolute"):
        build(ContainerOptions(workdir="w"))


def test_user_from_flag_and_image():
    spec = build(ContainerOptions(user="app"))
    assert spec["process"]["user"] == {"uid": 1000, "gid": 1000, "umask": 0o22, "additionalGids": [10]}
    assert env_of(spec)["HOME"] == "/home/app"
    spec = build(image={"config": {"Cmd": ["sh"], "User": "1000:10"}})
    assert spec["process"]["user"]["uid"] == 1000 and spec["process"]["user"]["gid"] == 10
    with pytest.raises(InvalidArgument, match="unable to find user ghost: no matching entries in passwd file"):
        build(ContainerOptions(user="ghost"))


# ------------------------------------------------------------------ capabilities

def test_default_capabilities_root():
    caps = build()["process"]["capabilities"]
    assert caps["bounding"] == caps["effective"] == caps["permitted"] == sorted(defaults.DEFAULT_CAPABILITIES)
    assert "inheritable" not in caps and "ambient" not in caps


def test_cap_add_drop():
    caps = build(ContainerOptions(cap_add=["CAP_NET_ADMIN"], cap_drop=["CAP_CHOWN"]))["process"]["capabilities"]
    assert "CAP_NET_ADMIN" in caps["bounding"] and "CAP_CHOWN" not in caps["effective"]
    caps = build(ContainerOptions(cap_drop=["ALL"], cap_add=["CAP_KILL"]))["process"]["capabilities"]
    assert caps["bounding"] == ["CAP_KILL"]
    caps = build(ContainerOptions(cap_add=["ALL"], cap_drop=["CAP_SYS_ADMIN"]))["process"]["capabilities"]
    assert len(caps["bounding"]) == len(parse.CAPABILITIES) - 1 and "CAP_SYS_ADMIN" not in caps["bounding"]


def test_non_root_user_gets_only_added_caps():
    caps = build(ContainerOptions(user="1000"))["process"]["capabilities"]
    assert caps["bounding"] == sorted(defaults.DEFAULT_CAPABILITIES)
    assert caps["effective"] == caps["permitted"] == caps["ambient"] == []
    caps = build(ContainerOptions(user="1000", cap_add=["CAP_NET_RAW"]))["process"]["capabilities"]
    assert caps["effective"] == caps["ambient"] == caps["inheritable"] == ["CAP_NET_RAW"]


def test_privileged():
    spec = build(ContainerOptions(privileged=True))
    assert spec["process"]["capabilities"]["bounding"] == list(parse.CAPABILITIES)
    assert spec["linux"]["maskedPaths"] == [] and spec["linux"]["readonlyPaths"] == []
    assert "seccomp" not in spec["linux"]
    assert "rw" in mount(spec, "/sys")["options"]
    assert spec["annotations"]["io.podman.annotations.privileged"] == "TRUE"


def test_privileged_and_cap_add_all_stay_within_our_bounding_set():
    held = frozenset(parse.CAPABILITIES) - {"CAP_SYS_RESOURCE"}
    for opts in (ContainerOptions(privileged=True), ContainerOptions(cap_add=["ALL"])):
        caps = build(opts, host_capabilities=held)["process"]["capabilities"]
        assert "CAP_SYS_RESOURCE" not in caps["bounding"]
        assert len(caps["bounding"]) == len(parse.CAPABILITIES) - 1


# ------------------------------------------------------------------ security

def test_masked_and_readonly_defaults():
    spec = build()
    assert set(defaults.MASKED_PATHS) <= set(spec["linux"]["maskedPaths"])
    assert spec["linux"]["readonlyPaths"] == list(defaults.READONLY_PATHS)
    assert spec["process"]["noNewPrivileges"] is False


def test_mask_unmask():
    sec = parse.parse_security_opts(["unmask=/proc/kcore:/proc/sys", "mask=/opt/secret",
                                     "no-new-privileges"])
    spec = build(ContainerOptions(security=sec))
    assert "/proc/kcore" not in spec["linux"]["maskedPaths"] and "/opt/secret" in spec["linux"]["maskedPaths"]
    assert "/proc/sys" not in spec["linux"]["readonlyPaths"]
    assert spec["process"]["noNewPrivileges"] is True
    spec = build(ContainerOptions(security=parse.parse_security_opts(["unmask=ALL"])))
    assert spec["linux"]["maskedPaths"] == [] and spec["linux"]["readonlyPaths"] == []


def test_seccomp_default_and_unconfined():
    spec = build()
    assert spec["linux"]["seccomp"]["defaultAction"] == "SCMP_ACT_ERRNO"
    assert not any("mount" in r["names"] for r in spec["linux"]["seccomp"]["syscalls"])
    spec = build(ContainerOptions(cap_add=["CAP_SYS_ADMIN"]))
    assert any("mount" in r["names"] for r in spec["linux"]["seccomp"]["syscalls"])
    spec = build(ContainerOptions(security=parse.parse_security_opts(["seccomp=unconfined"])))
    assert "seccomp" not in spec["linux"]


# ------------------------------------------------------------------ rlimits, oom

def test_rlimits_clamped_to_host():
    spec = build()
    limits = {r["type"]: (r["soft"], r["hard"]) for r in spec["process"]["rlimits"]}
    import resource
    hard_nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    assert limits["RLIMIT_NOFILE"][1] == min(defaults.RLIMIT_DEFAULT, hard_nofile)
    assert "RLIMIT_NPROC" in limits


def test_user_ulimits_clamped_rootless():
    import resource
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    opts = ContainerOptions(ulimits=[parse.parse_ulimit(f"nofile={hard * 10}:{hard * 10}"),
                                     parse.parse_ulimit("core=0:0")])
    spec = build(opts, rootless=True)
    limits = {r["type"]: (r["soft"], r["hard"]) for r in spec["process"]["rlimits"]}
    assert limits["RLIMIT_NOFILE"] == (hard, hard)
    assert limits["RLIMIT_CORE"] == (0, 0)
    assert any("nofile" in w for w in spec["_warnings"])


def test_oom_score_adj():
    assert build(ContainerOptions(oom_score_adj=500))["process"]["oomScoreAdj"] == 500
    assert "oomScoreAdj" not in build()["process"]
    with pytest.raises(InvalidArgument):
        build(ContainerOptions(oom_score_adj=5000))


# ------------------------------------------------------------------ mounts

def test_default_mounts_as_podman():
    spec = build()
    dests = [m["destination"] for m in spec["mounts"]]
    assert dests[:6] == ["/proc", "/dev", "/dev/pts", "/dev/mqueue", "/sys", "/dev/shm"]
    assert mount(spec, "/dev/pts")["options"] == ["nosuid", "noexec", "newinstance", "ptmxmode=0666",
                                                  "mode=0620", "gid=5"]
    assert "size=67108864" in mount(spec, "/dev/shm")["options"]
    assert mount(spec, "/sys")["type"] == "sysfs"


def test_shm_size():
    assert f"size={1 << 30}" in mount(build(ContainerOptions(shm_size=1 << 30)), "/dev/shm")["options"]


def test_rootless_host_network_binds_sys():
    spec = build(ContainerOptions(network="host"), rootless=True)
    sys = mount(spec, "/sys")
    assert sys["type"] == "bind" and sys["source"] == "/sys" and "ro" in sys["options"]
    assert "rbind" in sys["options"]
    assert not any(n["type"] == "network" for n in spec["linux"]["namespaces"])
    assert spec["hostname"] == os.uname().nodename


def test_single_id_map_drops_gid5():
    assert "gid=5" not in mount(build(rootless=True, single_id_map=True), "/dev/pts")["options"]


def test_bind_volume_tmpfs_mounts():
    opts = ContainerOptions(mounts=[
        parse.parse_volume("/src:/data:ro"),
        parse.parse_volume("vol:/var/lib/db"),
        parse.parse_volume("/anon"),
        parse.parse_mount("type=bind,src=/s,dst=/d,bind-propagation=rslave,bind-nonrecursive"),
        parse.parse_tmpfs("/scratch:size=64m,mode=1777"),
        parse.parse_mount("type=volume,src=vol2,dst=/sub,subpath=a/b"),
    ])
    spec = build(opts, volume_sources={"/var/lib/db": "/vols/vol/_data", "/anon": "/vols/x/_data",
                                       "/sub": "/vols/vol2/_data"})
    assert mount(spec, "/data") == {"destination": "/data", "type": "bind", "source": "/src",
                                    "options": ["ro", "rprivate", "rbind"]}
    assert mount(spec, "/var/lib/db")["source"] == "/vols/vol/_data"
    assert {"nosuid", "nodev", "rbind"} <= set(mount(spec, "/var/lib/db")["options"])
    assert mount(spec, "/anon")["source"] == "/vols/x/_data"
    assert mount(spec, "/d")["options"] == ["rslave", "bind"]
    assert mount(spec, "/scratch")["options"] == ["rw", "noexec", "nosuid", "nodev",
                                                  f"size={64 << 20}", "mode=1777"]
    assert mount(spec, "/sub")["source"] == "/vols/vol2/_data/a/b"


def test_volume_without_source_or_escaping_subpath():
    with pytest.raises(InvalidArgument, match="no volume prepared"):
        build(ContainerOptions(mounts=[parse.parse_volume("vol:/x")]))
    with pytest.raises(InvalidArgument, match='must not contain ".."'):
        build(ContainerOptions(mounts=[parse.parse_mount("type=volume,src=v,dst=/x,subpath=../..")]),
              volume_sources={"/x": "/vols/v/_data"})


def test_duplicate_destination():
    with pytest.raises(InvalidArgument, match="/x: duplicate mount destination"):
        build(ContainerOptions(mounts=[parse.parse_volume("/a:/x"), parse.parse_tmpfs("/x")]))


def test_mounts_sorted_by_depth_and_override_defaults():
    opts = ContainerOptions(mounts=[parse.parse_volume("/h/deep:/etc/app/conf"),
                                    parse.parse_volume("/h/etc:/etc"),
                                    parse.parse_tmpfs("/dev/shm:size=1m")])
    spec = build(opts, hosts_path="/ud/hosts", resolv_conf_path="/ud/resolv.conf",
                 hostname_path="/ud/hostname")
    dests = [m["destination"] for m in spec["mounts"]]
    assert dests.index("/etc") < dests.index("/etc/hosts") < dests.index("/etc/app/conf")
    assert dests.count("/dev/shm") == 1 and mount(spec, "/dev/shm")["type"] == "tmpfs"
    assert f"size={1 << 20}" in mount(spec, "/dev/shm")["options"]
    assert mount(spec, "/etc/hosts") == {"destination": "/etc/hosts", "type": "bind",
                                         "source": "/ud/hosts", "options": ["bind", "rprivate"]}


def test_read_only():
    spec = build(ContainerOptions(read_only=True), hosts_path="/ud/hosts")
    assert spec["root"] == {"path": "/run/hull/rootfs", "readonly": True}
    for dest in ("/tmp", "/var/tmp", "/run"):
        assert mount(spec, dest)["type"] == "tmpfs"
    assert "ro" in mount(spec, "/etc/hosts")["options"]
    spec = build(ContainerOptions(read_only=True, read_only_tmpfs=False))
    assert not any(m["destination"] == "/tmp" for m in spec["mounts"])
    spec = build(ContainerOptions(read_only=True, mounts=[parse.parse_volume("/h:/tmp")]))
    assert mount(spec, "/tmp")["type"] == "bind"


def test_secrets():
    opts = ContainerOptions(secrets=[parse.parse_secret("db"), parse.parse_secret("api,target=/etc/api"),
                                     parse.parse_secret("pw,type=env,target=PASSWORD")])
    spec = build(opts, secret_paths={"db": "/s/db", "api": "/s/api"}, secret_env={"pw": "hunter2"})
    assert mount(spec, "/run/secrets/db")["source"] == "/s/db"
    assert "ro" in mount(spec, "/etc/api")["options"]
    assert env_of(spec)["PASSWORD"] == "hunter2"
    with pytest.raises(InvalidArgument, match="no such secret"):
        build(ContainerOptions(secrets=[parse.parse_secret("nope")]))


def test_timezone(tmp_path):
    zi = tmp_path / "zoneinfo"
    (zi / "Europe").mkdir(parents=True)
    (zi / "Europe/Paris").write_bytes(b"TZif")
    spec = build(ContainerOptions(timezone="Europe/Paris"), zoneinfo_dir=str(zi))
    assert mount(spec, "/etc/localtime")["source"] == str(zi / "Europe/Paris")
    for bad in ("Mars/Base", "../../etc/passwd", "/etc/passwd"):
        with pytest.raises(InvalidArgument, match="unknown time zone"):
            build(ContainerOptions(timezone=bad), zoneinfo_dir=str(zi))


def test_devices_root_and_rootless():
    opts = ContainerOptions(devices=[parse.parse_device("/dev/null:/dev/mynull:rw")],
                            device_cgroup_rules=["c 10:229 rwm"])
    spec = build(opts)
    (dev,) = spec["linux"]["devices"]
    assert (dev["path"], dev["type"], dev["major"], dev["minor"]) == ("/dev/mynull", "c", 1, 3)
    rules = spec["linux"]["resources"]["devices"]
    assert rules[0] == {"allow": False, "access": "rwm"}
    assert {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rw"} in rules
    assert {"allow": True, "type": "c", "major": 10, "minor": 229, "access": "rwm"} in rules
    spec = build(ContainerOptions(devices=[parse.parse_device("/dev/null:/dev/mynull:r")]), rootless=True)
    assert "devices" not in spec["linux"]
    m = mount(spec, "/dev/mynull")
    assert m["type"] == "bind" and m["source"] == "/dev/null" and "ro" in m["options"]
    with pytest.raises(InvalidArgument, match="no such file"):
        build(ContainerOptions(devices=[parse.parse_device("/dev/does-not-exist")]))
    with pytest.raises(InvalidArgument, match="not a device"):
        build(ContainerOptions(devices=[parse.parse_device("/etc/hostname")]))


# ------------------------------------------------------------------ namespaces, userns

def test_namespaces():
    types = [n["type"] for n in build()["linux"]["namespaces"]]
    assert sorted(types) == ["cgroup", "ipc", "mount", "network", "pid", "uts"]
    assert "network" in [n["type"] for n in build(ContainerOptions(network="none"))["linux"]["namespaces"]]


def test_uidmap_gidmap():
    opts = ContainerOptions(uidmap=[IDMapping(0, 100000, 5000)])
    spec = build(opts)
    assert {"type": "user"} in spec["linux"]["namespaces"]
    assert spec["linux"]["uidMappings"] == [{"containerID": 0, "hostID": 100000, "size": 5000}]
    assert spec["linux"]["gidMappings"] == spec["linux"]["uidMappings"]   # gidmap defaults to uidmap


def test_keep_id_rootless():
    spec = build(ContainerOptions(userns="keep-id"), rootless=True, host_uid=1001, host_gid=1001,
                 ns_uid_size=65537, ns_gid_size=65537)
    assert spec["linux"]["uidMappings"] == [
        {"containerID": 0, "hostID": 1, "size": 1001},
        {"containerID": 1001, "hostID": 0, "size": 1},
        {"containerID": 1002, "hostID": 1002, "size": 64535}]
    assert spec["process"]["user"]["uid"] == 1001 and spec["process"]["user"]["gid"] == 1001
    with pytest.raises(InvalidArgument, match="keep-id is only supported in rootless mode"):
        build(ContainerOptions(userns="keep-id"))


def test_userns_auto_rootless_and_host():
    spec = build(ContainerOptions(userns="auto:size=1024"), rootless=True)
    assert spec["linux"]["uidMappings"] == [{"containerID": 0, "hostID": 1, "size": 1024}]
    assert "uidMappings" not in build(ContainerOptions(userns="host"))["linux"]
    spec = build(ContainerOptions(userns="auto"), uid_maps=[IDMapping(0, 200000, 65536)],
                 gid_maps=[IDMapping(0, 200000, 65536)])
    assert spec["linux"]["uidMappings"][0]["hostID"] == 200000


# ------------------------------------------------------------------ resources, sysctls, misc

def test_resources():
    opts = ContainerOptions(resources=Resources(memory=512 << 20, cpus=1.5, cpu_shares=512, pids_limit=100))
    res = build(opts)["linux"]["resources"]
    assert res["memory"] == {"limit": 512 << 20, "swap": 1024 << 20}
    assert res["cpu"] == {"shares": 512, "period": 100000, "quota": 150000}
    assert res["pids"] == {"limit": 100}


def test_resources_without_cgroups_warn():
    opts = ContainerOptions(resources=Resources(memory=1 << 20))
    spec = build(opts, rootless=True, cgroups_available=False)
    assert "memory" not in spec["linux"].get("resources", {})
    assert spec["_warnings"] == ["Resource limits are not supported and ignored on cgroups V1 rootless systems"]


def test_sysctl_hostname_annotations():
    opts = ContainerOptions(sysctls={"net.ipv4.ip_forward": "1"}, hostname="web", rm=True,
                            annotations={"x": "y"}, stop_signal=2)
    spec = build(opts)
    assert spec["linux"]["sysctl"] == {"net.ipv4.ip_forward": "1"}
    assert spec["hostname"] == "web" and env_of(spec)["HOSTNAME"] == "web"
    assert spec["annotations"] == {"io.container.manager": "libpod",
                                   "io.podman.annotations.autoremove": "TRUE",
                                   "org.opencontainers.image.stopSignal": "2", "x": "y"}
    spec = build(image={"config": {"Cmd": ["sh"], "StopSignal": "SIGQUIT"}})
    assert spec["annotations"]["org.opencontainers.image.stopSignal"] == "3"


def test_everything_at_once_validates():
    opts = ContainerOptions(
        command=["true"], env={"A": "1"}, user="app", group_add=["wheel"], tty=True, init=True,
        mounts=[parse.parse_volume("/a:/b:ro"), parse.parse_tmpfs("/t")], read_only=True,
        cap_add=["CAP_NET_ADMIN"], security=parse.parse_security_opts(["no-new-privileges"]),
        ulimits=[parse.parse_ulimit("nofile=100:200")], oom_score_adj=100,
        resources=Resources(memory=1 << 26, cpus=0.5, pids_limit=10), shm_size=1 << 20,
        sysctls={"kernel.shmmax": "100"}, uidmap=[IDMapping(0, 100000, 65536)],
        device_cgroup_rules=["a *:* rwm"], annotations={"k": "v"})
    build(opts, hosts_path="/h", resolv_conf_path="/r", hostname_path="/n", containerenv_path="/c")


def test_rootless_uidmap_split_where_our_namespace_ranges_meet():
    from engine.spec.options import IDMapping

    opts = ContainerOptions(uidmap=[IDMapping(0, 0, 3000)])
    linux = build(opts, rootless=True)["linux"]
    want = [{"containerID": 0, "hostID": 0, "size": 1}, {"containerID": 1, "hostID": 1, "size": 2999}]
    assert linux["uidMappings"] == linux["gidMappings"] == want
    assert build(opts)["linux"]["uidMappings"] == [{"containerID": 0, "hostID": 0, "size": 3000}]
