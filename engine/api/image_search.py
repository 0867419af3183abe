"""GET /images/search: Docker Hub-style search (`GET /v1/search?q=TERM&n=LIMIT`)
against the registry named in the term (`host/term`) or else the
unqualified-search-registries of registries.conf.

A registry that has no search endpoint (distribution's registry answers 404)
contributes nothing: listing /v2/_catalog is not a search, so the answer for
such registries is an empty list, never an error."""

from __future__ import annotations

from typing import Any

from engine.errors import InvalidArgument


def _registries(cfg: Any, term: str) -> tuple[list[str], str]:
    first, slash, rest = term.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return [first], rest
    from engine.registry.registries_conf import load_registries_conf

    conf = load_registries_conf(cfg.registries_conf_candidates())
    return list(conf.unqualified_search), term


def search(cfg: Any, term: str, limit: int, filters: dict[str, list[str]]) -> list[dict[str, Any]]:
    import httpx

    from engine.registry.registries_conf import load_registries_conf

    if limit < 1 or limit > 100:
        raise InvalidArgument("limit must be between 1 and 100")
    conf = load_registries_conf(cfg.registries_conf_candidates())
    hosts, query = _registries(cfg, term)
    results: list[dict[str, Any]] = []
    for host in hosts:
        api = "index.docker.io" if host == "docker.io" else host
        schemes = ("https", "http") if conf.is_insecure(host) else ("https",)
        for scheme in schemes:
            try:
                resp = httpx.get(f"{scheme}://{api}/v1/search", params={"q": query, "n": limit},
                                 timeout=10.0, verify=not conf.is_insecure(host))
            except httpx.HTTPError:
                continue
            if resp.status_code == 200:
                try:
                    found = resp.json().get("results") or []
                except ValueError:
                    found = []
                for r in found:
                    results.append(_item(host, r))
            break
    return [r for r in results if _wanted(r, filters)][:limit]


def _item(host: str, r: dict[str, Any]) -> dict[str, Any]:
    name = str(r.get("name", ""))
    if host != "docker.io":
        name = f"{host}/{name}"
    return {"description": str(r.get("description") or ""), "is_official": bool(r.get("is_official")),
            "is_automated": bool(r.get("is_automated")), "name": name,
            "star_count": int(r.get("star_count") or 0)}


def _wanted(r: dict[str, Any], filters: dict[str, list[str]]) -> bool:
    for key, values in filters.items():
        for v in values:
            if key == "stars":
                try:
                    if r["star_count"] < int(v):
                        return False
                except ValueError:
                    raise InvalidArgument(f"invalid filter 'stars={v}'") from None
            elif key == "is-official" and r["is_official"] != (v.lower() in ("true", "1")):
                return False
            elif key == "is-automated" and r["is_automated"] != (v.lower() in ("true", "1")):
                return False
            elif key not in ("stars", "is-official", "is-automated"):
                raise InvalidArgument(f"invalid filter '{key}'")
    return True
