"""The containers pages and every container action, against real containers
(busybox, no network) in the test's own Hull root."""

from __future__ import annotations

import re
import time

import pytest
from django.test import Client

from tests.console.engine_state import Engine, engine  # noqa: F401


def messages(response) -> list[tuple[str, str]]:
    return [(m["level"], m["text"]) for m in response.context["flash_messages"]]


FORM = {"image": "localhost/busybox:latest", "pull": "never", "network": "none", "restart": "no",
        "health_on_failure": "none", "health_interval": "30s", "health_timeout": "30s",
        "health_start_period": "0s", "health_retries": "3"}


def test_list_filters_searches_sorts_and_groups(owner_client: Client, engine: Engine) -> None:
    engine.create("alpha", start=True, labels={"com.docker.compose.project": "shop"})
    engine.create("bravo", labels={"io.podman.compose.project": "shop"})
    engine.create("charlie", labels={"tier": "db"})
    page = owner_client.get("/containers/").content.decode()
    assert all(n in page for n in ("alpha", "bravo", "charlie"))
    running = owner_client.get("/containers/", {"state": "running"}).content.decode()
    assert ">alpha<" in running and ">bravo<" not in running
    found = owner_client.get("/containers/", {"q": "tier=db"}).content.decode()
    assert ">charlie<" in found and ">alpha<" not in found
    by_name = owner_client.get("/containers/", {"sort": "name"}).content.decode()
    assert by_name.index(">alpha<") < by_name.index(">bravo<") < by_name.index(">charlie<")
    by_name_desc = owner_client.get("/containers/", {"sort": "-name"}).content.decode()
    assert by_name_desc.index(">charlie<") < by_name_desc.index(">alpha<")
    grouped = owner_client.get("/containers/", {"group": "project"}).content.decode()
    assert re.search(r'<span class="badge">compose</span> shop\s*<span class="muted">· 2</span>', grouped)
    assert "Not in a compose project" in grouped
    # the running container has server-rendered numbers and the hooks the live stats fill
    alpha_id = owner_client.get("/containers/alpha/").context["id"]
    assert f'data-container-id="{alpha_id}" data-state="running"' in page


def test_list_groups_by_pod(owner_client: Client, engine: Engine) -> None:
    from engine.services import pods

    pods.create(engine.cfg, pods.PodCreateOptions(name="webpod"))
    engine.create("inpod", pod="webpod")
    engine.create("loose")
    page = owner_client.get("/containers/", {"group": "pod"}).content.decode()
    assert '<span class="badge">pod</span> webpod' in page
    assert page.index("webpod") < page.index(">inpod<") < page.index("Not in a pod") < page.index(">loose<")
    assert "infra" not in page.split("<table")[1].split("</table>")[0].replace("infra containers", "")


