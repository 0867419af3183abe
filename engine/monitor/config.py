"""monitor.json: what the services tell a container's monitor, and where its files are.

The containers service writes `{root}/containers/<id>/userdata/monitor.json` with
`MonitorConfig(...).save(path)` before it starts the monitor; the monitor reads it
with `MonitorConfig.load(path)`.  Plain classes rather than dataclasses on purpose:
this module is imported by the monitor process, where `dataclasses` alone would add
~2.5 MB of unique memory per running container.
"""

from __future__ import annotations

import os

LOG_DRIVERS = ("k8s-file", "json-file", "none")
RESTART_POLICIES = ("no", "on-failure", "always", "unless-stopped")
HEALTH_ON_FAILURE = ("none", "kill", "restart", "stop")


class HealthSpec:
    """A healthcheck as the monitor runs it (durations in seconds).

    `test` is the image/CLI form: ["CMD", prog, args...], ["CMD-SHELL", "cmd"], or a
    plain argv (treated as CMD).  ["NONE"] or [] disables the check."""

    __slots__ = ("test", "interval", "timeout", "retries", "start_period", "on_failure")

    def __init__(self, test: list[str], interval: float = 30.0, timeout: float = 30.0,
                 retries: int = 3, start_period: float = 0.0, on_failure: str = "none") -> None:
        self.test = list(test)
        self.interval = float(interval)
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.start_period = float(start_period)
        self.on_failure = on_failure

    @property
    def argv(self) -> list[str] | None:
        """The command to exec in the container, or None when disabled."""
        if not self.test or self.test[0] == "NONE":
            return None
        if self.test[0] == "CMD-SHELL":
            return ["/bin/sh", "-c", " ".join(self.test[1:])]
        if self.test[0] == "CMD":
            return self.test[1:] or None
        return self.test

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__slots__}

    @classmethod
    def from_dict(cls, d: dict) -> "HealthSpec":
        return cls(**{k: d[k] for k in cls.__slots__ if k in d})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HealthSpec) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"HealthSpec({self.to_dict()!r})"


class MonitorConfig:
    """Everything the monitor needs besides the bundle's config.json.

    runtime:      runtime name or path for engine.runtime.base.get_runtime; a
                  "module:attr" string names a class/factory directly (tests).
    log_driver:   k8s-file | json-file | none; log_path: the log file;
    log_max_size: bytes before rotation (0: never); log_max_file: files kept
                  including the live one (1: the live file is truncated).
    tty, console_size ([rows, cols] or []), stdin_open (-i), restart_policy (no|on-failure|always|unless-stopped),
    restart_max_retries (on-failure:N, 0 = unlimited), healthcheck (HealthSpec|None),
    stop_signal (number), stop_timeout (seconds), rm, detach_keys,
    name / image (for events), sdnotify (conmon|container|healthy, "" = none).
    """

    __slots__ = ("runtime", "log_driver", "log_path", "log_max_size", "log_max_file", "tty",
                 "stdin_open", "restart_policy", "restart_max_retries", "healthcheck",
                 "stop_signal", "stop_timeout", "rm", "detach_keys", "name", "image", "sdnotify",
                 "console_size")

    def __init__(self, *, runtime: str = "builtin", log_driver: str = "k8s-file",
                 log_path: str = "", log_max_size: int = 0, log_max_file: int = 1,
                 tty: bool = False, stdin_open: bool = False, restart_policy: str = "no",
                 restart_max_retries: int = 0, healthcheck: HealthSpec | None = None,
                 stop_signal: int = 15, stop_timeout: int = 10, rm: bool = False,
                 detach_keys: str = "ctrl-p,ctrl-q", name: str = "", image: str = "",
                 sdnotify: str = "", console_size: list[int] | None = None) -> None:
        if log_driver not in LOG_DRIVERS:
            raise ValueError(f"unknown log driver {log_driver!r}")
        if restart_policy not in RESTART_POLICIES:
            raise ValueError(f"unknown restart policy {restart_policy!r}")
        self.runtime = runtime
        self.log_driver = log_driver
        self.log_path = str(log_path)
        self.log_max_size = int(log_max_size)
        self.log_max_file = max(1, int(log_max_file))
        self.tty = bool(tty)
        self.stdin_open = bool(stdin_open)
        self.restart_policy = restart_policy
        self.restart_max_retries = int(restart_max_retries)
        self.healthcheck = healthcheck
        self.stop_signal = int(stop_signal)
        self.stop_timeout = int(stop_timeout)
        self.rm = bool(rm)
        self.detach_keys = detach_keys
        self.name = name
        self.image = image
        self.sdnotify = sdnotify  # "" | conmon | container | healthy (engine/monitor/sdnotify.py)
        self.console_size = [int(n) for n in console_size or []]  # [rows, cols] of the pty at creation

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in self.__slots__}
        d["healthcheck"] = self.healthcheck.to_dict() if self.healthcheck else None
        return d

    def to_json(self) -> str:
        import json

        return json.dumps(self.to_dict(), indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> "MonitorConfig":
        import json

        return cls.from_dict(json.loads(text))

    @classmethod
    def from_dict(cls, d: dict) -> "MonitorConfig":
        if not isinstance(d, dict):
            raise ValueError("monitor.json is not an object")
        hc = d.get("healthcheck")
        kwargs = {k: d[k] for k in cls.__slots__ if k in d and k != "healthcheck"}
        return cls(healthcheck=HealthSpec.from_dict(hc) if hc else None, **kwargs)

    def save(self, path: str | os.PathLike) -> None:
        """Write atomically, 0600 (no fsync: as config.json beside it, a killed writer
        leaves the old file or the new one; an fsync cost a millisecond per create)."""
        path = os.fspath(path)
        tmp = f"{path}.tmp{os.getpid()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, self.to_json().encode())
        finally:
            os.close(fd)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "MonitorConfig":
        with open(path, "rb") as fh:
            return cls.from_json(fh.read())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MonitorConfig) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"MonitorConfig({self.to_dict()!r})"


class ContainerPaths:
    """The files of one container, from the store paths (see docs/architecture.md)."""

    __slots__ = ("root", "runroot", "cid", "userdata", "rundir")

    def __init__(self, root: str | os.PathLike, runroot: str | os.PathLike, cid: str) -> None:
        self.root = os.fspath(root)
        self.runroot = os.fspath(runroot)
        self.cid = cid
        self.userdata = os.path.join(self.root, "containers", cid, "userdata")
        self.rundir = os.path.join(self.runroot, "containers", cid)

    @property
    def bundle(self) -> str:
        return self.userdata

    @property
    def spec(self) -> str:
        return os.path.join(self.userdata, "config.json")

    @property
    def monitor_json(self) -> str:
        return os.path.join(self.userdata, "monitor.json")

    @property
    def health_json(self) -> str:
        return os.path.join(self.userdata, "health.json")

    @property
    def default_log(self) -> str:
        return os.path.join(self.root, "containers", self.cid, "ctr.log")

    def run(self, name: str) -> str:
        """A file in the run dir: monitor.pid, pid, attach, exit, stopped-by-user..."""
        return os.path.join(self.rundir, name)
