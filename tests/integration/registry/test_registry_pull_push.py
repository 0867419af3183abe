"""Pull and push against a real docker-registry (tests/fixtures/registry.py)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import httpx
import pytest

from engine.errors import IntegrityError, RegistryAuthError, RegistryError, RegistryNotFound
from engine.oci.platform import Platform, host_platform
from engine.registry.authfile import Credentials
from engine.registry.pull import pull_image
from engine.registry.push import push_image
from tests.fixtures.images import validate_oci
from tests.fixtures.registry import (
    make_layer_tar, push_raw_image, push_raw_index, put_manifest_raw, upload_blob_raw,
)

sys.path.insert(0, str(Path(__file__).parent))
from registry_pull_helpers import apply_layer, make_cfg, open_store  # noqa: E402

HERE = Path(__file__).parent
BASE = make_layer_tar({"etc/": b"", "etc/os-release": b"ID=hulltest\n", "bin/": b"", "bin/sh": b"#!fake\n"})
TOP = make_layer_tar({"app/": b"", "app/hello.txt": b"hello from the top layer\n", "etc/motd": b"hi\n"})


@pytest.fixture
def store(tmp_path):
    cfg = make_cfg(tmp_path)
    s = open_store(cfg)
    yield s
    s.close()


def pull(store, text, **kw):
    kw.setdefault("tls_verify", False)
    return pull_image(store, text, apply_layer=apply_layer, **kw)


def test_pull_by_tag_stores_verified_image(registry, store):
    raw = push_raw_image(registry, "team/app", "v1", [BASE, TOP])
    events = []
    image = pull(store, f"{registry.host}/team/app:v1", progress=events.append)
    assert image.id == raw.config_digest
    assert image.names == [f"{registry.host}/team/app:v1"]
    assert image.digest == raw.manifest_digest
    assert len(image.layers) == 2
    top = store.layers.diff_path(image.layers[1])
    assert (top / "app" / "hello.txt").read_bytes() == b"hello from the top layer\n"
    assert (store.layers.diff_path(image.layers[0]) / "etc" / "os-release").exists()
    assert [store.layers.get(c).diff_id for c in image.layers] == raw.diff_ids
    assert not [n for n in os.listdir(store.cfg.tmp_dir) if n.startswith("pull-")]  # staging renamed away
    done = {e.digest for e in events if e.kind == "blob" and e.status == "done"}
    assert done == {json.loads(raw.manifest)["layers"][i]["digest"] for i in range(2)}
    # second pull: nothing downloaded, nothing unpacked
    events.clear()
    assert pull(store, f"{registry.host}/team/app:v1", progress=events.append).id == image.id
    assert not [e for e in events if e.status in ("downloading", "extracting")]


def test_pull_by_digest_and_shared_base(registry, store):
    first = push_raw_image(registry, "a/one", "1", [BASE])
    second = push_raw_image(registry, "a/two", None, [BASE, TOP])
    image = pull(store, f"{registry.host}/a/two@{second.manifest_digest}")
    assert image.id == second.config_digest and image.names == []
    assert f"{registry.host}/a/two@{second.manifest_digest}" not in image.names
    events = []
    base_image = pull(store, f"{registry.host}/a/one:1", progress=events.append)
    assert base_image.layers == image.layers[:1]  # the base layer is shared, not unpacked twice
    assert not [e for e in events if e.status == "extracting"]
    assert base_image.id == first.config_digest


def test_pull_index_picks_host_platform(registry, store):
    here = host_platform()
    other_arch = "s390x" if here.architecture != "s390x" else "amd64"
    mine = push_raw_image(registry, "multi/app", None, [BASE], architecture=here.architecture, variant=here.variant)
    other = push_raw_image(registry, "multi/app", None, [TOP], architecture=other_arch)
    index_digest = push_raw_index(registry, "multi/app", "latest",
                                  [(other_arch, None, other), (here.architecture, here.variant, mine)])
    image = pull(store, f"{registry.host}/multi/app")
    assert image.id == mine.config_digest
    assert index_digest in image.digests and mine.manifest_digest in image.digests
    chosen = pull(store, f"{registry.host}/multi/app", platform=Platform("linux", other_arch))
    assert chosen.id == other.config_digest


def test_missing_image_is_registry_not_found_one_line(registry, store):
    with pytest.raises(RegistryNotFound) as info:
        pull(store, f"{registry.host}/nope/missing:latest")
    text = str(info.value)
    assert text == (f"initializing source docker://{registry.host}/nope/missing:latest: "
                    f"reading manifest latest in {registry.host}/nope/missing: manifest unknown")
    assert store.images.list() == []


def test_https_required_unless_tls_verify_false(registry, store):
    push_raw_image(registry, "sec/app", "1", [BASE])
    with pytest.raises(RegistryError, match="pinging container registry"):
        pull(store, f"{registry.host}/sec/app:1", tls_verify=True)


def test_registries_conf_insecure_enables_http(registry, tmp_path):
    conf = tmp_path / "registries.conf"
    conf.write_text(f'[[registry]]\nlocation = "{registry.host}"\ninsecure = true\n')
    raw = push_raw_image(registry, "conf/app", "1", [BASE])
    s = open_store(make_cfg(tmp_path / "s", conf))
    assert pull_image(s, f"{registry.host}/conf/app:1", apply_layer=apply_layer).id == raw.config_digest


def test_unqualified_name_uses_search_registries(registry, tmp_path):
    conf = tmp_path / "registries.conf"
    conf.write_text(f'unqualified-search-registries = ["{registry.host}"]\n'
                    f'[[registry]]\nlocation = "{registry.host}"\ninsecure = true\n')
    raw = push_raw_image(registry, "shortapp", "latest", [BASE])
    s = open_store(make_cfg(tmp_path / "s", conf))
    image = pull_image(s, "shortapp", apply_layer=apply_layer)
    assert image.id == raw.config_digest and image.names == [f"{registry.host}/shortapp:latest"]


def test_auth_wrong_and_right_credentials(registry_with_auth, store, tmp_path):
    reg = registry_with_auth
    push_raw_image(reg, "private/app", "1", [BASE])
    with pytest.raises(RegistryAuthError) as info:
        pull(store, f"{reg.host}/private/app:1", credentials=Credentials(reg.user, "wrong"))
    assert "unauthorized" in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(RegistryAuthError):
        pull(store, f"{reg.host}/private/app:1")  # anonymous
    # credentials from auth.json (the config's authfile)
    from engine.registry import authfile
    authfile.store(store.cfg.authfile, reg.host, Credentials(reg.user, reg.password))
    assert pull(store, f"{reg.host}/private/app:1").names == [f"{reg.host}/private/app:1"]


def test_corrupt_layer_diff_id_mismatch_is_refused(registry, store):
    raw = push_raw_image(registry, "bad/app", "1", [BASE])
    # a config that promises another diff_id for the same layer
    cfg_doc = json.loads(raw.config)
    cfg_doc["rootfs"]["diff_ids"] = ["sha256:" + "0" * 64]
    config = json.dumps(cfg_doc).encode()
    config_digest = upload_blob_raw(registry, "bad/app", config)
    manifest = json.loads(raw.manifest)
    manifest["config"].update(digest=config_digest, size=len(config))
    put_manifest_raw(registry, "bad/app", "2", json.dumps(manifest).encode(), manifest["mediaType"])
    with pytest.raises(IntegrityError, match="diff_id"):
        pull(store, f"{registry.host}/bad/app:2")
    assert store.images.list() == []
    assert not any(p.name.startswith("pull-") for p in store.cfg.tmp_dir.iterdir())


PULL_SCRIPT = """
import sys
import tarfile
sys.path.insert(0, {helpers!r})
from registry_pull_helpers import apply_layer, make_cfg, open_store
from pathlib import Path
from engine.registry.pull import pull_image
store = open_store(make_cfg(Path({root!r})))
image = pull_image(store, {ref!r}, tls_verify=False, apply_layer=apply_layer)
print(image.id)
"""


def _pull_process(root: Path, ref: str) -> subprocess.Popen:
    code = PULL_SCRIPT.format(helpers=str(HERE), root=str(root), ref=ref)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[3]))
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def test_concurrent_double_pull_in_two_processes(registry, tmp_path):
    big = make_layer_tar({f"data/f{i}": os.urandom(64 * 1024) for i in range(64)})
    raw = push_raw_image(registry, "race/app", "1", [BASE, big, TOP])
    procs = [_pull_process(tmp_path, f"{registry.host}/race/app:1") for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err.decode()[-2000:]
        assert out.decode().strip() == raw.config_digest
    store = open_store(make_cfg(tmp_path))
    [image] = store.images.list()
    assert image.id == raw.config_digest and len(store.layers.list()) == 3


def test_killed_pull_leaves_nothing_that_breaks_the_next(registry, tmp_path):
    layers = [make_layer_tar({f"l{n}/f{i}": os.urandom(256 * 1024) for i in range(16)}) for n in range(4)]
    raw = push_raw_image(registry, "kill/app", "1", layers)
    proc = _pull_process(tmp_path, f"{registry.host}/kill/app:1")
    tmp_dir = make_cfg(tmp_path).tmp_dir
    import time
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        if tmp_dir.is_dir() and any(tmp_dir.iterdir()):
            break
        time.sleep(0.005)
    proc.kill()
    proc.wait()
    store = open_store(make_cfg(tmp_path))
    image = pull(store, f"{registry.host}/kill/app:1")
    assert image.id == raw.config_digest
    assert (store.layers.diff_path(image.layers[3]) / "l3" / "f15").stat().st_size == 256 * 1024


def test_push_then_pull_back_same_id_and_valid_manifest(registry, store, tmp_path):
    raw = push_raw_image(registry, "src/app", "1", [BASE, TOP])
    image = pull(store, f"{registry.host}/src/app:1")
    # unchanged push keeps the manifest bytes, hence the digest
    digest = push_image(store, image, f"{registry.host}/dst/app:copy", tls_verify=False)
    assert digest == raw.manifest_digest
    r = httpx.get(f"{registry.url}/v2/dst/app/manifests/copy",
                  headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
    assert r.status_code == 200 and r.headers["docker-content-digest"] == digest
    validate_oci(r.json(), "manifest")
    other = open_store(make_cfg(tmp_path / "other"))
    back = pull(other, f"{registry.host}/dst/app:copy")
    assert back.id == image.id
    # pushing again: every blob exists already
    events = []
    assert push_image(store, image, f"{registry.host}/dst/app:copy", tls_verify=False,
                      progress=events.append) == digest
    assert {e.status for e in events if e.kind == "blob"} == {"exists"}


def test_push_without_stored_manifest_writes_fresh_oci_manifest(registry, store):
    raw = push_raw_image(registry, "fresh/src", "1", [BASE, TOP])
    image = pull(store, f"{registry.host}/fresh/src:1")
    store.blobs.delete(image.digest)  # as if the image had been built locally
    events = []
    digest = push_image(store, image, f"{registry.host}/fresh/dst:1", tls_verify=False, progress=events.append)
    r = httpx.get(f"{registry.url}/v2/fresh/dst/manifests/{digest}",
                  headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
    validate_oci(r.json(), "manifest")
    assert r.json()["config"]["digest"] == raw.config_digest
    # layers came from fresh/src on the same registry: mounted, not uploaded
    assert {e.status for e in events if e.kind == "blob" and e.digest != raw.config_digest} == {"mounted"}


def test_push_with_auth(registry_with_auth, store):
    reg = registry_with_auth
    push_raw_image(reg, "p/src", "1", [BASE])
    creds = Credentials(reg.user, reg.password)
    image = pull(store, f"{reg.host}/p/src:1", credentials=creds)
    with pytest.raises(RegistryAuthError):
        push_image(store, image, f"{reg.host}/p/dst:1", tls_verify=False)
    digest = push_image(store, image, f"{reg.host}/p/dst:1", tls_verify=False, credentials=creds)
    assert digest == image.digest


def test_client_chunked_upload(registry):
    from engine.registry.client import RegistryClient
    blob = os.urandom(300_000)
    import hashlib
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    with RegistryClient(registry.host, insecure=True) as c:
        assert not c.blob_exists("chunk/app", digest)
        c.upload_blob("chunk/app", digest, len(blob), lambda: iter([blob[:100_000], blob[100_000:]]),
                      chunk_size=64 * 1024)
        assert c.blob_exists("chunk/app", digest)
        assert c.read_blob("chunk/app", digest, 1 << 20) == blob


class _BrokenBody(httpx.SyncByteStream):
    """A response body that stops with a read error after `prefix`."""

    def __init__(self, prefix: bytes) -> None:
        self.prefix = prefix

    def __iter__(self):
        yield self.prefix
        raise httpx.ReadError("connection reset (test)")


class _BreakFirstRead(httpx.BaseTransport):
    """Real HTTP, except each layer blob's first GET breaks halfway through."""

    def __init__(self, digests: set[str]) -> None:
        self.inner = httpx.HTTPTransport()
        self.digests = digests
        self.broken: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        resp = self.inner.handle_request(request)
        digest = request.url.path.rpartition("/")[2]
        if request.method == "GET" and digest in self.digests and digest not in self.broken:
            self.broken.append(digest)
            body = resp.read()
            resp.close()
            return httpx.Response(200, stream=_BrokenBody(body[:len(body) // 2]), request=request)
        return resp

    def close(self) -> None:
        self.inner.close()


@pytest.mark.parametrize("size", ["small", "big"])  # thread pool / process pool unpackers
def test_broken_transfer_retried_and_unpacked_from_the_verified_attempt(registry, store, size):
    if size == "big":  # over PROCESS_POOL_THRESHOLD, incompressible
        layers = [make_layer_tar({f"l{n}/blob": os.urandom(5 << 20), f"l{n}/small": b"x"}) for n in range(2)]
    else:
        layers = [BASE, TOP]
    raw = push_raw_image(registry, f"flaky/{size}", "1", layers)
    digests = {d["digest"] for d in json.loads(raw.manifest)["layers"]}
    transport = _BreakFirstRead(digests)
    image = pull(store, f"{registry.host}/flaky/{size}:1", transport=transport)
    assert sorted(transport.broken) == sorted(digests)  # every layer's unpacker followed a dead attempt
    assert image.id == raw.config_digest
    assert [store.layers.get(c).diff_id for c in image.layers] == raw.diff_ids
    if size == "big":
        for n, chain in enumerate(image.layers):
            with tarfile.open(fileobj=io.BytesIO(layers[n])) as tar:
                want = tar.extractfile(f"l{n}/blob").read()
            assert (store.layers.diff_path(chain) / f"l{n}" / "blob").read_bytes() == want
    else:
        assert (store.layers.diff_path(image.layers[1]) / "app" / "hello.txt").read_bytes() == \
            b"hello from the top layer\n"
    assert not [n for n in os.listdir(store.cfg.tmp_dir) if n.startswith(("pull-", "blob-"))]


class _FlipLastByte(httpx.BaseTransport):
    """Real HTTP, but every GET of `digest` returns its bytes with the last one changed."""

    def __init__(self, digest: str) -> None:
        self.inner = httpx.HTTPTransport()
        self.digest = digest

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        resp = self.inner.handle_request(request)
        if request.method == "GET" and request.url.path.endswith("/" + self.digest):
            body = bytearray(resp.read())
            resp.close()
            body[-1] ^= 0xFF
            return httpx.Response(200, content=bytes(body), request=request)
        return resp

    def close(self) -> None:
        self.inner.close()


def test_layer_unpacked_while_downloading_is_discarded_on_digest_mismatch(registry, store):
    raw = push_raw_image(registry, "tampered/app", "1", [BASE, TOP])
    top = json.loads(raw.manifest)["layers"][1]["digest"]
    with pytest.raises(IntegrityError, match="digest mismatch"):
        pull(store, f"{registry.host}/tampered/app:1", transport=_FlipLastByte(top))
    assert store.images.list() == []
    assert not store.blobs.has(top)
    assert not store.layers.exists(store.layers.chain_id(raw.diff_ids[0], raw.diff_ids[1]))
    assert not [n for n in os.listdir(store.cfg.tmp_dir) if n.startswith(("pull-", "blob-"))]
