"""Flags shared by the commands that talk to a registry (pull, push, login)."""

from __future__ import annotations

import argparse

from engine.cli.parser import HullParser


def add_registry_flags(p: HullParser, creds: bool = True) -> None:
    p.add_argument("--authfile", metavar="string", help="path of the authentication file")
    if creds:
        p.add_argument("--creds", metavar="[username[:password]]",
                       help="Credentials (USERNAME:PASSWORD) to use for authenticating to a registry")
    p.add_bool("--tls-verify", dest="tls_verify", default=None,
               help="Require HTTPS and verify certificates when contacting registries (default true)")
    p.add_argument("--cert-dir", metavar="Pathname", help=argparse.SUPPRESS)


def creds_with_prompt(text: str | None) -> str | None:
    """`--creds user` without a password asks for it, as Podman does."""
    if text is None or ":" in text:
        return text
    import getpass

    return f"{text}:{getpass.getpass('Password: ')}"


def registry_or_default(cfg, registry: str | None) -> str:
    """login/logout without REGISTRY: the first unqualified-search registry, as Podman's
    auth package does, else its error."""
    if registry:
        return registry
    from engine.errors import InvalidArgument
    from engine.registry.registries_conf import load_registries_conf

    search = load_registries_conf(cfg.registries_conf_candidates()).unqualified_search
    if not search:
        raise InvalidArgument("no registries found in registries.conf, a registry must be provided")
    return search[0]
