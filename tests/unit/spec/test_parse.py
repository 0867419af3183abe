"""Flag syntax as Podman accepts and refuses it."""

import signal

import pytest

from engine.errors import InvalidArgument
from engine.spec import parse
from engine.spec.options import MountSpec


@pytest.mark.parametrize("text,expected", [
    ("512m", 512 << 20), ("1g", 1 << 30), ("1024b", 1024), ("1024", 1024), ("1k", 1024),
    ("1.5g", int(1.5 * (1 << 30))), ("64MiB", 64 << 20), ("2 MB", 2 << 20), ("1T", 1 << 40),
])
def test_size(text, expected):
    assert parse.parse_size(text, "-m") == expected


@pytest.mark.parametrize("text", ["", "abc", "12x", "-1m", "1gg", "m"])
def test_size_refused(text):
    with pytest.raises(InvalidArgument, match="invalid size"):
        parse.parse_size(text, "--memory")


def test_cpus():
    assert parse.parse_cpus("1.5") == 1.5
    with pytest.raises(InvalidArgument, match='"--cpus"'):
        parse.parse_cpus("lots")
    with pytest.raises(InvalidArgument):
        parse.parse_cpus("-1")


@pytest.mark.parametrize("text,seconds", [
    ("30s", 30), ("1m30s", 90), ("1.5h", 5400), ("300ms", 0.3), ("0", 0), ("-2s", -2),
    ("1h2m3s4ms", 3723.004), ("10us", 10e-6), ("5µs", 5e-6), ("7ns", 7e-9),
])
def test_duration(text, seconds):
    assert parse.parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text,why", [
    ("1", "missing unit"), ("1d", 'unknown unit "d"'), ("", "invalid duration"),
    ("s", "invalid duration"), ("1s.", "invalid duration"),
])
def test_duration_refused(text, why):
    with pytest.raises(InvalidArgument, match=why) as exc:
        parse.parse_duration(text, "--health-interval")
    assert "--health-interval" in str(exc.value)


@pytest.mark.parametrize("text,num", [
    ("SIGTERM", 15), ("term", 15), ("15", 15), ("KILL", 9), ("sigusr1", int(signal.SIGUSR1)),
    ("RTMIN+3", int(signal.SIGRTMIN) + 3), ("SIGRTMAX", int(signal.SIGRTMAX)), ("64", 64),
])
def test_signal(text, num):
    assert parse.parse_signal(text) == num


@pytest.mark.parametrize("text", ["SIGNOPE", "0", "65", "", "RTMIN+99", "SIG"])
def test_signal_refused(text):
    with pytest.raises(InvalidArgument, match="invalid signal"):
        parse.parse_signal(text)


def test_ulimit():
    u = parse.parse_ulimit("nofile=1024:2048")
    assert (u.name, u.soft, u.hard) == ("nofile", 1024, 2048)
    u = parse.parse_ulimit("nproc=512")
    assert (u.soft, u.hard) == (512, 512)
    u = parse.parse_ulimit("core=-1")
    assert (u.soft, u.hard) == (-1, -1)
    assert parse.parse_ulimit("memlock=unlimited:unlimited").hard == -1
    assert parse.parse_ulimit("stack=1024:-1").hard == -1


@pytest.mark.parametrize("text,why", [
    ("nofile", "invalid ulimit argument"), ("nope=1", "invalid ulimit type: nope"),
    ("nofile=2048:1024", "soft limit must be less than or equal to hard limit: 2048 > 1024"),
    ("nofile=a:b", "invalid ulimit argument"), ("nofile=1:2:3", "too many limit value"),
    ("nofile=-1:10", "soft limit must be less"),
])
def test_ulimit_refused(text, why):
    with pytest.raises(InvalidArgument, match=why):
        parse.parse_ulimit(text)


@pytest.mark.parametrize("text,name,retries", [
    ("no", "no", 0), ("never", "no", 0), ("", "no", 0), ("always", "always", 0),
    ("on-failure", "on-failure", 0), ("on-failure:3", "on-failure", 3),
    ("unless-stopped", "unless-stopped", 0),
])
def test_restart(text, name, retries):
    p = parse.parse_restart(text)
    assert (p.name, p.max_retries) == (name, retries)


@pytest.mark.parametrize("text,why", [
    ("sometimes", 'invalid restart policy: "sometimes"'),
    ("always:3", "retries can only be specified with on-failure"),
    ("on-failure:x", "retry count"), ("on-failure:-1", "greater than 0"),
    ("on-failure:1:2", "at most once"),
])
def test_restart_refused(text, why):
    with pytest.raises(InvalidArgument, match=why):
        parse.parse_restart(text)