def test_create_and_run_through_the_form(owner_client: Client, engine: Engine) -> None:
    data = {**FORM, "name": "made", "command": "sh -c 'echo hi; sleep 600'",
            "env": "# pasted from a .env file\nA=1\nB=two words\n", "labels": "team=web\n",
            "memory": "64m", "restart": "on-failure", "restart_retries": "2",
            "health_cmd": "true", "volumes": "vol1:/data\n", "submit": "run"}
    response = owner_client.post("/containers/new", data, follow=True)
    assert response.status_code == 200
    assert ("ok", "Started container made.") in messages(response)
    from engine.services import container_inspect

    doc = container_inspect.inspect(engine.cfg, ["made"])[0]
    assert doc["State"]["Status"] == "running"
    assert doc["Config"]["Cmd"] == ["sh", "-c", "echo hi; sleep 600"]
    assert "A=1" in doc["Config"]["Env"] and "B=two words" in doc["Config"]["Env"]
    assert doc["Config"]["Labels"]["team"] == "web"
    assert doc["HostConfig"]["Memory"] == 64 << 20
    assert doc["HostConfig"]["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}
    assert doc["Config"]["Healthcheck"]["Test"] == ["CMD-SHELL", "true"]
    assert any(m.get("Name") == "vol1" and m["Destination"] == "/data" for m in doc["Mounts"])


def test_create_only(owner_client: Client, engine: Engine) -> None:
    response = owner_client.post("/containers/new", {**FORM, "name": "idle", "submit": "create"}, follow=True)
    assert ("ok", "Created container idle.") in messages(response)
    assert engine.state("idle") == "created"


@pytest.mark.parametrize("field,value,error", [
    ("memory", "lots", "invalid"),
    ("restart", "sometimes", "invalid restart policy"),
    ("env", "BAD NAME=1", "white spaces"),
    ("ports", "99999:80", ""),
    ("image", "", "an image is needed"),
])
def test_create_refuses_bad_input_with_the_engines_message(owner_client: Client, engine: Engine,
                                                           field: str, value: str, error: str) -> None:
    response = owner_client.post("/containers/new", {**FORM, "name": "bad", field: value, "submit": "run"})
    assert response.status_code == 400
    [(level, text)] = messages(response)
    assert level == "error" and error.lower() in text.lower()
    assert b"Traceback" not in response.content
    assert response.context["form"][field] == value  # the form comes back with what was typed
    assert not engine.exists("bad")


def test_create_with_a_missing_image_is_a_message(owner_client: Client, engine: Engine) -> None:
    response = owner_client.post("/containers/new", {**FORM, "image": "localhost/nothing:here", "submit": "run"})
    assert response.status_code == 400
    [(level, text)] = messages(response)
    assert level == "error" and "nothing" in text


def test_bulk_actions(owner_client: Client, engine: Engine) -> None:
    a, b = engine.create("b1"), engine.create("b2")
    response = owner_client.post("/containers/bulk", {"action": "start", "ids": [a, b]}, follow=True)
    assert ("ok", "Started 2 containers.") in messages(response)
    assert engine.state(a) == engine.state(b) == "running"
    response = owner_client.post("/containers/bulk", {"action": "restart", "ids": [a]}, follow=True)
    assert ("ok", "Restarted 1 container.") in messages(response) and engine.state(a) == "running"
    response = owner_client.post("/containers/bulk", {"action": "stop", "ids": [a, b]}, follow=True)
    assert ("ok", "Stopped 2 containers.") in messages(response)
    assert engine.state(a) == engine.state(b) == "exited"
    response = owner_client.post("/containers/bulk", {"action": "remove", "ids": [a, b, "gone"]}, follow=True)
    assert ("ok", "Removed 2 containers.") in messages(response)
    assert any(level == "error" and "gone" in text for level, text in messages(response))
    assert not engine.exists(a) and not engine.exists(b)


def test_bulk_goes_back_to_the_filtered_list(owner_client: Client, engine: Engine) -> None:
    cid = engine.create("keep")
    response = owner_client.post("/containers/bulk", {"action": "start", "ids": [cid],
                                                      "next": "/containers/?state=running"})
    assert response.status_code == 302 and response["Location"] == "/containers/?state=running"
    response = owner_client.post("/containers/bulk", {"action": "stop", "ids": [cid], "next": "http://evil.example/"})
    assert response["Location"] == "/containers/"


def test_detail_tabs(owner_client: Client, engine: Engine) -> None:
    cid = engine.create("tabs", start=True)
    for tab in ("overview", "logs", "terminal", "stats", "processes", "healthcheck"):
        response = owner_client.get("/containers/tabs/", {"tab": tab})
        assert response.status_code == 200, tab
    overview = owner_client.get(f"/containers/{cid[:12]}/").content.decode()
    assert cid in overview and "Raw inspect" in overview and "&quot;Id&quot;" in overview
    logs = owner_client.get("/containers/tabs/", {"tab": "logs"}).content.decode()
    assert f'data-logs data-container-id="{cid}"' in logs
    terminal = owner_client.get("/containers/tabs/", {"tab": "terminal"}).content.decode()
    assert f'data-terminal data-container-id="{cid}"' in terminal
    top = owner_client.get("/containers/tabs/", {"tab": "processes"}).content.decode()
    assert "sleep 600" in top and "PID" in top
    stats = owner_client.get("/containers/tabs/", {"tab": "stats"}).content.decode()
    assert 'data-stat="mem"' in stats


def test_lifecycle_actions(owner_client: Client, engine: Engine) -> None:
    cid = engine.create("life")
    page = f"/containers/{cid}/"

    def act(verb: str, **data: str) -> list[tuple[str, str]]:
        response = owner_client.post(page + verb, data, follow=True)
        assert response.status_code == 200
        return messages(response)

    assert ("ok", "Started life.") in act("start") and engine.state(cid) == "running"
    assert ("ok", "Paused life.") in act("pause") and engine.state(cid) == "paused"
    assert ("ok", "Resumed life.") in act("unpause") and engine.state(cid) == "running"
    assert ("ok", "Restarted life.") in act("restart") and engine.state(cid) == "running"
    assert ("ok", "Stopped life.") in act("stop") and engine.state(cid) == "exited"
    engine_start = act("start")
    assert ("ok", "Started life.") in engine_start
    assert ("ok", "Sent SIGKILL to life.") in act("kill", signal="KILL")
    assert engine.state(cid) == "exited"
    [(level, text)] = act("kill", signal="KILL")
    assert level == "error" and "can only kill running containers" in text  # the engine's message


def test_rename(owner_client: Client, engine: Engine) -> None:
    cid = engine.create("old-name")
    response = owner_client.post(f"/containers/{cid}/rename", {"new_name": "new-name"}, follow=True)
    assert ("ok", "Renamed old-name to new-name.") in messages(response)
    assert engine.exists("new-name") and not engine.exists("old-name")
    response = owner_client.post(f"/containers/{cid}/rename", {"new_name": "bad name!"}, follow=True)
    assert messages(response)[0][0] == "error" and engine.exists("new-name")


def test_commit(owner_client: Client, engine: Engine) -> None:
    cid = engine.create("snap", "sh", "-c", "echo data > /made; sleep 600", start=True)
    response = owner_client.post(f"/containers/{cid}/commit", {"image": "localhost/snap:v1", "author": "me",
                                                               "changes": "ENV COMMITTED=yes"}, follow=True)
    assert response.status_code == 200
    assert any(level == "ok" and "Committed snap as localhost/snap:v1" in text for level, text in messages(response))
    from engine.services import image_inspect

    doc = image_inspect.inspect(engine.cfg, "localhost/snap:v1")
    assert "COMMITTED=yes" in doc["Config"]["Env"] and doc["Author"] == "me"
    assert response.redirect_chain[-1][0] == f"/images/{doc['Id']}/"


def test_remove(owner_client: Client, engine: Engine) -> None:
    cid = engine.create("doomed", start=True)
    page = owner_client.get(f"/containers/{cid}/").content.decode()
    assert 'id="remove-form">' in page and 'name="force" value="on"' in page  # running: the button forces
    response = owner_client.post(f"/containers/{cid}/remove", follow=True)
    assert messages(response)[0][0] == "error" and engine.exists(cid)  # without force the engine refuses
    response = owner_client.post(f"/containers/{cid}/remove", {"force": "on"}, follow=True)
    assert ("ok", "Removed doomed.") in messages(response)
    assert response.redirect_chain[-1][0] == "/containers/" and not engine.exists(cid)


def test_healthcheck_tab_and_run_now(owner_client: Client, engine: Engine) -> None:
    from engine.spec.options import HealthConfig

    cid = engine.create("hc", start=True, healthcheck=HealthConfig(test=["CMD-SHELL", "echo checked"], interval=3600))
    page = owner_client.get(f"/containers/{cid}/", {"tab": "healthcheck"}).content.decode()
    assert "echo checked" in page and "Run now" in page
    response = owner_client.post(f"/containers/{cid}/healthcheck", follow=True)
    assert ("ok", "Healthcheck of hc: healthy.") in messages(response)
    assert response.redirect_chain[-1][0].endswith("?tab=healthcheck")
    # the monitor books the run's log in the state DB just after it answers
    from engine.services import container_inspect

    deadline = time.monotonic() + 20
    while not container_inspect.inspect(engine.cfg, [cid])[0]["State"]["Health"]["Log"]:
        assert time.monotonic() < deadline, "the healthcheck run was never logged"
        time.sleep(0.05)
    page = owner_client.get(f"/containers/{cid}/", {"tab": "healthcheck"}).content.decode()
    assert "checked" in page.split("Last runs")[1]
    plain = engine.create("nohc", start=True)
    response = owner_client.post(f"/containers/{plain}/healthcheck", follow=True)
    assert messages(response)[0][0] == "error" and "no defined healthcheck" in messages(response)[0][1]


def test_recreate_with_edited_settings(owner_client: Client, engine: Engine) -> None:
    old = engine.create("svc", "sleep", "600", start=True, env={"MODE": "old"}, labels={"keep": "me"})
    form = owner_client.get(f"/containers/{old}/recreate")
    assert form.status_code == 200
    data = form.context["form"]
    assert data["name"] == "svc" and data["env"] == "MODE=old" and data["command"] == "sleep 600"
    assert data["labels"] == "keep=me" and data["network"] == "none"
    posted = {k: ("on" if v is True else v) for k, v in data.items() if v is not False}
    posted.update(env="MODE=new", memory="32m", submit="recreate")
    response = owner_client.post(f"/containers/{old}/recreate", posted, follow=True)
    assert ("ok", "Recreated svc with the new settings.") in messages(response)
    from engine.services import container_inspect

    doc = container_inspect.inspect(engine.cfg, ["svc"])[0]
    assert doc["Id"] != old and not engine.exists(old)
    assert "MODE=new" in doc["Config"]["Env"] and doc["Config"]["Labels"]["keep"] == "me"
    assert doc["HostConfig"]["Memory"] == 32 << 20
    assert doc["State"]["Status"] == "running"  # it was running: it runs again


def test_recreate_refusal_keeps_the_old_container(owner_client: Client, engine: Engine) -> None:
    old = engine.create("stay")
    data = owner_client.get(f"/containers/{old}/recreate").context["form"]
    posted = {k: v for k, v in data.items() if v is not False and v is not True}
    posted["memory"] = "huge"
    response = owner_client.post(f"/containers/{old}/recreate", posted)
    assert response.status_code == 400 and messages(response)[0][0] == "error"
    assert engine.exists(old)


def test_unknown_container_is_404(owner_client: Client, engine: Engine) -> None:
    assert owner_client.get("/containers/nosuch/").status_code == 404
    assert owner_client.get("/containers/nosuch/recreate").status_code == 404
    assert owner_client.post("/containers/nosuch/start").status_code == 404
    cid = engine.create("real")
    assert owner_client.post(f"/containers/{cid}/explode").status_code == 404
    page = owner_client.get("/containers/nosuch/")
    assert b"Not found" in page.content and b"Traceback" not in page.content


def test_container_data_is_text(owner_client: Client, engine: Engine) -> None:
    hostile = "<script>alert(1)</script>"
    cid = engine.create("xss", labels={"evil": hostile, hostile: "key"}, env={"X": hostile})
    for url in ("/containers/", f"/containers/{cid}/", f"/containers/{cid}/recreate"):
        page = owner_client.get(url).content.decode()
        assert hostile not in page, url
    detail = owner_client.get(f"/containers/{cid}/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in detail


def test_post_without_csrf_is_refused(login_token: str, engine: Engine) -> None:
    cid = engine.create("guarded")
    client = Client(enforce_csrf_checks=True)
    assert client.get("/login", {"token": login_token}).status_code == 302
    for url, data in ((f"/containers/{cid}/start", {}), ("/containers/bulk", {"action": "remove", "ids": [cid]}),
                      ("/containers/new", {**FORM, "name": "sneaky"})):
        assert client.post(url, data).status_code == 403, url
    assert engine.state(cid) == "created" and not engine.exists("sneaky")
    # with the page's token it works
    page = client.get(f"/containers/{cid}/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert client.post(f"/containers/{cid}/start", {"csrfmiddlewaretoken": token}).status_code == 302
    assert engine.state(cid) == "running"


def test_pages_need_the_login(client: Client, engine: Engine) -> None:
    cid = engine.create("private")
    assert client.get("/containers/").status_code == 403
    assert client.post(f"/containers/{cid}/remove", {"force": "on"}).status_code == 403
    assert engine.exists(cid)
