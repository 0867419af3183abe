"""RUN's extras (engine/build/runplan.py): a heredoc starting with #! runs as a script
file, `--mount=type=bind,rw` writes go to a scratch copy that is thrown away,
secrets as environment variables of one step only (`--secret id=x,env=VAR` and
`RUN --mount=type=secret,id=x,env=VAR`); `--annotation` in the OCI manifest."""

from __future__ import annotations

import json
import os

from tests.integration.build.conftest import run_out, write_context

SHEBANG = '''FROM busybox
ARG WHO=arg
RUN <<EOF
#!/bin/sh
echo "script $0 as $WHO" > /sh.out
EOF
RUN <<'AWK'
#!/bin/awk -f
BEGIN { print "awk says", 6 * 7 > "/awk.out" }
AWK
RUN <<EOF
echo plain-shell > /plain.out
EOF
'''


def test_heredoc_shebang_runs_as_a_script(bb):
    ctx = write_context(bb, "shebang", {"Containerfile": SHEBANG})
    bb("build", "-q", "-t", "shebang", str(ctx)).ok()
    got = run_out(bb, "shebang", "cat", "/sh.out", "/awk.out", "/plain.out")
    # $0 is the script file (Docker's /dev/pipes/<name>), ARG values are in its environment
    assert got == "script /dev/pipes/EOF as arg\nawk says 42\nplain-shell\n"
    # the script file is not part of the image; a changed script is a cache miss
    assert run_out(bb, "shebang", "sh", "-c", "ls /dev/pipes 2>&1 || true").count("EOF") == 0
    (ctx / "Containerfile").write_text(SHEBANG.replace("script $0", "changed $0"))
    os.chown(ctx / "Containerfile", bb.user.uid, bb.user.gid)
    out = bb("build", "-t", "shebang", str(ctx)).ok().stdout
    assert out.count("Using cache") == 1  # ARG only
    assert run_out(bb, "shebang", "cat", "/sh.out") == "changed /dev/pipes/EOF as arg\n"


def test_bind_rw_writes_are_discarded(bb):
    df = ("FROM busybox\n"
          "RUN --mount=type=bind,source=data,target=/src,rw "
          "echo added > /src/new && echo changed > /src/f && rm /src/gone && cat /src/f /src/new > /seen\n"
          "RUN --mount=type=bind,source=data/f,target=/one,rw echo file-write >> /one && cat /one > /seen1\n"
          "RUN --mount=type=bind,source=data,target=/src ls /src > /after\n"
          "RUN --mount=type=bind,source=data,target=/ro touch /ro/x 2>/dev/null && echo writable > /ro.out "
          "|| echo read-only > /ro.out\n")
    ctx = write_context(bb, "bindrw", {"Dockerfile": df, "data/f": "original\n", "data/gone": "g\n"})
    bb("build", "-q", "-t", "bindrw", str(ctx)).ok()
    assert run_out(bb, "bindrw", "cat", "/seen") == "changed\nadded\n"
    assert run_out(bb, "bindrw", "cat", "/seen1") == "original\nfile-write\n"
    assert run_out(bb, "bindrw", "cat", "/after").split() == ["f", "gone"]   # the next step sees the original
    assert run_out(bb, "bindrw", "cat", "/ro.out") == "read-only\n"
    assert (ctx / "data" / "f").read_text() == "original\n"                 # the context is untouched
    assert sorted(os.listdir(ctx / "data")) == ["f", "gone"]
    assert run_out(bb, "bindrw", "sh", "-c", "ls -A /src /one 2>&1 | grep -c -v ':' || true").strip() == "0"


def test_secret_as_env_of_one_step(bb):
    df = ("FROM busybox\n"
          "RUN --mount=type=secret,id=tok,env=TOKEN echo \"step sees $TOKEN\" > /seen; "
          "ls /run/secrets > /files 2>&1 || true\n"
          "RUN --mount=type=secret,id=tok,env=T2,target=/run/secrets/both cat /run/secrets/both > /both\n"
          "RUN echo \"later: [$TOKEN]\" > /later\n")
    ctx = write_context(bb, "secenv", {"Dockerfile": df})
    bb.extra_env["MY_TOKEN"] = "from-env-123"
    try:
        bb("build", "-t", "secenv", "--secret", "id=tok,env=MY_TOKEN", str(ctx)).ok()
    finally:
        del bb.extra_env["MY_TOKEN"]
    assert run_out(bb, "secenv", "cat", "/seen") == "step sees from-env-123\n"
    assert run_out(bb, "secenv", "cat", "/both") == "from-env-123"
    assert run_out(bb, "secenv", "cat", "/later") == "later: []\n"
    assert "No such file" in run_out(bb, "secenv", "cat", "/files")   # env= alone: no file
    inspect = bb("image", "inspect", "secenv").ok().stdout
    history = bb("history", "--no-trunc", "secenv").ok().stdout
    assert "from-env-123" not in inspect and "from-env-123" not in history
    assert "TOKEN" not in json.loads(inspect)[0]["Config"].get("Env", [])
    # a file secret works the same way as env=; the secret's value is not part of the
    # cache key (as BuildKit): a rebuild with another value reuses the steps
    secret = bb.workdir / "tokfile"
    secret.write_text("file-secret")
    os.chown(secret, bb.user.uid, bb.user.gid)
    bb("build", "-q", "-t", "secfile", "--secret", f"id=tok,src={secret}", str(ctx)).ok()
    assert run_out(bb, "secfile", "cat", "/seen") == "step sees from-env-123\n"
    bb("build", "-q", "--no-cache", "-t", "secfile", "--secret", f"id=tok,src={secret}", str(ctx)).ok()
    assert run_out(bb, "secfile", "cat", "/seen") == "step sees file-secret\n"
    bb("build", "--secret", "id=tok,env=HULL_NO_SUCH_VAR", str(ctx)).assert_error(
        125, "environment variable HULL_NO_SUCH_VAR is not set")


def test_annotations_in_the_oci_manifest(bb):
    ctx = write_context(bb, "annot", {"Containerfile": "FROM busybox\nLABEL a=b\n"})
    bb("build", "-q", "-t", "annot", "--annotation", "org.opencontainers.image.title=hello",
       "--annotation", "com.example.k=v w", str(ctx)).ok()
    got = json.loads(bb("image", "inspect", "--format", "{{json .Annotations}}", "annot").ok().stdout)
    assert got == {"org.opencontainers.image.title": "hello", "com.example.k": "v w"}
    # docker format has no manifest annotations: a warning, as Podman
    out = bb("build", "-t", "annot-d", "--format", "docker", "--annotation", "a=b", str(ctx)).ok().stdout
    assert "annotations are not supported for docker format" in out
    assert json.loads(bb("image", "inspect", "--format", "{{json .Annotations}}", "annot-d").ok().stdout) in ({},
                                                                                                              None)