def test_env_items():
    host = {"HOSTVAR": "h", "FOO_A": "1", "FOO_B": "2", "OTHER": "x"}
    env = parse.parse_env(["A=1", "B=", "C=x=y", "HOSTVAR", "MISSING", "FOO_*"], host)
    assert env == {"A": "1", "B": "", "C": "x=y", "HOSTVAR": "h", "FOO_A": "1", "FOO_B": "2"}
    with pytest.raises(InvalidArgument, match="invalid variable"):
        parse.parse_env(["=x"], host)


def test_env_file(tmp_path):
    f = tmp_path / "env"
    f.write_text("# comment\n\nA=1\n  B=two words\nHOSTVAR\nUNSET\nC=\"quoted\"\n   # indented comment\n")
    env = parse.parse_env_file(str(f), {"HOSTVAR": "from-host"})
    assert env == {"A": "1", "B": "two words", "HOSTVAR": "from-host", "C": '"quoted"'}
    with pytest.raises(InvalidArgument, match="no such file"):
        parse.parse_env_file(str(tmp_path / "missing"))
    (tmp_path / "bad").write_text("BAD NAME=1\n")
    with pytest.raises(InvalidArgument, match="white spaces"):
        parse.parse_env_file(str(tmp_path / "bad"))


def test_key_values():
    assert parse.parse_key_values(["a=1", "b", "c=x=y"], "--label") == {"a": "1", "b": "", "c": "x=y"}
    with pytest.raises(InvalidArgument, match="--label"):
        parse.parse_key_values(["=1"], "--label")


# ------------------------------------------------------------------ -v

def test_volume_bind_with_options():
    m = parse.parse_volume("/src:/dst:ro,Z")
    assert (m.type, m.source, m.destination, m.readonly, m.relabel) == ("bind", "/src", "/dst", True, "Z")
    assert m.recursive and m.propagation == ""


def test_volume_bind_relative_source(tmp_path):
    m = parse.parse_volume("./data:/data", cwd=str(tmp_path))
    assert m.source == str(tmp_path / "data")


def test_volume_named_and_anonymous():
    m = parse.parse_volume("myvol:/data:U,nocopy")
    assert (m.type, m.source, m.chown, m.nocopy, m.anonymous) == ("volume", "myvol", True, True, False)
    m = parse.parse_volume("/data")
    assert (m.type, m.source, m.destination, m.anonymous) == ("volume", "", "/data", True)


def test_volume_all_options():
    m = parse.parse_volume("/a:/b:rw,nosuid,noexec,nodev,bind,rshared")
    assert not m.readonly and not m.recursive and m.propagation == "rshared"
    assert m.options == ["nosuid", "noexec", "nodev"]
    assert parse.parse_volume("/a:/b:O").overlay
    assert parse.parse_volume("/a:/b:z").relabel == "z"
    for prop in ("shared", "slave", "private", "rslave", "rprivate"):
        assert parse.parse_volume(f"/a:/b:{prop}").propagation == prop


@pytest.mark.parametrize("text,why", [
    ("/a:rel", "must be an absolute path"), ("/a:/b:bogus", 'invalid option type "bogus"'),
    ("/a:/b:ro,rw", "can only specify 1 'rw' or 'ro'"), ("/a:/b:z,Z", "can only specify 1 'z', 'Z'"),
    ("/a:/b:shared,private", "can only specify 1 '\\[r\\]shared'"),
    (":/b", "host directory cannot be empty"), ("/a:/b:ro:x", "incorrect volume format"),
    ("bad/name:/b", "invalid characters for a local volume name"),
    ("/a:/b:noexec,exec", "can only specify 1 'noexec' or 'exec'"), ("rel", "absolute path"),
])
def test_volume_refused(text, why):
    with pytest.raises(InvalidArgument, match=why):
        parse.parse_volume(text)


# ------------------------------------------------------------------ --mount

def test_mount_bind():
    m = parse.parse_mount("type=bind,source=/src,destination=/dst,ro=true,bind-propagation=rslave")
    assert (m.type, m.source, m.destination, m.readonly, m.propagation) == ("bind", "/src", "/dst", True, "rslave")
    m = parse.parse_mount("type=bind,src=/s,dst=/d,readonly,bind-nonrecursive,relabel=private,U=true")
    assert m.readonly and not m.recursive and m.relabel == "Z" and m.chown
    assert not parse.parse_mount("type=bind,src=/s,target=/d,rw=true").readonly
    assert parse.parse_mount("type=bind,src=/s,target=/d,rw=false").readonly
    assert not parse.parse_mount("type=bind,src=/s,target=/d,ro=false").readonly
    assert parse.parse_mount("type=bind,dst=/d").source == "/d"  # Podman: source defaults to dest


