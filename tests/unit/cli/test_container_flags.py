"""`hull run`/`create` argv -> ContainerOptions: a table of command lines and the
options they must produce, plus the refusals (one line, exit 125)."""

from __future__ import annotations

import pytest

from engine.cli.container_run import make_parser, parse_options
from engine.cli.parser import Context
from engine.cli.run_flags import split_argv
from engine.errors import InvalidArgument
from engine.spec.options import IDMapping, RestartPolicy, Ulimit


def opts_of(*argv: str, run: bool = True):
    return parse_options("hull run" if run else "hull create", list(argv), Context(), run=run)


# (argv, {attribute path: expected value})
TABLE = [
    (["busybox"], {"image": "busybox", "command": [], "entrypoint": None, "detach": False, "tty": False,
                   "interactive": False, "rm": False, "network": "", "sig_proxy": True}),
    (["busybox", "ls", "-la"], {"command": ["ls", "-la"]}),
    (["--rm", "busybox", "echo", "hi"], {"rm": True, "command": ["echo", "hi"]}),
    # flags after the image belong to the command (Podman's REMAINDER semantics)
    (["busybox", "sh", "-c", "exit 3", "--rm", "-e", "X=1"], {"rm": False, "env": {},
                                                               "command": ["sh", "-c", "exit 3", "--rm", "-e", "X=1"]}),
    (["-it", "busybox", "sh"], {"tty": True, "interactive": True, "command": ["sh"]}),
    (["-dit", "busybox"], {"tty": True, "interactive": True, "detach": True}),
    (["-d", "--name", "web", "busybox"], {"detach": True, "name": "web"}),
    (["--name=web", "busybox"], {"name": "web"}),
    (["-e", "A=1", "-eB=2", "--env", "C=3", "--env=D=", "busybox"],
     {"env": {"A": "1", "B": "2", "C": "3", "D": ""}}),
    (["-e", "A=1", "-e", "A=2", "busybox"], {"env": {"A": "2"}}),  # last one wins
    (["--env-host", "busybox"], {"env_host": True}),
    (["-w", "/tmp", "busybox"], {"workdir": "/tmp"}),
    (["--workdir=/srv", "busybox"], {"workdir": "/srv"}),
    (["-u", "33", "busybox"], {"user": "33"}),
    (["--user", "nobody:nogroup", "busybox"], {"user": "nobody:nogroup"}),
    (["--group-add", "10", "--group-add", "wheel", "busybox"], {"group_add": ["10", "wheel"]}),
    (["--entrypoint", "", "busybox"], {"entrypoint": []}),
    (["--entrypoint", "/bin/echo", "busybox", "x"], {"entrypoint": ["/bin/echo"], "command": ["x"]}),
    (["--entrypoint", '["/bin/sh","-c"]', "busybox", "echo"], {"entrypoint": ["/bin/sh", "-c"]}),
    (["-h", "box", "busybox"], {"hostname": "box"}),
    (["--hostname=box", "busybox"], {"hostname": "box"}),
    (["--init", "busybox"], {"init": True}),
    (["-v", "/tmp:/data:ro", "busybox"], {"mounts.0.type": "bind", "mounts.0.source": "/tmp",
                                          "mounts.0.destination": "/data", "mounts.0.readonly": True}),
    (["-v", "vol1:/data", "--volume=/anon", "busybox"], {"mounts.0.type": "volume", "mounts.0.source": "vol1",
                                                          "mounts.1.type": "volume", "mounts.1.source": ""}),
    (["--mount", "type=tmpfs,dst=/scratch", "busybox"], {"mounts.0.type": "tmpfs",
                                                          "mounts.0.destination": "/scratch"}),
    (["--tmpfs", "/run/x", "busybox"], {"mounts.0.type": "tmpfs", "mounts.0.destination": "/run/x"}),
    (["--volumes-from", "other", "busybox"], {"volumes_from": ["other"]}),
    (["--read-only", "busybox"], {"read_only": True, "read_only_tmpfs": True}),
    (["--read-only", "--read-only-tmpfs=false", "busybox"], {"read_only_tmpfs": False}),
    (["--cap-add", "net_admin", "--cap-drop=ALL", "busybox"], {"cap_add": ["CAP_NET_ADMIN"],
                                                                "cap_drop": ["ALL"]}),
    (["--privileged", "busybox"], {"privileged": True}),
    (["--security-opt", "no-new-privileges", "--security-opt", "mask=/proc/x:/proc/y", "busybox"],
     {"security.no_new_privileges": True, "security.mask": ["/proc/x", "/proc/y"]}),
    (["--security-opt", "seccomp=unconfined", "busybox"], {"security.seccomp_profile": "unconfined"}),
    (["--ulimit", "nofile=1024:2048", "busybox"], {"ulimits": [Ulimit("nofile", 1024, 2048)]}),
    (["-m", "512m", "--cpus", "1.5", "--cpu-shares", "512", "--pids-limit", "100", "busybox"],
     {"resources.memory": 512 << 20, "resources.cpus": 1.5, "resources.cpu_shares": 512,
      "resources.pids_limit": 100}),
    (["--memory=1g", "--memory-swap=-1", "busybox"], {"resources.memory": 1 << 30, "resources.memory_swap": -1}),
    (["--shm-size", "64m", "busybox"], {"shm_size": 64 << 20}),
    (["--restart", "on-failure:3", "busybox"], {"restart": RestartPolicy("on-failure", 3)}),
    (["--restart=always", "busybox"], {"restart": RestartPolicy("always", 0)}),
    (["--health-cmd", "true", "--health-interval", "5s", "--health-retries", "2", "busybox"],
     {"healthcheck.test": ["CMD-SHELL", "true"], "healthcheck.interval": 5.0, "healthcheck.retries": 2}),
    (["--health-cmd", "none", "busybox"], {"healthcheck.test": ["NONE"]}),
    (["--no-healthcheck", "busybox"], {"no_healthcheck": True, "healthcheck": None}),
    (["-l", "a=b", "--label", "c", "busybox"], {"labels": {"a": "b", "c": ""}}),
    (["--annotation", "k=v", "busybox"], {"annotations": {"k": "v"}}),
    (["--stop-signal", "SIGINT", "--stop-timeout", "3", "busybox"], {"stop_signal": 2, "stop_timeout": 3}),
    (["--stop-signal=9", "busybox"], {"stop_signal": 9}),
    (["--userns", "keep-id", "busybox"], {"userns": "keep-id"}),
    (["--uidmap", "0:100:10", "--gidmap=0:100:10", "busybox"], {"uidmap": [IDMapping(0, 100, 10)],
                                                                 "gidmap": [IDMapping(0, 100, 10)]}),
    (["--pull", "never", "busybox"], {"pull": "never"}),
    (["--replace", "--name", "x", "busybox"], {"replace": True}),
    (["--cidfile", "/tmp/cid", "busybox"], {"cidfile": "/tmp/cid"}),
    (["-a", "stdout", "-a", "stderr", "busybox"], {"attach": ["stdout", "stderr"]}),
    (["-a", "STDIN,stdout", "busybox"], {"attach": ["stdin", "stdout"]}),
    (["--sig-proxy=false", "busybox"], {"sig_proxy": False}),
    (["--log-driver", "json-file", "--log-opt", "max-size=1m", "busybox"],
     {"log_driver": "json-file", "log_opts": {"max-size": "1m"}}),
    (["--device", "/dev/fuse", "busybox"], {"devices.0.host_path": "/dev/fuse",
                                            "devices.0.container_path": "/dev/fuse"}),
    (["--sysctl", "net.ipv4.ip_forward=1", "busybox"], {"sysctls": {"net.ipv4.ip_forward": "1"}}),
    (["--tz", "UTC", "busybox"], {"timezone": "UTC"}),
    (["--timezone=local", "busybox"], {"timezone": "local"}),
    (["--detach-keys", "ctrl-a,x", "busybox"], {"detach_keys": "ctrl-a,x"}),
    (["--secret", "s1", "--secret", "s2,type=env,target=TOKEN", "busybox"],
     {"secrets.0.name": "s1", "secrets.0.type": "mount", "secrets.1.type": "env", "secrets.1.target": "TOKEN"}),
    (["--network", "none", "busybox"], {"network": "none"}),
    (["--net=host", "busybox"], {"network": "host"}),
    (["--network", "a:alias=x", "--network", "b", "--network-alias", "y", "busybox"],
     {"network": "bridge", "network_arg": ""}),
    (["--network", "container:web", "busybox"], {"network": "container", "network_arg": "web"}),
    (["--dns", "1.1.1.1", "--add-host", "db:10.0.0.2", "busybox"], {"dns": ["1.1.1.1"],
                                                                     "add_hosts": ["db:10.0.0.2"]}),
    # `--` ends the flags; what follows the image is the command, even another `--`
    (["--rm", "--", "busybox", "--", "x"], {"rm": True, "image": "busybox", "command": ["--", "x"]}),
    # global flags may come before the image too
    (["--root", "/nonexistent-root", "busybox", "true"], {"command": ["true"]}),
]


