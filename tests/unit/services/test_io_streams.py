"""Log line parsing and tail, exec process specs, and the attach client against a fake
monitor speaking the framed protocol of docs/architecture.md."""

import os
import socket
import struct
import threading

import pytest

from engine.errors import InvalidArgument
from engine.services import container_io as io_


class _Store:
    def __init__(self, tmp):
        self.tmp = tmp
        self.containers = self

    def log_path(self, cid):
        return self.tmp / "ctr.log"

    def run_dir(self, cid):
        return self.tmp / "run"


class _Ctr:
    id, name, options, state = "a" * 64, "web", {}, None


def _log(tmp, *lines):
    (tmp / "ctr.log").write_bytes(b"".join(l + b"\n" for l in lines))


def test_log_lines_tail_since_until_partial(tmp_path):
    _log(tmp_path, b"2024-01-01T00:00:00.000000000+00:00 stdout F one",
         b"2024-01-01T00:00:01.000000000+00:00 stderr F two",
         b"2024-01-01T00:00:02.000000000+00:00 stdout P thr",
         b"2024-01-01T00:00:02.500000000+00:00 stdout F ee",
         b"2024-01-01T00:00:05.000000000+00:00 stdout F four")
    store, ctr = _Store(tmp_path), _Ctr()
    got = list(io_._lines(store, ctr, io_.LogOptions()))
    assert [(l.stream, l.data, l.partial) for l in got] == [
        ("stdout", b"one", False), ("stderr", b"two", False), ("stdout", b"three", False), ("stdout", b"four", False)]
    assert got[0].time == 1704067200.0 and got[0].name == "web" and got[0].id == "a" * 64
    assert [l.data for l in io_._lines(store, ctr, io_.LogOptions(tail=2))] == [b"three", b"four"]
    assert list(io_._lines(store, ctr, io_.LogOptions(tail=0))) == []
    window = io_.LogOptions(since=1704067201.0, until=1704067203.0)
    assert [l.data for l in io_._lines(store, ctr, window)] == [b"two", b"three"]


def test_container_logs_prefixes_with_several(tmp_path, monkeypatch):
    import io as stdio

    _log(tmp_path, b"2024-01-01T00:00:00Z stdout F out", b"2024-01-01T00:00:00Z stderr F err")
    store = _Store(tmp_path)
    monkeypatch.setattr(io_, "enter_userns", lambda cfg: None)
    monkeypatch.setattr(io_, "lookup", lambda cfg, name: (store, _Ctr()))
    out, err = stdio.BytesIO(), stdio.BytesIO()
    io_.container_logs(None, ["x", "y"], io_.LogOptions(), out, err)
    # several containers: the short ID first (libpod's LogLine.String), the name with --names
    assert out.getvalue() == b"aaaaaaaaaaaa out\n" * 2 and err.getvalue() == b"aaaaaaaaaaaa err\n" * 2
    out, err = stdio.BytesIO(), stdio.BytesIO()
    io_.container_logs(None, ["x", "y"], io_.LogOptions(names_prefix=True), out, err)
    assert out.getvalue() == b"web out\nweb out\n" and err.getvalue() == b"web err\nweb err\n"
    out, err = stdio.BytesIO(), stdio.BytesIO()
    io_.container_logs(None, ["x"], io_.LogOptions(names_prefix=True), out, err)
    assert out.getvalue() == b"out\n"  # one container: no prefix, --names or not
    out, err = stdio.BytesIO(), stdio.BytesIO()
    io_.container_logs(None, ["x"], io_.LogOptions(timestamps=True), out, err)
    assert out.getvalue().startswith(b"2024-01-01T00:00:00") and out.getvalue().endswith(b" out\n")