def test_mount_volume_and_tmpfs():
    m = parse.parse_mount("type=volume,source=vol1,destination=/v,ro=true,subpath=sub,volume-nocopy")
    assert (m.type, m.source, m.readonly, m.subpath, m.nocopy) == ("volume", "vol1", True, "sub", True)
    assert parse.parse_mount("type=volume,dst=/v").anonymous
    m = parse.parse_mount("type=tmpfs,destination=/t,tmpfs-size=64m,tmpfs-mode=1770,noexec")
    assert (m.type, m.tmpfs_size, m.tmpfs_mode, m.options) == ("tmpfs", 64 << 20, 0o1770, ["noexec"])
    m = parse.parse_mount("type=devpts,destination=/dev/pts2,ptmxmode=0666")
    assert m.type == "devpts" and m.options == ["ptmxmode=0666"]


@pytest.mark.parametrize("text,why", [
    ("type=bind,src=/a", "must set volume destination"),
    ("type=nfs,dst=/a", 'invalid filesystem type "nfs"'),
    ("src=/a,dst=/b", "invalid mount option"),
    ("type=bind,src=/a,dst=/b,bogus=1", "bogus: invalid mount option"),
    ("type=tmpfs,src=/a,dst=/b", '"src" option not supported for "tmpfs"'),
    ("type=bind,src=/a,dst=/b,tmpfs-size=1m", '"tmpfs-size" option not supported for "bind"'),
    ("type=bind,src=/a,dst=/b,ro,rw", "more than once"),
    ("type=bind,src=/a,dst=/b,bind-propagation=weird", "invalid value"),
    ("type=bind,src=/a,dst=/b,bind-propagation", "must provide an argument"),
    ("type=bind,src=,dst=/b", "host directory cannot be empty"),
    ("type=bind,src=/a,dst=rel", "must be an absolute path"),
    ("type=bind,src=/a,dst=/b,subpath=x", "non-volume mounts"),
    ("type=tmpfs,dst=/b,tmpfs-mode=99", "invalid value"),
    ("type=bind,src=/a,dst=/b,U=maybe", "'U' or 'chown' must be set to true or false"),
])
def test_mount_refused(text, why):
    with pytest.raises(InvalidArgument, match=why):
        parse.parse_mount(text)


def test_tmpfs():
    m = parse.parse_tmpfs("/run:rw,size=64m,mode=1777,noexec")
    assert m == MountSpec(type="tmpfs", destination="/run", source="tmpfs", readonly=False,
                          options=["noexec"], tmpfs_size=64 << 20, tmpfs_mode=0o1777)
    assert parse.parse_tmpfs("/tmp").options == []
    assert parse.parse_tmpfs("/tmp:ro").readonly
    with pytest.raises(InvalidArgument, match="absolute"):
        parse.parse_tmpfs("tmp")
    with pytest.raises(InvalidArgument, match="invalid mount option"):
        parse.parse_tmpfs("/tmp:bogus")


# ------------------------------------------------------------------ devices, idmaps, userns

@pytest.mark.parametrize("text,host,ctr,perms", [
    ("/dev/fuse", "/dev/fuse", "/dev/fuse", "rwm"),
    ("/dev/fuse:/dev/fuse:rwm", "/dev/fuse", "/dev/fuse", "rwm"),
    ("/dev/fuse:r", "/dev/fuse", "/dev/fuse", "r"),
    ("/dev/sda:/dev/xvda:rw", "/dev/sda", "/dev/xvda", "rw"),
    ("/dev/sda:/dev/xvda", "/dev/sda", "/dev/xvda", "rwm"),
])
def test_device(text, host, ctr, perms):
    d = parse.parse_device(text)
    assert (d.host_path, d.container_path, d.permissions) == (host, ctr, perms)


@pytest.mark.parametrize("text,why", [
    ("/dev/fuse:/dev/fuse:rwx", "invalid device mode: rwx"), ("/dev/a:b", "invalid device mode: b"),
    ("/a:/b:r:x", "invalid device specification"), ("dev/fuse", "not an absolute path"),
    ("/dev/fuse:/dev/fuse:rr", "invalid device mode"),
])
def test_device_refused(text, why):
    with pytest.raises(InvalidArgument, match=why):
        parse.parse_device(text)


def test_idmap():
    (m,) = parse.parse_idmap("0:100000:5000")
    assert (m.container_id, m.host_id, m.size) == (0, 100000, 5000)
    assert len(parse.parse_idmap("0:1:10,10:20:5")) == 2
    for bad in ("0:1", "a:b:c", "0:1:0", "0:1:2:3", "-1:0:1"):
        with pytest.raises(InvalidArgument, match="malformed"):
            parse.parse_idmap(bad)


