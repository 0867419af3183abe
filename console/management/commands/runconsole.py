"""`python manage.py runconsole [--host 127.0.0.1] [--port 8470] [--unix]` (what `make run` calls)."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from console.launcher import serve
from engine.errors import HullError


class Command(BaseCommand):
    help = "Serve the Hull console on a loopback address and print a one-time login URL."
    requires_system_checks: list = []  # nothing to check that the first request wouldn't show

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="127.0.0.1 (default), localhost or ::1")
        parser.add_argument("--port", type=int, default=8470, help="TCP port (0: any free port)")
        parser.add_argument("--unix", action="store_true",
                            help="also listen on $XDG_RUNTIME_DIR/hull/console.sock (0600, in a 0700 directory)")

    def handle(self, *args: Any, host: str, port: int, unix: bool = False, **options: Any) -> None:
        try:
            status = serve(host, port, out=sys.stdout, unix=unix)
        except HullError as err:
            raise CommandError(str(err)) from None
        if status:
            sys.exit(status)
