"""Every instruction, built and checked from inside the resulting container and
through `hull inspect` (root and rootless)."""

from __future__ import annotations

import io
import json
import os
import tarfile

from tests.integration.build.conftest import run_out, write_context

FULL = '''# syntax=docker/dockerfile:1
ARG BASE=busybox
FROM $BASE AS base
ARG V=one
ENV E1="hello world" E2=$V
LABEL org.test.a="x y" b=$V
EXPOSE 80 53/udp
WORKDIR /w
COPY --chown=12:34 --chmod=640 sub/a.txt ./
COPY sub /copied/
COPY sub/*.txt /globbed/
ADD arch.tar /added/
ADD --chown=5:6 plain.txt /plain/
RUN <<EOF
echo heredoc-run $V > /hd
rm /bin/sed
EOF
RUN ["sh", "-c", "echo exec-form > /ex"]
COPY <<EOT /etc/greeting
hi $V
EOT
VOLUME /data
STOPSIGNAL SIGINT
HEALTHCHECK --interval=5s --retries=2 CMD true
ONBUILD RUN echo onbuild
USER 1:2
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["echo $E1 from $E2"]
'''


def _tar() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        data = b"in the tar\n"
        info = tarfile.TarInfo("t/x")
        info.size, info.uid, info.gid, info.mode = len(data), 7, 8, 0o604
        t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_every_instruction(bb):
    ctx = write_context(bb, "full", {"Dockerfile": FULL, "sub/a.txt": "data\n", "sub/b.txt": "bee\n",
                                     "arch.tar": _tar(), "plain.txt": "plain\n"})
    out = bb("build", "--format", "docker", "-t", "full", str(ctx)).ok().stdout
    assert "STEP 1/21: FROM $BASE AS base" in out and "COMMIT full" in out
    assert "Successfully tagged localhost/full:latest" in out
    image_id = out.strip().splitlines()[-1]
    assert len(image_id) == 64

    script = ("stat -c '%n %u:%g %a' /w/a.txt /copied/a.txt /globbed/b.txt /added/t/x /plain/plain.txt; "
              "cat /hd /ex /etc/greeting /added/t/x; echo E1=$E1 E2=$E2; pwd; ls /bin/sed 2>&1; id -u")
    got = run_out(bb, "--user", "0", "--entrypoint", "sh", "full", "-c", script)
    assert "/w/a.txt 12:34 640" in got
    assert "/copied/a.txt 0:0 644" in got and "/globbed/b.txt 0:0 644" in got
    assert "/added/t/x 7:8 604" in got          # ADD keeps a local tar's owners and modes
    assert "/plain/plain.txt 5:6 644" in got     # --chown on a plain file, not unpacked
    assert "heredoc-run one" in got and "exec-form" in got and "hi one" in got
    assert "E1=hello world E2=one" in got and "\n/w\n" in got
    assert "No such file" in got                 # the deletion is a whiteout in the RUN's layer
    assert run_out(bb, "full").strip() == "hello world from one"   # ENTRYPOINT + CMD
    assert run_out(bb, "--entrypoint", "id", "full", "-u").strip() == "1"   # USER

    conf = json.loads(bb("inspect", "--format", "{{json .Config}}", "full").ok().stdout)
    assert conf["Env"][-2:] == ["E1=hello world", "E2=one"]
    assert conf["Labels"]["org.test.a"] == "x y" and conf["Labels"]["b"] == "one"
    assert set(conf["ExposedPorts"]) == {"80/tcp", "53/udp"}
    assert conf["WorkingDir"] == "/w" and conf["User"] == "1:2"
    assert conf["Volumes"] == {"/data": {}} and conf["StopSignal"] == "SIGINT"
    assert conf["Healthcheck"] == {"Test": ["CMD-SHELL", "true"], "Interval": 5000000000, "Retries": 2}
    assert conf["OnBuild"] == ["RUN echo onbuild"]
    assert conf["Entrypoint"] == ["/bin/sh", "-c"] and conf["Cmd"] == ["echo $E1 from $E2"]

    history = json.loads(bb("image", "inspect", "--format", "{{json .History}}", "full").ok().stdout)
    mine = history[-20:]
    assert [bool(h.get("empty_layer")) for h in mine] == [
        True, True, True, True, False,      # ARG ENV LABEL EXPOSE WORKDIR (makes /w)
        False, False, False, False, False,  # COPY COPY COPY ADD ADD
        False, False, False,                # RUN RUN COPY<<
        True, True, True, True, True, True, True]
    assert mine[0]["created_by"] == "/bin/sh -c #(nop) ARG V"

    # WORKDIR of a directory the image has is metadata only; of a new one, a layer
    # with that directory (so the final image has it even without a later COPY/RUN)
    wd = write_context(bb, "wd", {"Dockerfile": "FROM busybox\nWORKDIR /bin\nWORKDIR /made/here\nUSER 1000\n"})
    bb("build", "-q", "-t", "wd", str(wd)).ok()
    assert run_out(bb, "wd", "pwd") == "/made/here\n"
    history = json.loads(bb("image", "inspect", "--format", "{{json .History}}", "wd").ok().stdout)
    assert [bool(h.get("empty_layer")) for h in history[-3:]] == [True, False, True]

    # ONBUILD triggers run in a child build
    child = write_context(bb, "child", {"Dockerfile": "FROM full\nRUN true\n"})
    assert "onbuild" in bb("build", "-t", "child", str(child)).ok().stdout


