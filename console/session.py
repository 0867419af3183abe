"""What "logged in" means: one flag in the server-side session.

There are no user accounts: the console belongs to the Unix user who started
it, and holding the login token proves you are (or act for) that user.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.middleware.csrf import rotate_token

SESSION_FLAG = "hull_console_owner"


def is_logged_in(session: Any) -> bool:
    return session.get(SESSION_FLAG) is True


def log_in(request: HttpRequest) -> None:
    # New session key and CSRF token: nothing chosen before login survives it.
    request.session.cycle_key()
    request.session[SESSION_FLAG] = True
    rotate_token(request)


def log_out(request: HttpRequest) -> None:
    request.session.flush()
