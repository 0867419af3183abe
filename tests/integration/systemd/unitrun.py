"""A very small systemd for tests: runs a unit's Exec lines the way systemd would.

No systemd runs here (nor in CI), so the tests play its part: expand the specifiers
(%t %n %N %i %%), split the words as systemd does, run ExecStartPre/ExecStart/ExecStop/
ExecStopPost as the runner's user with the unit's Environment= and a NOTIFY_SOCKET the
test listens on (Type=notify units must send READY=1 there).
"""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

from engine.services.unitfile import UnitFile, parse, split_words


class NotifyListener:
    """systemd's side of sd_notify: a datagram socket the monitor writes to."""

    def __init__(self, directory: Path) -> None:
        self.path = str(directory / "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        os.chmod(self.path, 0o777)
        self.messages: list[str] = []

    def wait_for(self, key: str, timeout: float = 30.0) -> dict[str, str]:
        """Read until a message carries `key` (e.g. READY); all fields seen so far."""
        self.sock.settimeout(timeout)
        while True:
            fields = {}
            for m in self.messages:
                for line in m.splitlines():
                    k, _, v = line.partition("=")
                    fields[k] = v
            if key in fields:
                return fields
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except socket.timeout:
                raise AssertionError(f"no {key} on NOTIFY_SOCKET after {timeout}s; got {self.messages}") from None

    def close(self) -> None:
        self.sock.close()


class UnitRunner:
    def __init__(self, runner, unit_name: str, text: str, notify: NotifyListener | None = None) -> None:
        self.h = runner
        self.name = unit_name            # foo.service or foo@inst.service
        self.unit: UnitFile = parse(text, unit_name)
        self.notify = notify
        self.runtime_dir = str(runner.base / "xdg-run")

    def expand(self, text: str) -> str:
        full = self.name
        stem = full[: -len(".service")] if full.endswith(".service") else full
        inst = stem.partition("@")[2]
        out, i = [], 0
        while i < len(text):
            ch = text[i]
            if ch == "%" and i + 1 < len(text):
                nxt = text[i + 1]
                out.append({"%": "%", "t": self.runtime_dir, "n": full, "N": stem, "i": inst,
                            "I": inst}.get(nxt, "%" + nxt))
                i += 2
                continue
            out.append(ch)
            i += 1
        return "".join(out)

    def env(self) -> dict[str, str]:
        env = dict(self.h.env())
        for value in self.unit.values("Service", "Environment"):
            for word in split_words(value):
                k, _, v = self.expand(word).partition("=")
                env[k] = v
        if self.notify is not None:
            env["NOTIFY_SOCKET"] = self.notify.path
        return env

    def run(self, key: str, check: bool = True) -> list[subprocess.CompletedProcess]:
        done = []
        for line in self.unit.values("Service", key):
            ignore = line.startswith("-")
            words = [self.expand(w) for w in split_words(line.lstrip("-"))]
            argv = self.h.user.argv(words, self.env())
            proc = subprocess.run(argv, capture_output=True, timeout=180, cwd=self.h.workdir,
                                  stdin=subprocess.DEVNULL)
            if check and not ignore:
                assert proc.returncode == 0, f"{key}={line}\n-> {proc.returncode}\n{proc.stderr.decode()}"
            done.append(proc)
        return done

    def start(self) -> None:
        self.run("ExecStartPre")
        self.run("ExecStart")

    def stop(self) -> None:
        self.run("ExecStop")
        self.run("ExecStopPost")
