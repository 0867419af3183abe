"""ContainerOptions survive the JSON round trip the state DB and the monitor rely on."""

import json

from engine.spec import parse
from engine.spec.options import ContainerOptions, HealthConfig, Resources


def full_options() -> ContainerOptions:
    return ContainerOptions(
        image="busybox", name="c1", command=["sh", "-c", "true"], entrypoint=[],
        env={"A": "1"}, env_file={"B": "2"}, env_host=True, workdir="/w", user="1000:1000",
        group_add=["wheel"], hostname="h", init=True, tty=True, interactive=True, rm=True,
        mounts=[parse.parse_volume("/src:/dst:ro,Z"), parse.parse_volume("/anon"),
                parse.parse_tmpfs("/run:size=64m,mode=1777")],
        read_only=True, cap_add=["CAP_NET_ADMIN"], cap_drop=["CAP_CHOWN"],
        security=parse.parse_security_opts(["no-new-privileges", "mask=/x"]),
        ulimits=[parse.parse_ulimit("nofile=10:20")],
        resources=Resources(memory=1 << 20, cpus=1.5, cpu_shares=512, pids_limit=100),
        shm_size=1 << 20, restart=parse.parse_restart("on-failure:3"),
        healthcheck=HealthConfig(test=["CMD-SHELL", "true"], interval=2.5, retries=4),
        labels={"l": "v"}, annotations={"a": "b"}, stop_signal=9, stop_timeout=3,
        userns="keep-id", uidmap=parse.parse_idmap("0:1:10"), devices=[parse.parse_device("/dev/fuse")],
        sysctls={"net.ipv4.ip_forward": "1"}, timezone="UTC", secrets=[parse.parse_secret("s,type=env")],
        network="none", log_opts={"max-size": "1m"})


def test_round_trip_is_exact():
    opts = full_options()
    back = ContainerOptions.from_json(opts.to_json())
    assert back == opts
    assert back.mounts[0].readonly and back.restart.max_retries == 3
    assert isinstance(back.healthcheck, HealthConfig) and back.healthcheck.interval == 2.5


def test_defaults_round_trip_and_entrypoint_none_vs_empty():
    assert ContainerOptions.from_json(ContainerOptions().to_json()) == ContainerOptions()
    assert ContainerOptions.from_json(ContainerOptions(entrypoint=[]).to_json()).entrypoint == []
    assert ContainerOptions.from_json(ContainerOptions().to_json()).entrypoint is None


def test_unknown_and_missing_keys_tolerated():
    data = json.loads(ContainerOptions(image="x").to_json())
    data["future_flag"] = 1
    del data["labels"]
    data["resources"]["cpus"] = 2   # an int where a float is expected
    back = ContainerOptions.from_dict(data)
    assert back.image == "x" and back.labels == {} and back.resources.cpus == 2.0
    assert isinstance(back.resources.cpus, float)