def _get(obj, path: str):
    for part in path.split("."):
        obj = obj[int(part)] if part.isdigit() else getattr(obj, part)
    return obj


@pytest.mark.parametrize("argv,expected", TABLE, ids=[" ".join(a) for a, _ in TABLE])
def test_argv_to_options(argv, expected):
    opts = opts_of(*argv)
    for path, value in expected.items():
        assert _get(opts, path) == value, path


def test_network_flags_fill_the_attachments():
    opts = opts_of("--network", "a:alias=x", "--network", "b", "--network-alias", "y", "busybox")
    assert {k: v.aliases for k, v in opts.networks.items()} == {"a": ["x", "y"], "b": ["y"]}
    opts = opts_of("--ip", "10.88.0.7", "--mac-address", "02:00:00:00:00:07", "busybox")
    assert (opts.network, opts.networks["hull"].ip, opts.networks["hull"].mac) == ("", "10.88.0.7",
                                                                                   "02:00:00:00:00:07")


def test_create_has_no_detach_or_sig_proxy():
    assert opts_of("busybox", run=False).detach is False
    with pytest.raises(InvalidArgument, match="unknown flag: -d"):
        opts_of("-d", "busybox", run=False)


def test_env_from_host_and_files(tmp_path, monkeypatch):
    monkeypatch.setenv("HULL_T_ONE", "1")
    monkeypatch.setenv("HULL_T_TWO", "2")
    monkeypatch.delenv("HULL_T_UNSET", raising=False)
    env_file = tmp_path / "env"
    env_file.write_text("# comment\nFROM_FILE=yes\nHULL_T_ONE\n")
    opts = opts_of("--env-file", str(env_file), "-e", "HULL_T_TWO", "-e", "HULL_T_UNSET", "-e", "HULL_T_O*",
                   "busybox")
    assert opts.env_file == {"FROM_FILE": "yes", "HULL_T_ONE": "1"}
    assert opts.env == {"HULL_T_TWO": "2", "HULL_T_ONE": "1"}  # unset names are dropped


