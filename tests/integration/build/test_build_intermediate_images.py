"""`images` hides the build's intermediate `<none>` images without -a (Podman's
intermediate rule: untagged and another image builds on it), lists them with -a, and
never hides a `<none>` image nothing builds on (an old build whose tag moved)."""

from __future__ import annotations

from tests.integration.build.conftest import write_context


def _listed(h, *flags: str) -> dict[str, str]:
    out = h("images", *flags, "--no-trunc", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}").ok().stdout
    return {line.split()[0].removeprefix("sha256:"): line.split()[1] for line in out.splitlines() if line.strip()}


def _image_id(h, ref: str) -> str:
    return h("image", "inspect", "--format", "{{.Id}}", ref).ok().stdout.strip().removeprefix("sha256:")


def test_intermediate_images_hidden_without_all(bb):
    h = bb
    step1 = "FROM localhost/busybox\nRUN echo a > /a\nRUN echo b > /b\nLABEL step=three\n"
    h("build", "--layers", "-t", "inter", str(write_context(h, "one", {"Containerfile": step1}))).ok()
    first = _image_id(h, "localhost/inter:latest")
    every = _listed(h, "-a")
    dangling_all = {i for i, name in every.items() if name.startswith("<none>")}
    assert len(dangling_all) >= 2  # one per step but the last
    shown = _listed(h)
    assert first in shown and not dangling_all & set(shown)
    assert set(_listed(h, "-a", "--filter", "intermediate=true")) == dangling_all

    # rebuilt with another last step: the old image keeps no name and nothing builds
    # on it -- a genuinely dangling image, listed without -a
    step2 = step1.replace("step=three", "step=four")
    h("build", "--layers", "-t", "inter", str(write_context(h, "two", {"Containerfile": step2}))).ok()
    shown = _listed(h)
    assert shown.get(first) == "<none>:<none>"
    assert _image_id(h, "localhost/inter:latest") in shown
    assert not dangling_all & set(shown)
    # re-tagging away: the same
    h("tag", "localhost/inter:latest", "other").ok()
    h("rmi", "localhost/inter:latest").ok()
    assert "localhost/other:latest" in _listed(h).values()
