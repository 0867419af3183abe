"""Host checking (DNS rebinding), CSP and the other headers, static files."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.mark.parametrize("host", ["evil.example", "127.0.0.1.evil.example", "localhost.evil:8470", "10.0.0.1:8470"])
def test_foreign_host_header_is_400(client: Client, login_token: str, host: str) -> None:
    assert client.get("/", HTTP_HOST=host).status_code == 400
    # not even the login link works through a rebound name
    response = client.get("/login", {"token": login_token}, HTTP_HOST=host)
    assert response.status_code == 400
    assert not response.cookies


@pytest.mark.parametrize("host", ["127.0.0.1:8470", "localhost:8470", "[::1]:8470", "localhost"])
def test_local_host_names_are_served(owner_client: Client, host: str) -> None:
    assert owner_client.get("/", HTTP_HOST=host).status_code == 200


@pytest.mark.parametrize("path", ["/", "/login", "/static/console/css/console.css"])
def test_security_headers_on_every_response(owner_client: Client, path: str) -> None:
    response = owner_client.get(path, HTTP_HOST="127.0.0.1:8470")
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "connect-src 'self' ws://127.0.0.1:8470" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"  # no-referrer would make form POSTs Origin: null
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"


def test_headers_on_refusals_too(client: Client) -> None:
    for response in (client.get("/"), client.get("/", HTTP_HOST="evil.example")):
        assert "default-src 'self'" in response["Content-Security-Policy"]
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"


def test_static_files_are_open_and_typed(client: Client) -> None:
    response = client.get("/static/console/js/live.js")
    assert response.status_code == 200
    assert "javascript" in response["Content-Type"]


@pytest.mark.parametrize(
    "path", ["/static/../console/settings.py", "/static/console/../../console/settings.py", "/static//etc/passwd", "/static/console/nope.css"]
)
def test_static_cannot_leave_static_dir(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code in (403, 404)  # `..` before /static/ is normalised away by the client
    assert b"SECRET_KEY" not in response.content and b"root:" not in response.content
