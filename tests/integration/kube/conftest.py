"""Shared by the kube tests: busybox loaded, root and rootless; the Kubernetes schema check."""

from __future__ import annotations

import functools
import json
import re
import socket

from importlib.resources import files
import jsonschema
import pytest
import yaml
from referencing import Registry, Resource


@pytest.fixture
def bb(hull_any, busybox_image):
    hull_any.load(busybox_image)
    return hull_any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def docs_of(text: str) -> list[dict]:
    return [d for d in yaml.safe_load_all(text) if d is not None]


# The Kubernetes OpenAPI schema as JSON Schema, from the kubernetes-validate package
# (pinned in the test extras).  The oldest and the newest Kubernetes it ships: a cluster
# of either accepts the YAML.  "strict" schemas refuse properties the API does not define.
SCHEMA_VERSIONS = ("1.25.0", "1.37.0")
_API = {"Pod": "v1", "Service": "v1", "Deployment": "apps/v1"}
_DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"


@functools.cache
def _validator(version: str, kind: str, api: str) -> jsonschema.Draft202012Validator:
    base = files("kubernetes_validate") / "kubernetes-json-schema" / f"v{version}-local-strict"
    schema = json.loads((base / f"{kind.lower()}-{api.replace('/', '-')}.json").read_text())  # apps/v1 -> apps-v1
    definitions = json.loads((base / "_definitions.json").read_text())
    registry = Resource.from_contents(definitions) @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.Draft202012Validator(schema, registry=registry)


def _check_pod_spec(spec: dict) -> None:
    """What the API server checks beyond the schema: DNS-label names, mounts naming volumes."""
    volumes = {v["name"] for v in spec.get("volumes") or []}
    names = [c["name"] for c in spec["containers"]]
    for name in volumes | set(names):
        assert re.fullmatch(_DNS_LABEL, name) and len(name) <= 63, name
    assert len(names) == len(set(names)), names
    for c in spec["containers"]:
        for vm in c.get("volumeMounts") or []:
            assert vm["name"] in volumes and vm["mountPath"].startswith("/"), vm


def check_schema(doc: dict) -> None:
    """Fails the test when the Kubernetes OpenAPI schema (strict) refuses `doc`."""
    kind = doc.get("kind")
    assert kind in _API and doc.get("apiVersion") == _API[kind], (kind, doc.get("apiVersion"))
    for version in SCHEMA_VERSIONS:
        errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
                  for e in _validator(version, kind, doc["apiVersion"]).iter_errors(doc)]
        assert not errors, f"Kubernetes {version} schema refuses the {kind}:\n" + "\n".join(errors)
    if kind == "Pod":
        _check_pod_spec(doc["spec"])
    elif kind == "Deployment":
        labels = doc["spec"]["template"]["metadata"]["labels"]
        assert all(labels.get(k) == v for k, v in doc["spec"]["selector"]["matchLabels"].items())
        _check_pod_spec(doc["spec"]["template"]["spec"])