def test_oci_format_drops_healthcheck_as_podman(bb):
    ctx = write_context(bb, "hc", {"Dockerfile": "FROM busybox\nHEALTHCHECK CMD true\nCMD [\"true\"]\n"})
    res = bb("build", "-t", "hc", str(ctx)).ok()
    assert "HEALTHCHECK is not supported for OCI image format" in res.stdout
    conf = json.loads(bb("inspect", "--format", "{{json .Config}}", "hc").ok().stdout)
    assert "Healthcheck" not in conf and conf["Cmd"] == ["true"]


def test_flags_tags_labels_iidfile_quiet_stdin_tar(bb):
    ctx = write_context(bb, "flags", {"Dockerfile": "FROM busybox\nRUN echo run-output\n"})
    iid = bb.workdir / "iid"
    res = bb("build", "-q", "-t", "one", "-t", "two:v2", "--label", "k=v", "--iidfile", str(iid), str(ctx)).ok()
    assert "STEP" not in res.stdout and "run-output" not in res.stdout
    image_id = res.stdout.strip()
    assert iid.read_text() == "sha256:" + image_id
    names = bb("images", "--format", "{{.Repository}}:{{.Tag}}").ok().stdout.split()
    assert "localhost/one:latest" in names and "localhost/two:v2" in names
    assert bb("inspect", "--format", "{{index .Labels \"k\"}}", "one").ok().stdout.strip() == "v"
    # the Containerfile on stdin
    out = bb("build", "-q", "-f", "-", str(ctx), input="FROM busybox\nENV FROM_STDIN=1\n").ok().stdout.strip()
    assert "FROM_STDIN=1" in bb("inspect", "--format", "{{json .Config.Env}}", out).ok().stdout
    # a tar file as the context
    tarpath = bb.workdir / "ctx.tar"
    with tarfile.open(tarpath, "w") as t:
        for name, payload in (("Dockerfile", b"FROM busybox\nCOPY f /f\n"), ("f", b"from tar\n")):
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            t.addfile(info, io.BytesIO(payload))
    os.chown(tarpath, bb.user.uid, bb.user.gid)
    bb("build", "-q", "-t", "fromtar", str(tarpath)).ok()
    assert run_out(bb, "fromtar", "cat", "/f") == "from tar\n"
    # a Containerfile outside the context
    outside = bb.workdir / "Other.Containerfile"
    outside.write_text("FROM busybox\nLABEL outside=yes\n")
    os.chown(outside, bb.user.uid, bb.user.gid)
    bb("build", "-q", "-t", "outside", "-f", str(outside), str(ctx)).ok()
    assert bb("inspect", "--format", "{{index .Labels \"outside\"}}", "outside").ok().stdout.strip() == "yes"
    # the buildx spelling and the image group
    bb("buildx", "build", "-q", "-t", "bx", str(ctx)).ok()
    bb("image", "build", "-q", "-t", "ib", str(ctx)).ok()


