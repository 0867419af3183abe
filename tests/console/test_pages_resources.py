"""Pods, images, volumes, networks and events pages, and their actions, against the
real engine state of the test's own Hull root."""

from __future__ import annotations

import os
import re

import pytest
from django.test import Client

from tests.console.engine_state import Engine, engine  # noqa: F401
from tests.console.test_pages_containers import messages


# ---------------------------------------------------------------- pods
def test_pods_create_start_stop_restart_remove(owner_client: Client, engine: Engine) -> None:
    from engine.services import pod_inspect

    response = owner_client.post("/pods/new", {"name": "shop", "ports": "", "share": ""}, follow=True)
    assert ("ok", "Created pod shop.") in messages(response)
    pod_id = pod_inspect.inspect(engine.cfg, ["shop"])[0]["Id"]
    engine.create("shop-app", pod="shop")
    page = owner_client.get("/pods/").content.decode()
    assert "shop-app" in page and "+ add a container" in page and "?pod=shop" in page

    def status() -> str:
        return pod_inspect.inspect(engine.cfg, ["shop"])[0]["State"]

    response = owner_client.post(f"/pods/{pod_id}/start", follow=True)
    assert ("ok", "Started pod shop.") in messages(response) and status() == "Running"
    assert engine.state("shop-app") == "running"
    response = owner_client.post("/pods/shop/restart", follow=True)
    assert ("ok", "Restarted pod shop.") in messages(response) and status() == "Running"
    response = owner_client.post("/pods/shop/stop", follow=True)
    assert ("ok", "Stopped pod shop.") in messages(response) and engine.state("shop-app") == "exited"
    response = owner_client.post("/pods/shop/remove", follow=True)
    assert ("ok", "Removed pod shop and its containers.") in messages(response)
    assert not engine.exists("shop-app")
    assert owner_client.post("/pods/shop/start").status_code == 404


def test_pod_create_error_is_a_message(owner_client: Client, engine: Engine) -> None:
    owner_client.post("/pods/new", {"name": "twice"}, follow=True)
    response = owner_client.post("/pods/new", {"name": "twice"}, follow=True)
    [(level, text)] = messages(response)
    assert level == "error" and "twice" in text
    response = owner_client.post("/pods/new", {"name": "p2", "share": "bogus"}, follow=True)
    assert messages(response)[0][0] == "error"


# ---------------------------------------------------------------- images
def test_images_list_detail_history_and_odd_names(owner_client: Client, engine: Engine) -> None:
    engine.create("user1")
    page = owner_client.get("/images/").content.decode()
    assert "localhost/busybox:latest" in page and engine.image_id[:12] in page and ">user1<" in page
    # names with "/", ":" and ids both reach the image page
    for ref in ("localhost/busybox:latest", "busybox", engine.image_id, engine.image_id[:12]):
        response = owner_client.get(f"/images/{ref}/")
        assert response.status_code == 200, ref
        assert response.context["id"] == engine.image_id
    detail = owner_client.get(f"/images/{engine.image_id}/").content.decode()
    assert "History" in detail and "hull test fixture layer" in detail
    assert owner_client.get("/images/localhost/nothing:1/").status_code == 404
    assert owner_client.post("/images/localhost/nothing:1/remove").status_code == 404


