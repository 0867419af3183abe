"""Django settings for the Hull console.

Secure by default: the console runs as its user on a loopback address, and
anyone else on the machine can reach that address, so every page and socket
needs the session that only the login token buys (see console/login_token.py).

Importing this module has no side effects on disk: tests and `manage.py`
import it freely.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

# A fresh key at every start: sessions and CSRF tokens from an earlier run die
# with it, and no key ever sits in a file or in git.
SECRET_KEY = secrets.token_urlsafe(50)

DEBUG = os.environ.get("HULL_CONSOLE_DEBUG") == "1"

# Only local names: a DNS-rebound name (evil.example -> 127.0.0.1) gets 400.
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

INSTALLED_APPS = ["console"]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "console.middleware.security_headers.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "console.middleware.login_required.LoginRequiredMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
]

ROOT_URLCONF = "console.urls"
ASGI_APPLICATION = "console.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {
            "autoescape": True,
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csrf",
                "console.context_processors.console",
            ],
        },
    }
]

# No database. Sessions live in this process's memory: they need no file,
# die with the process (as the token does), and logout really revokes them
# (a signed-cookie session would stay valid until it expires). Daphne runs one
# process, so one in-memory cache is the whole truth.
DATABASES: dict = {}
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "hull-console",
        "OPTIONS": {"MAX_ENTRIES": 1000},
    }
}
SESSION_ENGINE = "django.contrib.sessions.backends.cache"
SESSION_COOKIE_NAME = "hull_console"  # the launcher appends the port: consoles on two ports don't clash
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Strict"
SESSION_COOKIE_SECURE = False  # plain http on loopback; a unix socket comes later
SESSION_COOKIE_AGE = 24 * 3600
SESSION_SAVE_EVERY_REQUEST = True  # sliding expiry: a day after the last request

# CSRF on every POST; the token lives in the server-side session, not a cookie.
CSRF_USE_SESSIONS = True
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Strict"
CSRF_FAILURE_VIEW = "console.views.errors.csrf_failure"  # our 403 page: Django's has inline styles

SECURE_CONTENT_TYPE_NOSNIFF = True
# same-origin, not no-referrer: under no-referrer browsers send `Origin: null` with
# every form POST (Fetch spec), and Django's CSRF origin check then refuses them all.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Django 5.2 has no CSP of its own; console.middleware.security_headers sends this,
# adding the websocket origin of the request's (validated) host to connect-src.
HULL_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; base-uri 'none'; object-src 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)

STATIC_URL = "/static/"
HULL_STATIC_DIR = BASE_DIR / "static"

USE_I18N = False
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"

# Warnings and errors to stderr; requests are never logged with their query
# string (the login URL carries the token).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {
        "django": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
        "daphne": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
        "console": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}
