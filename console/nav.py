"""The console's main navigation.

An entry becomes a link as soon as a URL with its name exists; until then it
is shown greyed out. Adding `path("containers/", ..., name="containers")`
is all the console issue needs to light one up.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    url: str | None  # None: not built yet


NAV = [
    ("Overview", "home"),
    ("Containers", "containers"),
    ("Pods", "pods"),
    ("Images", "images"),
    ("Volumes", "volumes"),
    ("Networks", "networks"),
    ("Events", "events"),
]


def nav_items() -> list[NavItem]:
    items = []
    for label, name in NAV:
        try:
            url: str | None = reverse(name)
        except NoReverseMatch:
            url = None
        items.append(NavItem(label, name, url))
    return items