def test_label_file(tmp_path):
    f = tmp_path / "labels"
    f.write_text("a=1\n# no\n\nb=2\n")
    assert opts_of("--label-file", str(f), "-l", "b=3", "busybox").labels == {"a": "1", "b": "3"}


@pytest.mark.parametrize("argv,message", [
    ([], "requires at least 1 arg"),
    (["--nope", "busybox"], "unknown flag: --nope"),
    (["-Z", "busybox"], "unknown flag"),
    (["--name"], "flag needs an argument: --name"),
    (["-m", "lots", "busybox"], "invalid value for memory: invalid size: 'lots'"),  # Podman's specgenutil
    (["--memory-swap", "1x", "busybox"], "invalid value for memory: invalid size: '1x'"),
    (["--shm-size", "1x", "busybox"], "unable to translate --shm-size: invalid size: '1x'"),
    (["--env-file", "/nonexistent/env", "busybox"],
     'parsing file "/nonexistent/env": open /nonexistent/env: no such file or directory'),
    (["--cpus", "x", "busybox"], "--cpus"),
    (["--restart", "sometimes", "busybox"], "invalid restart policy"),
    (["--rm", "--restart", "always", "busybox"], "--rm option conflicts with --restart"),
    (["--pull", "often", "busybox"], "invalid pull policy"),
    (["--log-driver", "syslog", "busybox"], "invalid log driver"),
    (["-a", "stdweird", "busybox"], "invalid stream"),
    (["--detach-keys", "ctrl-!", "busybox"], "invalid detach keys"),
    (["--stop-signal", "SIGNOPE", "busybox"], "signal"),
    (["--stop-timeout", "soon", "busybox"], "stop-timeout"),
    (["--ulimit", "nofile", "busybox"], "ulimit"),
    (["--cap-add", "CAP_MAGIC", "busybox"], "unknown capability"),
    (["--security-opt", "bogus=1", "busybox"], "security-opt"),
    (["--no-healthcheck", "--health-cmd", "true", "busybox"], "cannot specify both"),
    (["-v", "a:b:c:d", "busybox"], "incorrect volume format"),
    (["--sysctl", "kernel.panic=1", "busybox"], "not allowed"),
    (["-p", "99999:80", "busybox"], "port numbers must be between 1 and 65535"),
    (["--network", "none", "--network", "mynet", "busybox"], "cannot set multiple networks"),
    (["--network", "none", "--ip", "10.88.0.5", "busybox"], "only be used with Bridge mode"),
    (["--userns", "weird", "busybox"], "namespace mode"),
])
def test_bad_input_is_one_error(argv, message):
    with pytest.raises(InvalidArgument) as info:
        opts_of(*argv)
    text = str(info.value)
    assert message.lower() in text.lower()
    assert "\n" not in text


