"""pull, push, login, logout against a real docker-registry on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

BUSYBOX_TAR = Path("/work/shared/images/busybox.docker.tar")
BUSYBOX_ID = "a1650e46735caa638ff50713280371bb8a5a3f9b3e987521fc875151ab4a7264"

pytestmark = pytest.mark.skipif(not BUSYBOX_TAR.exists(), reason="shared busybox archive missing")


def test_push_then_pull_round_trip(hull, hull_factory, registry):
    hull("load", "-i", str(BUSYBOX_TAR)).ok()
    dest = f"{registry.host}/test/busybox:1"
    digestfile = hull.workdir / "digest"
    r = hull("push", "--tls-verify=false", "--digestfile", str(digestfile), "busybox", dest).ok()
    assert "Writing manifest to image destination" in r.stderr  # plain progress: no terminal
    assert digestfile.read_text().startswith("sha256:")
    other = hull_factory()
    r = other("pull", "--tls-verify=false", dest).ok()
    assert r.stdout == BUSYBOX_ID + "\n"
    assert f"Trying to pull {dest}..." in r.stderr and "Copying blob" in r.stderr
    assert other("images", "--format", "{{.Repository}}:{{.Tag}}").ok().lines == [dest]
    # again: nothing to download, same ID; -q prints only the ID
    r = other("pull", "-q", "--tls-verify=false", dest).ok()
    assert r.stdout == BUSYBOX_ID + "\n" and r.stderr == ""


def test_pull_errors_are_one_line(hull, registry):
    hull("pull", "--tls-verify=false", f"{registry.host}/nothing/here:1").assert_error(125)
    hull("pull", "--tls-verify=false", "127.0.0.1:1/x").assert_error(125)
    assert hull("images", "-q").ok().lines == []


def test_login_verifies_then_stores_and_logout(hull, registry_with_auth):
    reg = registry_with_auth
    authfile = hull.workdir / "auth.json"
    hull("login", "--tls-verify=false", "--authfile", str(authfile), "-u", reg.user, "-p", "wrong",
         reg.host).assert_error(125, "invalid username/password")
    assert not authfile.exists()
    r = hull("login", "--tls-verify=false", "--authfile", str(authfile), "-u", reg.user, "--password-stdin",
             reg.host, input=reg.password + "\n").ok()
    assert r.stdout == "Login Succeeded!\n"
    assert reg.host in json.loads(authfile.read_text())["auths"]
    assert hull("login", "--get-login", "--authfile", str(authfile), reg.host).ok().stdout == reg.user + "\n"
    # the stored credentials are used by push
    hull("load", "-i", str(BUSYBOX_TAR)).ok()
    hull("push", "--tls-verify=false", "--authfile", str(authfile), "busybox", f"{reg.host}/a/b:1").ok()
    hull("logout", "--authfile", str(authfile), reg.host).ok()
    assert json.loads(authfile.read_text())["auths"] == {}
    hull("logout", "--authfile", str(authfile), reg.host).assert_error(125, "not logged into")
    hull("push", "--tls-verify=false", "--authfile", str(authfile), "busybox", f"{reg.host}/a/b:2").assert_error(125)


def test_login_logout_without_registry_use_the_search_list(hull, registry_with_auth):
    """Without REGISTRY, Podman logs in to (and out of) the first unqualified-search
    registry, and refuses in its own words when there is none; Hull required the argument."""
    reg = registry_with_auth
    authfile = hull.workdir / "auth.json"
    empty = hull.workdir / "empty.conf"
    empty.write_text("unqualified-search-registries = []\n")
    hull("--registries-conf", str(empty), "login", "-u", "a", "-p", "b").assert_error(
        125, "no registries found in registries.conf, a registry must be provided")
    hull("--registries-conf", str(empty), "logout").assert_error(
        125, "no registries found in registries.conf, a registry must be provided")
    conf = hull.workdir / "one.conf"
    conf.write_text(f'unqualified-search-registries = ["{reg.host}"]\n')
    hull("--registries-conf", str(conf), "login", "--tls-verify=false", "--authfile", str(authfile),
         "-u", reg.user, "-p", reg.password).ok()
    assert reg.host in json.loads(authfile.read_text())["auths"]
    hull("--registries-conf", str(conf), "logout", "--authfile", str(authfile)).ok()
    assert json.loads(authfile.read_text())["auths"] == {}