def test_userns():
    for ok in ("", "host", "keep-id", "keep-id:uid=1000,gid=1000", "auto", "auto:size=1024", "nomap"):
        assert parse.parse_userns(ok) == ok
    for bad in ("weird", "host:x", "keep-id:foo=1", "auto:size=big"):
        with pytest.raises(InvalidArgument):
            parse.parse_userns(bad)


# ------------------------------------------------------------------ caps, security, sysctls

def test_capabilities():
    assert parse.parse_capabilities(["net_admin", "CAP_SYS_TIME,sys_time", "all"]) == [
        "CAP_NET_ADMIN", "CAP_SYS_TIME", "ALL"]
    with pytest.raises(InvalidArgument, match='"CAP_FLY": unknown capability'):
        parse.parse_capabilities(["fly"])


def test_security_opts():
    sec = parse.parse_security_opts(["no-new-privileges", "seccomp=unconfined", "mask=/a:/b",
                                     "unmask=/proc/kcore", "label=disable", "apparmor=unconfined"])
    assert sec.no_new_privileges and sec.seccomp_profile == "unconfined"
    assert sec.mask == ["/a", "/b"] and sec.unmask == ["/proc/kcore"] and sec.label_disable
    assert parse.parse_security_opts(["seccomp:/p.json"]).seccomp_profile == "/p.json"
    assert not parse.parse_security_opts(["no-new-privileges=false"]).no_new_privileges
    assert parse.parse_security_opts(["unmask=ALL"]).unmask == ["ALL"]
    for bad, why in (("nonsense", "invalid --security-opt 1"), ("foo=bar", "invalid --security-opt 2"),
                     ("mask=relative", "absolute"), ("no-new-privileges=maybe", "invalid --security-opt 2")):
        with pytest.raises(InvalidArgument, match=why):
            parse.parse_security_opts([bad])


def test_sysctls():
    assert parse.parse_sysctls(["net.ipv4.ip_forward=1", "kernel.shmmax=1000"]) == {
        "net.ipv4.ip_forward": "1", "kernel.shmmax": "1000"}
    with pytest.raises(InvalidArgument, match="not allowed"):
        parse.parse_sysctls(["kernel.panic=1"])
    with pytest.raises(InvalidArgument, match="host net"):
        parse.parse_sysctls(["net.ipv4.ip_forward=1"], network="host")
    with pytest.raises(InvalidArgument, match="not a valid sysctl format"):
        parse.parse_sysctls(["net.ipv4.ip_forward"])


# ------------------------------------------------------------------ health, secrets, entrypoint

def test_healthcheck():
    h = parse.parse_healthcheck("curl -f http://x/ || exit 1", interval="10s", timeout="5s",
                                start_period="1m", retries="2", on_failure="restart")
    assert h.test == ["CMD-SHELL", "curl -f http://x/ || exit 1"]
    assert (h.interval, h.timeout, h.start_period, h.retries, h.on_failure) == (10, 5, 60, 2, "restart")
    assert parse.parse_health_cmd('["ls", "/"]') == ["CMD", "ls", "/"]
    assert parse.parse_health_cmd('["CMD-SHELL", "true"]') == ["CMD-SHELL", "true"]
    assert parse.parse_health_cmd("none") == ["NONE"]
    assert parse.parse_healthcheck("true", interval="disable").interval == 0
    for kwargs, why in (({"interval": "500ms"}, "interval must be at least 1 second"),
                        ({"timeout": "0s"}, "timeout must be at least 1 second"),
                        ({"retries": 0}, "retries must be greater than 0"),
                        ({"start_period": "-1s"}, "0 seconds or greater"),
                        ({"on_failure": "explode"}, "invalid on-failure action")):
        with pytest.raises(InvalidArgument, match=why):
            parse.parse_healthcheck("true", **kwargs)


def test_secret():
    s = parse.parse_secret("pw")
    assert (s.name, s.type, s.target, s.mode) == ("pw", "mount", "", 0o444)
    s = parse.parse_secret("pw,type=env,target=PASSWORD")
    assert (s.type, s.target) == ("env", "PASSWORD")
    assert parse.parse_secret("pw,type=env").target == "pw"
    s = parse.parse_secret("pw,target=/etc/pw,uid=1,gid=2,mode=0400")
    assert (s.target, s.uid, s.gid, s.mode) == ("/etc/pw", 1, 2, 0o400)
    for bad in ("pw,type=file", "pw,uid=x", "pw,bogus=1", "pw,type=env,mode=0400", "pw,notkv"):
        with pytest.raises(InvalidArgument):
            parse.parse_secret(bad)


def test_entrypoint():
    assert parse.parse_entrypoint("") == []
    assert parse.parse_entrypoint("/bin/sh -c") == ["/bin/sh -c"]
    assert parse.parse_entrypoint('["/bin/sh", "-c"]') == ["/bin/sh", "-c"]
