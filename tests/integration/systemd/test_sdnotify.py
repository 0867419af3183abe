"""--sdnotify with a NOTIFY_SOCKET listener standing in for systemd.

conmon is covered by the --new unit test (test_generate_systemd.py); here: container
(the container sends through the socket we bind-mount in; perl of the debian image is
the notifier, busybox has no unix datagram client), healthy, and bad values."""

from __future__ import annotations

from tests.integration.systemd.unitrun import NotifyListener

PERL_NOTIFY = ('use IO::Socket::UNIX; sleep 1; my $s = IO::Socket::UNIX->new(Type => SOCK_DGRAM(), '
               'Peer => $ENV{NOTIFY_SOCKET}) or die "socket: $!"; $s->send("MAINPID=1\\nREADY=1\\nSTATUS=up") '
               'or die "send: $!"; sleep 1000')


def _run_notified(h, listener: NotifyListener, *args: str) -> None:
    env = dict(h.env(), NOTIFY_SOCKET=listener.path)
    import subprocess

    argv = h.user.argv([str(h.binary), "--root", str(h.root), "--runroot", str(h.runroot), "run", "-d", *args], env)
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr


def test_sdnotify_container_proxied(hull_any, debian_image):
    h = hull_any
    h.load(debian_image)
    listener = NotifyListener(h.workdir)
    try:
        _run_notified(h, listener, "--sdnotify=container", "--name", "n", "debian:bookworm", "perl", "-e",
                      PERL_NOTIFY)
        fields = listener.wait_for("READY")
        conmon = h("inspect", "n", "--format", "{{.State.ConmonPid}}").ok().stdout.strip()
        assert fields["MAINPID"] == conmon  # the container's own MAINPID=1 is not passed on
        assert fields["READY"] == "1" and fields["STATUS"] == "up"
        assert "MAINPID=1" not in "\n".join(listener.messages).splitlines()
        env = h("exec", "n", "printenv", "NOTIFY_SOCKET").ok().stdout.strip()
        assert env == "/run/notify/notify.sock"
    finally:
        listener.close()


def test_sdnotify_healthy(hull_any, busybox_image):
    h = hull_any
    h.load(busybox_image)
    listener = NotifyListener(h.workdir)
    try:
        _run_notified(h, listener, "--sdnotify=healthy", "--health-cmd", "test -e /tmp/ok",
                      "--health-interval", "1s", "--name", "n", "busybox", "sh", "-c", "sleep 2; touch /tmp/ok; "
                      "exec sleep 1000")
        fields = listener.wait_for("READY")
        assert fields["READY"] == "1"
        assert h("inspect", "n", "--format", "{{.State.Health.Status}}").ok().stdout.strip() == "healthy"
        assert fields["MAINPID"] == h("inspect", "n", "--format", "{{.State.ConmonPid}}").ok().stdout.strip()
    finally:
        listener.close()


def test_sdnotify_bad_value(hull):
    hull("run", "--sdnotify=bogus", "busybox", "true").assert_error(125, 'invalid argument "bogus" for "--sdnotify"')
