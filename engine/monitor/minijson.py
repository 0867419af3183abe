"""JSON output without the `json` package (which pulls in `re`: ~1 MB per monitor).

`dumps(obj)` for dicts, lists, tuples, str, int, float, bool and None: the monitor
writes health.json, json-file log records and attach health replies with it.
"""

from __future__ import annotations

from _json import encode_basestring_ascii as quote


def dumps(obj) -> str:
    if isinstance(obj, str):
        return quote(obj)
    if obj is None:
        return "null"
    if obj is True:
        return "true"
    if obj is False:
        return "false"
    if isinstance(obj, int):
        return int.__repr__(obj)
    if isinstance(obj, float):
        return float.__repr__(obj) if obj == obj and obj not in (float("inf"), float("-inf")) else "null"
    if isinstance(obj, dict):
        return "{" + ",".join(quote(str(k)) + ":" + dumps(v) for k, v in obj.items()) + "}"
    if isinstance(obj, (list, tuple)):
        return "[" + ",".join(dumps(v) for v in obj) + "]"
    raise TypeError(f"cannot encode {type(obj).__name__}")