def test_image_tag_untag_remove(owner_client: Client, engine: Engine) -> None:
    from engine.services import images

    url = f"/images/{engine.image_id}/"
    response = owner_client.post(url + "tag", {"target": "localhost/odd.name/app:v1.2-rc_3"}, follow=True)
    assert ("ok", "Tagged localhost/busybox:latest as localhost/odd.name/app:v1.2-rc_3.") in messages(response)
    assert images.exists(engine.cfg, "localhost/odd.name/app:v1.2-rc_3")
    assert owner_client.get("/images/localhost/odd.name/app:v1.2-rc_3/").status_code == 200
    response = owner_client.post(url + "untag", {"name": "localhost/odd.name/app:v1.2-rc_3"}, follow=True)
    assert ("ok", "Removed the name localhost/odd.name/app:v1.2-rc_3.") in messages(response)
    assert not images.exists(engine.cfg, "localhost/odd.name/app:v1.2-rc_3")
    response = owner_client.post(url + "tag", {"target": "Bad Name"}, follow=True)
    assert messages(response)[0][0] == "error"
    cid = engine.create("holder")
    response = owner_client.post(url + "remove", follow=True)
    assert messages(response)[0][0] == "error" and images.exists(engine.cfg, engine.image_id)  # in use
    engine_rm = owner_client.post(f"/containers/{cid}/remove", {"force": "on"})
    assert engine_rm.status_code == 302
    response = owner_client.post(url + "remove", follow=True)
    assert ("ok", "Removed image localhost/busybox:latest.") in messages(response)
    assert not images.exists(engine.cfg, engine.image_id)


def test_image_prune(owner_client: Client, engine: Engine) -> None:
    from engine.services import images

    response = owner_client.post("/images/prune", {}, follow=True)
    assert ("ok", "Removed 0 unused images.") in messages(response)
    response = owner_client.post("/images/prune", {"all": "on"}, follow=True)
    assert ("ok", "Removed 1 unused image.") in messages(response)
    assert not images.exists(engine.cfg, engine.image_id)


def test_image_pull_and_push_run_in_the_background(owner_client: Client, engine: Engine, registry,
                                                   busybox_image) -> None:
    from console import jobs
    from engine.services import images
    from tests.fixtures.images import push_to_registry

    push_to_registry(busybox_image, registry, "console/pulled:1")
    ref = f"{registry.host}/console/pulled:1"
    response = owner_client.post("/images/pull", {"reference": ref, "insecure": "on"}, follow=True)
    assert ("info", f"Pulling {ref}: it shows in the list when it is done.") in messages(response)
    jobs.wait_all()
    assert images.exists(engine.cfg, ref)
    page = owner_client.get("/images/").content.decode()
    assert f"Pulled {ref}" in page and "job-done" in page
    target = f"{registry.host}/console/pushed:2"
    owner_client.post(f"/images/{engine.image_id}/push", {"destination": target, "insecure": "on"})
    jobs.wait_all()
    page = owner_client.get("/images/").content.decode()
    assert f"Pushed {target} (sha256:" in page
    # a pull that fails shows the engine's reason on the page
    owner_client.post("/images/pull", {"reference": f"{registry.host}/console/missing:1", "insecure": "on"})
    jobs.wait_all()
    assert "job-failed" in owner_client.get("/images/").content.decode()
    response = owner_client.post("/images/pull", {"reference": "UPPER/Case"}, follow=True)
    assert messages(response)[0][0] == "error"


# ---------------------------------------------------------------- volumes
def _volume_path(engine: Engine, name: str) -> str:
    from engine.services import volumes

    return volumes.inspect(engine.cfg, [name])[0]["Mountpoint"]


def test_volumes_create_list_remove_prune(owner_client: Client, engine: Engine) -> None:
    from engine.services import volumes

    response = owner_client.post("/volumes/new", {"name": "data.v1_x-y", "labels": "app=web"}, follow=True)
    assert ("ok", "Created volume data.v1_x-y.") in messages(response)
    with open(os.path.join(_volume_path(engine, "data.v1_x-y"), "f.txt"), "w") as fh:
        fh.write("x" * 3000)
    engine.create("uses", mounts=[__import__("engine.spec.options", fromlist=["MountSpec"]).MountSpec(
        type="volume", source="data.v1_x-y", destination="/data")])
    page = owner_client.get("/volumes/").content.decode()
    assert "data.v1_x-y" in page and "2.9\xa0KB" in page and ">uses<" in page and "app=web" in page
    response = owner_client.post("/volumes/new", {"name": "data.v1_x-y"}, follow=True)
    assert messages(response)[0][0] == "error"
    owner_client.post("/volumes/new", {"name": "spare"})
    response = owner_client.post("/volumes/prune", follow=True)
    assert ("ok", "Removed 1 unused volume.") in messages(response)
    assert volumes.exists(engine.cfg, "data.v1_x-y") and not volumes.exists(engine.cfg, "spare")
    response = owner_client.post("/volumes/data.v1_x-y/remove", follow=True)
    assert messages(response)[0][0] == "error"  # in use
    response = owner_client.post("/volumes/data.v1_x-y/remove", {"force": "on"}, follow=True)
    assert ("ok", "Removed volume data.v1_x-y.") in messages(response)
    assert not volumes.exists(engine.cfg, "data.v1_x-y") and not engine.exists("uses")
    assert owner_client.post("/volumes/nosuch/remove").status_code == 404