def test_split_argv_short_clusters_and_values():
    parser = make_parser("hull run", run=True)
    assert split_argv(parser, ["-dit", "img", "-x"]) == (["-dit"], "img", ["-x"])
    assert split_argv(parser, ["-eA=1", "img"]) == (["-eA=1"], "img", [])
    assert split_argv(parser, ["-e", "A=1", "img", "cmd"]) == (["-e", "A=1"], "img", ["cmd"])
    assert split_argv(parser, ["-ie", "A=1", "img"]) == (["-ie", "A=1"], "img", [])  # -e last takes the next word
    assert split_argv(parser, ["--name", "-weird", "img"]) == (["--name", "-weird"], "img", [])
    assert split_argv(parser, ["--rm"]) == (["--rm"], None, [])


def test_help_lists_every_issue_flag():
    import re

    parser = make_parser("hull run", run=True)
    # "-e stringArray, --env stringArray" -> "-e, --env": names as Podman's help lists them
    text = re.sub(r"(-[-\w]+) [a-zA-Z]+(?=,|\s)", r"\1", parser.format_help())
    for flag in ("-d, --detach", "-i, --interactive", "-t, --tty", "--rm", "--name", "-e, --env", "--env-file",
                 "--env-host", "-w, --workdir", "-u, --user", "--group-add", "--entrypoint", "-h, --hostname",
                 "--init", "-v, --volume", "--mount", "--tmpfs", "--volumes-from", "--read-only", "--cap-add",
                 "--cap-drop", "--privileged", "--security-opt", "--ulimit", "-m, --memory", "--cpus",
                 "--cpu-shares", "--pids-limit", "--shm-size", "--restart", "--health-cmd", "--health-interval",
                 "--health-retries", "--health-timeout", "--health-start-period", "--health-on-failure",
                 "-l, --label", "--annotation", "--stop-signal", "--stop-timeout", "--userns", "--uidmap",
                 "--gidmap", "--pull", "--replace", "--cidfile", "-a, --attach", "--sig-proxy", "--log-driver",
                 "--log-opt", "--device", "--sysctl", "--tz", "--detach-keys", "--secret"):
        assert flag in text, flag
