"""Nobody gets a page without the session the login token buys."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from console import login_token as lt

PAGES = ["/", "/containers/", "/no/such/page", "/logout", "/ws/ping"]


@pytest.mark.parametrize("path", PAGES)
def test_no_page_without_login(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 403
    assert b"Log in needed" in response.content
    if path != "/":
        assert path.encode() not in response.content  # no details about what was asked


def test_post_without_login_is_refused(client: Client) -> None:
    assert client.post("/logout").status_code == 403


@pytest.mark.parametrize("token", ["wrong", "", "x" * 5000, "test-token-" + "x" * 31 + "y"])
def test_wrong_token_refused(client: Client, login_token: str, token: str) -> None:
    response = client.get("/login", {"token": token})
    assert response.status_code == 403
    assert settings.SESSION_COOKIE_NAME not in response.cookies
    assert client.get("/").status_code == 403


def test_no_token_issued_means_no_login(client: Client) -> None:
    lt.set_token(None)
    assert client.get("/login", {"token": ""}).status_code == 403
    assert client.get("/login", {"token": "None"}).status_code == 403


def test_right_token_sets_strict_httponly_cookie_and_redirects(client: Client, login_token: str) -> None:
    response = client.get("/login", {"token": login_token})
    assert response.status_code == 302
    assert response["Location"] == "/"  # the token leaves the address bar
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Strict"
    assert response["Cache-Control"] == "no-store"
    home = client.get("/")
    assert home.status_code == 200
    assert b"Overview" in home.content


def test_login_changes_the_session_key(client: Client, login_token: str) -> None:
    from importlib import import_module

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store["planted"] = True
    store.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = store.session_key  # fixation attempt
    client.get("/login", {"token": login_token})
    assert client.cookies[settings.SESSION_COOKIE_NAME].value != store.session_key


def test_logged_in_login_without_token_goes_home(owner_client: Client) -> None:
    response = owner_client.get("/login")
    assert response.status_code == 302 and response["Location"] == "/"


def test_unknown_page_for_owner_is_a_plain_404(owner_client: Client) -> None:
    response = owner_client.get("/no/such/page")
    assert response.status_code == 404
    assert b"Not found" in response.content
    assert b"Traceback" not in response.content


def test_logout_needs_csrf_then_ends_the_session(login_token: str) -> None:
    client = Client(enforce_csrf_checks=True)
    client.get("/login", {"token": login_token})
    assert client.post("/logout").status_code == 403  # no CSRF token
    assert client.get("/").status_code == 200  # still logged in
    page = client.get("/")
    csrf = page.context["csrf_token"]
    response = client.post("/logout", {"csrfmiddlewaretoken": str(csrf)})
    assert response.status_code == 302
    assert client.get("/").status_code == 403


def test_logout_rejects_get(owner_client: Client) -> None:
    assert owner_client.get("/logout").status_code == 405
