"""Shared by the kube tests: busybox loaded, root and rootless; the minimal schema check."""

from __future__ import annotations

import socket

import pytest
import yaml


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


# Required fields per kind (the parts of the Kubernetes OpenAPI schema a cluster
# checks first): a key path -> the type its value must have.
_REQUIRED = {
    "Pod": {("apiVersion",): str, ("kind",): str, ("metadata", "name"): str, ("spec", "containers"): list},
    "Deployment": {("apiVersion",): str, ("metadata", "name"): str, ("spec", "selector", "matchLabels"): dict,
                   ("spec", "template", "metadata", "labels"): dict, ("spec", "template", "spec", "containers"): list,
                   ("spec", "replicas"): int},
    "Service": {("apiVersion",): str, ("metadata", "name"): str, ("spec", "ports"): list,
                ("spec", "selector"): dict},
}
_API = {"Pod": "v1", "Service": "v1", "Deployment": "apps/v1"}
_DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"


def _get(doc, path):
    for key in path:
        assert isinstance(doc, dict) and key in doc, f"missing {'.'.join(path)}"
        doc = doc[key]
    return doc


def _check_pod_spec(spec: dict) -> None:
    import re

    assert spec.get("restartPolicy", "Always") in ("Always", "OnFailure", "Never")
    volume_names = set()
    for v in spec.get("volumes") or []:
        assert re.fullmatch(_DNS_LABEL, v["name"]) and len(v["name"]) <= 63, v
        kinds = [k for k in v if k != "name"]
        assert len(kinds) == 1 and kinds[0] in ("hostPath", "persistentVolumeClaim", "emptyDir", "configMap",
                                                 "secret"), v
        if "hostPath" in v:
            assert v["hostPath"]["path"].startswith("/")
        volume_names.add(v["name"])
    names = set()
    for c in spec["containers"]:
        assert isinstance(c["name"], str) and re.fullmatch(_DNS_LABEL, c["name"]) and len(c["name"]) <= 63, c
        assert c["name"] not in names
        names.add(c["name"])
        assert isinstance(c["image"], str) and c["image"]
        for key in ("command", "args"):
            assert all(isinstance(a, str) for a in c.get(key, [])), c
        for e in c.get("env", []):
            assert isinstance(e["name"], str) and isinstance(e.get("value", ""), str), e
        for p in c.get("ports", []):
            assert isinstance(p["containerPort"], int) and 0 < p["containerPort"] < 65536
            assert isinstance(p.get("hostPort", 1), int)
            assert p.get("protocol", "TCP") in ("TCP", "UDP", "SCTP")
        for vm in c.get("volumeMounts", []):
            assert vm["name"] in volume_names and vm["mountPath"].startswith("/"), vm
        for kind in ("limits", "requests"):
            for key, value in (c.get("resources") or {}).get(kind, {}).items():
                assert key in ("cpu", "memory") and isinstance(value, str) and \
                    re.fullmatch(r"[0-9]+(m|Ki|Mi|Gi|Ti)?", value), (key, value)
        sc = c.get("securityContext") or {}
        assert set(sc) <= {"capabilities", "privileged", "readOnlyRootFilesystem", "runAsUser", "runAsGroup",
                           "allowPrivilegeEscalation"}, sc
        for cap in (sc.get("capabilities") or {}).get("add", []) + (sc.get("capabilities") or {}).get("drop", []):
            assert isinstance(cap, str) and cap.isupper()
        probe = c.get("livenessProbe")
        if probe:
            assert all(isinstance(a, str) for a in probe["exec"]["command"])
            for key in ("periodSeconds", "timeoutSeconds", "failureThreshold", "initialDelaySeconds"):
                assert isinstance(probe.get(key, 1), int) and probe.get(key, 1) >= 0


def check_schema(doc: dict) -> None:
    """Fails the test when `doc` lacks what a cluster requires of its kind."""
    kind = doc.get("kind")
    assert kind in _REQUIRED, f"unexpected kind {kind}"
    assert doc["apiVersion"] == _API[kind]
    for path, typ in _REQUIRED[kind].items():
        assert isinstance(_get(doc, path), typ), f"{kind}: {'.'.join(path)} is not a {typ.__name__}"
    if kind == "Pod":
        _check_pod_spec(doc["spec"])
    elif kind == "Deployment":
        labels = doc["spec"]["template"]["metadata"]["labels"]
        assert all(labels.get(k) == v for k, v in doc["spec"]["selector"]["matchLabels"].items())
        assert doc["spec"]["template"]["spec"].get("restartPolicy", "Always") == "Always"
        _check_pod_spec(doc["spec"]["template"]["spec"])
    else:
        assert doc["spec"].get("type", "ClusterIP") in ("ClusterIP", "NodePort", "LoadBalancer")
        for p in doc["spec"]["ports"]:
            assert isinstance(p["port"], int) and isinstance(p.get("name", ""), str)