def test_volume_browse_view_download(owner_client: Client, engine: Engine) -> None:
    owner_client.post("/volumes/new", {"name": "files"})
    root = _volume_path(engine, "files")
    os.makedirs(os.path.join(root, "sub dir"))
    with open(os.path.join(root, "sub dir", "notes é.txt"), "w") as fh:
        fh.write("hello <b>volume</b>\n")
    with open(os.path.join(root, "blob.bin"), "wb") as fh:
        fh.write(b"\0\1\2" * 10)
    listing = owner_client.get("/volumes/files/browse/").content.decode()
    assert "sub dir/" in listing and "blob.bin" in listing
    inner = owner_client.get("/volumes/files/browse/", {"path": "/sub dir"}).content.decode()
    assert "notes é.txt" in inner
    view = owner_client.get("/volumes/files/browse/", {"path": "/sub dir/notes é.txt"})
    assert view.status_code == 200 and "hello &lt;b&gt;volume&lt;/b&gt;" in view.content.decode()
    binary = owner_client.get("/volumes/files/browse/", {"path": "/blob.bin"}).content.decode()
    assert "A binary file" in binary
    download = owner_client.get("/volumes/files/browse/", {"path": "/sub dir/notes é.txt", "download": "1"})
    assert download.status_code == 200 and download.content == b"hello <b>volume</b>\n"
    assert download["Content-Type"] == "application/octet-stream"
    assert "attachment;" in download["Content-Disposition"] and "\n" not in download["Content-Disposition"]
    assert owner_client.get("/volumes/files/browse/", {"path": "/nope"}).status_code == 404
    assert owner_client.get("/volumes/nosuch/browse/").status_code == 404


def test_volume_browse_stays_inside_the_volume(owner_client: Client, engine: Engine, tmp_path) -> None:
    owner_client.post("/volumes/new", {"name": "trap"})
    root = _volume_path(engine, "trap")
    secret = tmp_path / "host-secret.txt"
    secret.write_text("HOST SECRET")
    os.symlink(str(secret), os.path.join(root, "abs-link"))
    os.symlink("../../../../../../../../" + str(secret), os.path.join(root, "rel-link"))
    for path in ("/abs-link", "/rel-link", "/../../../../" + str(secret), str(secret)):
        for extra in ({}, {"download": "1"}):
            response = owner_client.get("/volumes/trap/browse/", {"path": path, **extra})
            assert b"HOST SECRET" not in response.content, path
            assert response.status_code in (302, 404), (path, response.status_code)
    listing = owner_client.get("/volumes/trap/browse/").content.decode()
    assert "abs-link" in listing and "→" in listing  # shown as a link with its target, as text


def test_volume_file_names_are_text(owner_client: Client, engine: Engine) -> None:
    owner_client.post("/volumes/new", {"name": "xss"})
    root = _volume_path(engine, "xss")
    hostile = "<img src=x onerror=alert(1)>"
    with open(os.path.join(root, hostile), "w") as fh:
        fh.write("<script>alert(2)</script>")
    listing = owner_client.get("/volumes/xss/browse/").content.decode()
    assert hostile not in listing and "&lt;img src=x onerror=alert(1)&gt;" in listing
    view = owner_client.get("/volumes/xss/browse/", {"path": "/" + hostile}).content.decode()
    assert "<script>alert(2)</script>" not in view and "&lt;script&gt;alert(2)&lt;/script&gt;" in view
    assert hostile not in view


