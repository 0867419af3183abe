"""Intermediate images: what `images` hides without -a.

Podman's rule (containers/common libimage `isIntermediate`): an image is
intermediate when it has no name and another image is its child -- the child's
layers (diff_ids) and history start with all of the parent's and go on.  A build
with --layers leaves such a `<none>` image per step; a `<none>` image nothing
builds on (an old build whose tag moved to a new one) is not intermediate and
stays listed.
"""

from __future__ import annotations

import json
from typing import Any

from engine.errors import HullError
from engine.services.common import image_config

Shape = tuple[tuple[str, ...], tuple[str, ...]]


def _shape(store: Any, image: Any) -> Shape | None:
    try:
        doc = image_config(store, image)
    except HullError:
        return None
    diff_ids = tuple((doc.get("rootfs") or {}).get("diff_ids") or [])
    history = tuple(json.dumps({k: h.get(k) for k in ("created", "created_by", "author", "comment", "empty_layer")},
                               sort_keys=True) for h in doc.get("history") or [] if isinstance(h, dict))
    return diff_ids, history


def _is_child(child: Shape, parent: Shape) -> bool:
    (c_layers, c_hist), (p_layers, p_hist) = child, parent
    if c_layers[: len(p_layers)] != p_layers or c_hist[: len(p_hist)] != p_hist:
        return False
    return len(c_hist) > len(p_hist) or len(c_layers) > len(p_layers)


def intermediate_ids(store: Any, images: list[Any]) -> set[str]:
    """IDs (as the store spells them) of the intermediate images among `images`."""
    dangling = [i for i in images if not i.names]
    if not dangling:
        return set()
    shapes = {i.id: _shape(store, i) for i in images}
    found = set()
    for d in dangling:
        mine = shapes[d.id]
        if mine is None:
            continue
        if any(o.id != d.id and shapes[o.id] is not None and _is_child(shapes[o.id], mine) for o in images):
            found.add(d.id)
    return found


__all__ = ["intermediate_ids"]