def test_build_process_env_user_workdir_privileged(tmp_path):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\nbob:x:1000:1000::/home/bob:/bin/sh\n")
    (tmp_path / "etc" / "group").write_text("root:x:0:\nbob:x:1000:\nwheel:x:10:bob\n")
    spec = {"process": {"user": {"uid": 0, "gid": 0}, "cwd": "/srv", "env": ["PATH=/bin", "A=1", "HOME=/root"],
                        "capabilities": {"bounding": ["CAP_CHOWN"], "effective": ["CAP_CHOWN"]},
                        "noNewPrivileges": True, "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 1, "hard": 2}]}}
    fd = os.open(tmp_path, os.O_PATH | os.O_DIRECTORY)
    try:
        p = io_.build_process(spec, io_.ExecOptions(cmd=["id"], env=["A=2", "B=3"]), fd)
        assert p["args"] == ["id"] and p["cwd"] == "/srv" and p["user"] == {"uid": 0, "gid": 0}
        assert p["env"] == ["PATH=/bin", "A=2", "HOME=/root", "B=3"]
        assert p["capabilities"]["bounding"] == ["CAP_CHOWN"] and p["noNewPrivileges"] is True
        p = io_.build_process(spec, io_.ExecOptions(cmd=["id"], user="bob", workdir="/tmp", tty=True,
                                                    privileged=True), fd)
        assert p["user"]["uid"] == 1000 and p["user"]["gid"] == 1000 and 10 in p["user"]["additionalGids"]
        assert "HOME=/home/bob" in p["env"] and "TERM=xterm" in p["env"] and p["terminal"] is True
        assert p["cwd"] == "/tmp" and "CAP_SYS_ADMIN" in p["capabilities"]["effective"]
        assert "noNewPrivileges" not in p
        with pytest.raises(InvalidArgument):
            io_.build_process(spec, io_.ExecOptions(cmd=[]), fd)
    finally:
        os.close(fd)


def _fake_monitor(path, script, received):
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(str(path))
    srv.listen(1)

    def serve():
        conn, _ = srv.accept()
        with conn:
            for kind, payload, wait_for in script:
                if wait_for is not None:
                    buf = b""
                    while wait_for not in buf:
                        chunk = conn.recv(4096)
                        if not chunk:
                            break
                        buf += chunk
                    received.append(buf)
                if kind is not None:
                    conn.sendall(struct.pack(">BI", kind, len(payload)) + payload)
        srv.close()
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return t


def test_attach_streams_stdin_and_exit_code(tmp_path):
    sock = tmp_path / "attach"
    received = []
    t = _fake_monitor(sock, [(1, b"out\n", None), (2, b"err\n", None), (None, b"", b"\x04"), (3, b"42", None)],
                      received)
    sin_r, sin_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    os.write(sin_w, b"typed")
    os.close(sin_w)
    res = io_.attach_socket(sock, io_.AttachOptions(stdin_fd=sin_r, stdout_fd=out_w, stderr_fd=err_w, tty=False))
    t.join(5)
    assert res.exit_code == 42 and not res.detached
    assert os.read(out_r, 100) == b"out\n" and os.read(err_r, 100) == b"err\n"
    assert io_.frame(0, b"typed") in received[0] and received[0].endswith(io_.frame(4))


def test_attach_detach_keys(tmp_path):
    sock = tmp_path / "attach"
    received = []
    t = _fake_monitor(sock, [(None, b"", b"ab")], received)
    sin_r, sin_w = os.pipe()
    out_r, out_w = os.pipe()
    os.write(sin_w, b"ab\x10\x11never")
    res = io_.attach_socket(sock, io_.AttachOptions(stdin_fd=sin_r, stdout_fd=out_w, stderr_fd=out_w, tty=False))
    t.join(5)
    os.close(sin_w)
    assert res.detached and res.exit_code is None
    assert b"never" not in received[0] and b"\x10" not in received[0]


def test_check_command_in_root(tmp_path):
    from engine.errors import CannotInvoke, CommandNotFound

    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "tool").write_text("#!/bin/sh\n")
    os.chmod(tmp_path / "bin" / "tool", 0o755)
    (tmp_path / "data").write_text("x")
    os.symlink("/", tmp_path / "up")
    fd = os.open(tmp_path, os.O_PATH | os.O_DIRECTORY)
    try:
        env = {"env": ["PATH=/usr/bin:/bin"], "cwd": "/"}
        io_.check_command(fd, {"args": ["tool"], **env})
        io_.check_command(fd, {"args": ["/up/up/bin/tool"], **env})   # resolved inside the root
        with pytest.raises(CommandNotFound) as info:
            io_.check_command(fd, {"args": ["nope"], **env})
        assert info.value.exit_code == 127 and "executable file not found in $PATH" in str(info.value)
        with pytest.raises(CommandNotFound):
            io_.check_command(fd, {"args": ["/bin/nope"], **env})
        with pytest.raises(CannotInvoke) as info:
            io_.check_command(fd, {"args": ["/data"], **env})
        assert info.value.exit_code == 126
        with pytest.raises(CannotInvoke):
            io_.check_command(fd, {"args": ["/bin"], **env})
    finally:
        os.close(fd)