# ---------------------------------------------------------------- networks
def test_networks_create_inspect_remove(owner_client: Client, engine: Engine) -> None:
    from engine.services import networks

    response = owner_client.post("/networks/new", {"name": "backend", "subnet": "10.123.7.0/24",
                                                   "internal": "on", "labels": "tier=db"}, follow=True)
    assert ("ok", "Created network backend.") in messages(response)
    doc = networks.inspect(engine.cfg, ["backend"])[0]
    assert doc["internal"] and doc["subnets"][0]["subnet"] == "10.123.7.0/24" and doc["labels"] == {"tier": "db"}
    page = owner_client.get("/networks/").content.decode()
    assert "backend" in page and "10.123.7.0/24" in page and "internal" in page
    detail = owner_client.get("/networks/backend/").content.decode()
    assert doc["id"] in detail and "10.123.7.1" in detail
    response = owner_client.post("/networks/new", {"name": "bad", "subnet": "not-a-subnet"}, follow=True)
    assert messages(response)[0][0] == "error" and not networks.exists(engine.cfg, "bad")
    response = owner_client.post("/networks/backend/remove", follow=True)
    assert ("ok", "Removed network backend.") in messages(response)
    assert not networks.exists(engine.cfg, "backend")
    assert owner_client.get("/networks/backend/").status_code == 404
    assert owner_client.post("/networks/backend/remove").status_code == 404


# ---------------------------------------------------------------- events, dashboard
def test_events_page_shows_recent_events(owner_client: Client, engine: Engine) -> None:
    cid = engine.create("evented", labels={"x": "<script>alert(1)</script>"})
    owner_client.post("/volumes/new", {"name": "ev-vol"})
    page = owner_client.get("/events/").content.decode()
    assert "evented" in page and "ev-vol" in page and "data-events-feed" in page
    assert page.index("ev-vol") < page.index("evented")  # newest first
    only_volumes = owner_client.get("/events/", {"type": "volume"}).content.decode()
    assert "ev-vol" in only_volumes and "evented" not in only_volumes
    assert "<script>alert(1)</script>" not in page
    assert cid


def test_dashboard_counts_disk_and_running(owner_client: Client, engine: Engine) -> None:
    running = engine.create("dash-run", start=True)
    engine.create("dash-idle")
    owner_client.post("/volumes/new", {"name": "dash-vol"})
    page = owner_client.get("/").content.decode()
    assert re.search(r'data-count="running">1<', page) and re.search(r'data-count="stopped">1<', page)
    assert re.search(r'data-count="images">1<', page) and re.search(r'data-count="volumes">1<', page)
    assert f'data-container-id="{running}" data-state="running"' in page and "dash-idle" not in page
    assert "Disk use" in page


def test_post_without_csrf_is_refused_everywhere(login_token: str, engine: Engine) -> None:
    from engine.services import volumes

    client = Client(enforce_csrf_checks=True)
    client.get("/login", {"token": login_token})
    for url, data in (("/volumes/new", {"name": "nocsrf"}), ("/pods/new", {"name": "nocsrf"}),
                      ("/networks/new", {"name": "nocsrf"}), ("/images/prune", {"all": "on"}),
                      (f"/images/{engine.image_id}/remove", {}), ("/volumes/prune", {})):
        assert client.post(url, data).status_code == 403, url
    assert not volumes.exists(engine.cfg, "nocsrf")
    from engine.services import images

    assert images.exists(engine.cfg, engine.image_id)


@pytest.mark.parametrize("url", ["/pods/", "/images/", "/volumes/", "/networks/", "/events/", "/containers/new"])
def test_pages_on_an_untouched_engine(owner_client: Client, hull_dirs, url: str) -> None:
    response = owner_client.get(url)
    assert response.status_code == 200
    assert not (hull_dirs / "root").exists()  # looking never creates a store