def test_run_mounts_secret_cache_bind_and_network(bb):
    secret = bb.workdir / "token"
    secret.write_text("s3cret\n")
    os.chown(secret, bb.user.uid, bb.user.gid)
    df = ("FROM busybox\n"
          "RUN --mount=type=secret,id=tok cat /run/secrets/tok > /seen\n"
          "RUN --mount=type=cache,target=/cache echo x >> /cache/count && wc -l < /cache/count > /count\n"
          "RUN --mount=type=bind,source=data,target=/mnt cat /mnt/f > /bound\n"
          "RUN --network=none ls /sys/class/net > /nets\n")
    ctx = write_context(bb, "mounts", {"Dockerfile": df, "data/f": "bound file\n"})
    bb("build", "-q", "-t", "m1", "--secret", f"id=tok,src={secret}", str(ctx)).ok()
    assert run_out(bb, "m1", "cat", "/seen") == "s3cret\n"
    assert run_out(bb, "m1", "cat", "/count").strip() == "1"
    assert run_out(bb, "m1", "cat", "/bound") == "bound file\n"
    assert run_out(bb, "m1", "cat", "/nets").split() == ["lo"]
    # nothing of the mounts stays in the image
    assert run_out(bb, "m1", "sh", "-c", "ls -A /run/secrets /mnt /cache 2>&1 | grep -c -v ':' || true").strip() == "0"
    # the cache mount persists into the next build
    bb("build", "-q", "--no-cache", "-t", "m2", "--secret", f"id=tok,src={secret}", str(ctx)).ok()
    assert run_out(bb, "m2", "cat", "/count").strip() == "2"


def test_add_url_build_context_and_platform(bb):
    import http.server
    import threading

    served = bb.workdir / "served"
    served.mkdir()
    (served / "payload.tar").write_bytes(_tar())   # a tar from a URL is NOT unpacked
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(served), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/payload.tar"
        extra = write_context(bb, "extra", {"note.txt": "from a named context\n"})
        df = (f"FROM busybox\nADD {url} /dl/\nADD --chown=3:4 {url} /renamed.tar\n"
              "COPY --from=extra note.txt /note\nCOPY --link --from=img /bin/busybox /bb\n")
        ctx = write_context(bb, "url", {"Dockerfile": df})
        bb("build", "-q", "-t", "url", "--build-context", f"extra={extra}",
           "--build-context", "img=docker-image://localhost/busybox:latest", "--platform", "linux/amd64"
           if os.uname().machine == "x86_64" else "linux/arm64", str(ctx)).ok()
    finally:
        server.shutdown()
    got = run_out(bb, "url", "sh", "-c", "stat -c '%n %u:%g %a %s' /dl/payload.tar /renamed.tar; cat /note; "
                                          "test -x /bb && echo exe")
    size = len(_tar())
    assert f"/dl/payload.tar 0:0 600 {size}" in got and f"/renamed.tar 3:4 600 {size}" in got
    assert "from a named context" in got and "exe" in got
    # another platform is refused: no cross builds
    other = write_context(bb, "plat", {"Dockerfile": "FROM --platform=linux/s390x busybox\n"})
    bb("build", str(other)).assert_error(125, "cross-platform builds are not supported")
