"""Reading and writing Kubernetes YAML for `kube play` / `kube generate`.

The input of `kube play` may be hostile: it is read with PyYAML's safe loader
only (libyaml when available), capped in bytes, and every document's node graph
is measured *as expanded* before it is constructed -- safe_load would happily
build a "billion laughs" alias graph whose first walk never ends.  Names that
become Hull object names or file names are checked here too.
"""

from __future__ import annotations

import re
from typing import Any

from engine.errors import InvalidArgument

MAX_BYTES = 8 * 1024 * 1024         # a whole file (Kubernetes caps one object at 1.5 MiB)
MAX_NODES = 500_000                 # expanded scalars + collections over all documents
MAX_DEPTH = 64                      # nesting; Kubernetes objects are a few levels deep

# Kubernetes: DNS-1123 subdomain for object names; we also accept '_' and capitals
# (Podman's names) but never a path separator or a leading dot.
NAME_RE = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")
# ConfigMap/Secret keys (Kubernetes: [-._a-zA-Z0-9]+), used as file names in volumes.
KEY_RE = re.compile(r"[-._a-zA-Z0-9]+")

HEADER = ("# Save the output of this file and use kubectl create -f to import\n"
          "# it into Kubernetes.\n#\n# Created with hull-{version}\n")


def check_name(name: Any, what: str) -> str:
    if not isinstance(name, str) or not name:
        raise InvalidArgument(f"{what}: a name is required")
    if len(name) > 253 or not NAME_RE.fullmatch(name):
        raise InvalidArgument(f"{what} name {name!r} is invalid: it must match [a-zA-Z0-9][a-zA-Z0-9_.-]* "
                              "(no path separators)")
    return name


def check_key(key: Any, what: str) -> str:
    if not isinstance(key, str) or not KEY_RE.fullmatch(key) or key in (".", ".."):
        raise InvalidArgument(f"{what}: key {key!r} is invalid: it must match [-._a-zA-Z0-9]+")
    return key


def check_relpath(path: Any, what: str) -> str:
    """A relative path below a volume (items[].path, subPath): no '..', not absolute."""
    if not isinstance(path, str) or not path or path.startswith("/") or len(path) > 4096:
        raise InvalidArgument(f"{what}: path {path!r} must be a relative path")
    parts = path.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise InvalidArgument(f"{what}: path {path!r} must not contain '..' or empty elements")
    return path


def _loader_class() -> Any:
    import yaml

    return getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader


def _expanded_size(root: Any) -> int:
    """Nodes in the document as it would be constructed (aliases counted each time they
    are used), computed over the shared graph with memoisation, so it is fast even for
    a YAML bomb.  Raises on nesting beyond MAX_DEPTH (and on alias cycles)."""
    import yaml

    sizes: dict[int, int] = {}
    # iterative post-order walk: (node, depth, children-done)
    stack: list[tuple[Any, int, bool]] = [(root, 0, False)]
    on_path: set[int] = set()
    while stack:
        node, depth, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            if isinstance(node, yaml.SequenceNode):
                kids = node.value
            elif isinstance(node, yaml.MappingNode):
                kids = [n for pair in node.value for n in pair]
            else:
                kids = []
            total = 1 + sum(sizes[id(k)] for k in kids)
            sizes[key] = min(total, MAX_NODES + 1)
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise InvalidArgument("YAML document is recursive (an alias refers to its own ancestor)")
        if depth > MAX_DEPTH:
            raise InvalidArgument(f"YAML document is nested more than {MAX_DEPTH} levels deep")
        on_path.add(key)
        stack.append((node, depth, True))
        if isinstance(node, yaml.SequenceNode):
            kids = node.value
        elif isinstance(node, yaml.MappingNode):
            kids = [n for pair in node.value for n in pair]
        else:
            kids = []
        for kid in kids:
            if id(kid) not in sizes:
                stack.append((kid, depth + 1, False))
    return sizes[id(root)]


def load_documents(data: bytes | str, source: str = "", nodes: list[Any] | None = None) -> list[Any]:
    """Every document of a (multi-document) YAML text, safely; empty documents dropped.
    `nodes` receives each kept document's node graph (for line_of)."""
    import yaml

    if isinstance(data, str):
        data = data.encode()
    if len(data) > MAX_BYTES:
        raise InvalidArgument(f"{source or 'YAML input'} is larger than {MAX_BYTES // (1024 * 1024)} MiB: refused")
    loader = _loader_class()(data)
    docs: list[Any] = []
    total = 0
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            total += _expanded_size(node)
            if total > MAX_NODES:
                raise InvalidArgument(f"YAML document has more than {MAX_NODES} nodes once aliases are expanded: "
                                      "refused")
            doc = loader.construct_document(node)
            if doc is not None:
                docs.append(doc)
                if nodes is not None:
                    nodes.append(node)
    except yaml.YAMLError as exc:
        raise InvalidArgument(f"multi doc yaml could not be split: {_yaml_error(exc)}") from None
    except RecursionError:
        raise InvalidArgument(f"YAML document is nested more than {MAX_DEPTH} levels deep") from None
    finally:
        loader.dispose()
    return docs


def line_of(node: Any, path: tuple = ()) -> int:
    """1-based line of the value at `path` (mapping keys, list indexes) in a document's
    node graph; where the path stops matching, the line of the deepest node found."""
    import yaml

    for step in path:
        nxt = None
        if isinstance(node, yaml.MappingNode) and isinstance(step, str):
            nxt = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == step), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
            nxt = node.value[step]
        if nxt is None:
            break
        node = nxt
    return node.start_mark.line + 1


def located(source: str, line: int, message: str) -> InvalidArgument:
    """'FILE:LINE: message' (stdin for '-'), so a bad field is found in the file."""
    name = "stdin" if source == "-" else source
    return InvalidArgument(f"{name}:{line}: {message}" if name else f"line {line}: {message}")


def _yaml_error(exc: Exception) -> str:
    """One line: 'yaml: line N: problem' as Go's yaml package words it."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or str(exc)
    text = " ".join(str(problem).split())
    if mark is not None:
        return f"yaml: line {mark.line + 1}: {text}"
    return f"yaml: {text}"


def dump_documents(docs: list[dict], version: str) -> str:
    """Podman's layout: the header comment, documents joined by '---', keys sorted
    (sigs.k8s.io/yaml goes through JSON maps), block style."""
    import yaml

    class Dumper(yaml.SafeDumper):
        def choose_scalar_style(self) -> str:  # "80" as Go's yaml quotes it, not '80'
            style = super().choose_scalar_style()
            return '"' if style == "'" else style

    parts = [yaml.dump(d, Dumper=Dumper, default_flow_style=False, sort_keys=True, width=10_000) for d in docs]
    return HEADER.format(version=version) + "---\n".join(parts)
