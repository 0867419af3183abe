"""Multi-stage builds, ARG scoping, the layer cache and .dockerignore."""

from __future__ import annotations

import json

from tests.integration.build.conftest import run_out, write_context

MULTI = """ARG GREETING=global
FROM busybox AS first
ARG GREETING
RUN mkdir /d && echo "$GREETING" > /d/greeting && echo one > /one
FROM busybox AS unused
RUN exit 1
FROM busybox AS second
RUN echo "[$GREETING]" > /not-redeclared
FROM first
COPY --from=second /not-redeclared /
COPY --from=first /d/greeting /copied
COPY --from=localhost/busybox:latest /bin/busybox /from-image
"""


def test_multistage_copy_from_stage_and_image(bb):
    ctx = write_context(bb, "ms", {"Dockerfile": MULTI})
    out = bb("build", "-t", "ms", "--build-arg", "GREETING=given", str(ctx)).ok().stdout
    assert "[1/3] STEP 1/3: FROM busybox AS first" in out and "[3/3] COMMIT ms" in out
    assert "unused" not in out        # a stage nobody needs is skipped
    got = run_out(bb, "ms", "sh", "-c", "cat /one /copied /not-redeclared; test -x /from-image && echo exe")
    assert got.split("\n")[:4] == ["one", "given", "[]", "exe"]
    # --target stops at that stage
    bb("build", "-q", "-t", "second", "--target", "second", str(ctx)).ok()
    assert run_out(bb, "second", "ls", "/").split().count("one") == 0


def test_arg_scoping_defaults_and_unused_warning(bb):
    df = ("ARG A=global-a\nARG B\nFROM busybox\nARG A\nARG C=c-default\nENV FROM_ENV=$C\n"
          "RUN echo \"A=$A B=$B C=$C\" > /args\n")
    ctx = write_context(bb, "args", {"Dockerfile": df})
    res = bb("build", "-t", "args", "--build-arg", "C=given", "--build-arg", "NOPE=1", str(ctx)).ok()
    assert "[Warning] one or more build args were not consumed: ['NOPE']" in res.stdout
    assert run_out(bb, "args", "cat", "/args") == "A=global-a B= C=given\n"
    history = json.loads(bb("image", "inspect", "--format", "{{json .History}}", "args").ok().stdout)
    assert history[-1]["created_by"].startswith("|2 A=global-a C=given /bin/sh -c echo")
    # proxy args reach RUN without being declared, and stay out of the history
    bb("build", "-q", "-t", "proxy", "--build-arg", "HTTP_PROXY=http://proxy:3128", "-f", "-", str(ctx),
       input="FROM busybox\nRUN echo \"$HTTP_PROXY\" > /p\n").ok()
    assert run_out(bb, "proxy", "cat", "/p") == "http://proxy:3128\n"
    history = json.loads(bb("image", "inspect", "--format", "{{json .History}}", "proxy").ok().stdout)
    assert "proxy:3128" not in json.dumps(history)


def test_cache_hits_then_misses_after_a_context_change(bb):
    df = "FROM busybox\nENV A=1\nRUN echo built > /b\nCOPY f /f\nRUN cat /f > /g\n"
    ctx = write_context(bb, "cache", {"Dockerfile": df, "f": "v1\n"})
    first = bb("build", "-t", "c1", str(ctx)).ok().stdout
    assert "Using cache" not in first
    second = bb("build", "-t", "c2", str(ctx)).ok().stdout
    assert second.count("--> Using cache") == 4
    assert first.strip().splitlines()[-1] == second.strip().splitlines()[-1]   # the same image
    (ctx / "f").write_text("v2\n")
    third = bb("build", "-t", "c3", str(ctx)).ok().stdout
    assert third.count("--> Using cache") == 2          # ENV and the first RUN only
    assert run_out(bb, "c3", "cat", "/g") == "v2\n"
    # --no-cache rebuilds everything; --layers=false leaves no intermediate images
    assert "Using cache" not in bb("build", "--no-cache", "-t", "c4", str(ctx)).ok().stdout
    before = set(bb("images", "-aq", "--no-trunc").ok().stdout.split())
    out = bb("build", "--layers=false", "-t", "c5", "-f", "-", str(ctx),
             input="FROM busybox\nRUN echo a > /a\nRUN echo b > /b\n").ok().stdout
    assert "Using cache" not in out
    after = set(bb("images", "-aq", "--no-trunc").ok().stdout.split())
    assert len(after - before) == 1
    assert run_out(bb, "c5", "cat", "/a", "/b") == "a\nb\n"


def test_squash_makes_one_new_layer(bb):
    ctx = write_context(bb, "sq", {"Dockerfile": "FROM busybox\nRUN echo a > /a\nRUN echo b > /b\nRUN rm /a\n"})
    base = len(json.loads(bb("inspect", "--format", "{{json .RootFS.Layers}}", "busybox").ok().stdout))
    bb("build", "-q", "--squash", "-t", "sq", str(ctx)).ok()
    layers = json.loads(bb("inspect", "--format", "{{json .RootFS.Layers}}", "sq").ok().stdout)
    assert len(layers) == base + 1
    assert run_out(bb, "sq", "sh", "-c", "cat /b; ls /a 2>&1; true") == "b\nls: /a: No such file or directory\n"


def test_dockerignore_with_exceptions(bb):
    files = {"Dockerfile": "FROM busybox\nCOPY . /ctx/\n",
             ".dockerignore": "# comment\n*.log\n!keep.log\n**/tmp\nsecret\ndocs\n!docs/README.md\n",
             "a.log": "x", "keep.log": "k", "sub/b.log": "b", "x/y/tmp/z": "z", "secret/s": "s",
             "docs/README.md": "r", "docs/other.md": "o", "src/main.py": "m"}
    ctx = write_context(bb, "ign", files)
    bb("build", "-q", "-t", "ign", str(ctx)).ok()
    listed = run_out(bb, "ign", "find", "/ctx", "-type", "f").split()
    assert sorted(listed) == sorted(["/ctx/Dockerfile", "/ctx/.dockerignore", "/ctx/keep.log", "/ctx/sub/b.log",
                                     "/ctx/docs/README.md", "/ctx/src/main.py"])
    # an ignored file cannot be named either
    ctx2 = write_context(bb, "ign2", {**files, "Dockerfile": "FROM busybox\nCOPY a.log /\n"})
    bb("build", "-q", str(ctx2)).assert_error(125, 'copier: stat: "/a.log": no such file or directory')
