"""Printing results the way Podman does: tables, JSON, Go templates, filters.

Tables follow Podman's tabwriter (containers/common report: minimum cell width
12, padding 2, last column unpadded).  `--format` takes `json`, `table` (the
default table), `table <template>` (columns from the template, headings from
the field names) or a plain Go template rendered once per item.  Templates are
parsed and rendered by engine/cli/gotemplate.py, imported only when `--format`
is given.
"""

from __future__ import annotations

import sys
TYPE_CHECKING = False  # typing costs milliseconds to import: annotations only
if TYPE_CHECKING:
    from typing import Any, Iterable, Mapping, Sequence, TextIO

from engine.errors import InvalidArgument

MIN_WIDTH = 12
PADDING = 2


# ---------------------------------------------------------------- tables
def tabulate(rows: Sequence[Sequence[str]]) -> list[str]:
    """Align cells as Go's tabwriter.NewWriter(w, 12, 2, 2, ' ', 0) does."""
    if not rows:
        return []
    ncols = max(len(r) for r in rows)
    widths = [0] * ncols
    for row in rows:
        for i, cell in enumerate(row[:-1]):  # a line's last cell is not a column
            widths[i] = max(widths[i], len(cell) + PADDING, MIN_WIDTH)
    lines = []
    for row in rows:
        parts = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])]
        parts.append(row[-1] if row else "")
        lines.append("".join(parts))
    return lines


# ---------------------------------------------------------------- --format
def format_spec(text: str | None, headers: Mapping[str, str] | None = None) -> Any:
    """None for the command's default table, else gotemplate's FormatSpec
    (kind 'json', 'table' with or without a template, or 'template')."""
    if text is None or text == "":
        return None
    from engine.cli import gotemplate

    spec = gotemplate.parse_format(text, dict(headers) if headers else None)
    if spec.kind == "table" and spec.template is None:
        return None
    return spec


def _plain(obj: Any) -> Any:
    """Record and dataclass rows become dicts for the template renderer and JSON."""
    from engine.record import Record

    if isinstance(obj, Record):
        return obj.as_dict()
    if hasattr(obj, "__dataclass_fields__"):
        from dataclasses import asdict

        return asdict(obj)
    return obj


class Printer:
    """Write formatted results; one per command invocation."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout

    def lines(self, lines: Iterable[str]) -> None:
        write = self.out.write
        for line in lines:
            write(line + "\n")

    def json(self, obj: Any) -> None:
        import json

        self.out.write(json.dumps(_plain(obj), indent=4, default=str, ensure_ascii=False) + "\n")

    def table(
        self,
        items: Sequence[Mapping[str, Any]],
        columns: Sequence[tuple[str, str]],
        noheading: bool = False,
    ) -> None:
        """The default table: `columns` are (key in each item, HEADING) pairs."""
        rows = [] if noheading else [[head for _, head in columns]]
        rows += [[_cell(item.get(key)) for key, _ in columns] for item in items]
        self.lines(tabulate(rows))

    def formatted(self, spec: Any, items: Sequence[Any], noheading: bool = False) -> None:
        """`--format`: JSON of the items, a `table <template>`, or a template per item."""
        items = [_plain(i) for i in items]
        if spec.kind == "json":
            self.json(items)
            return
        if spec.kind == "table":
            rows: list[list[str]] = []
            if not noheading:
                rows.append(spec.header_row().rstrip("\n").split("\t"))
            for item in items:
                rows.append(spec.render_row(item).rstrip("\n").split("\t"))
            self.lines(tabulate(rows))
            return
        for item in items:
            self.out.write(spec.render_row(item))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# ---------------------------------------------------------------- --filter
def parse_filters(values: Iterable[str] | None, allowed: Iterable[str] | None = None) -> dict[str, list[str]]:
    """`--filter key=value` (repeatable) -> {key: [values]}; rejects malformed ones."""
    result: dict[str, list[str]] = {}
    allowed_set = set(allowed) if allowed is not None else None
    for raw in values or ():
        key, sep, value = raw.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InvalidArgument(f'invalid filter "{raw}": must be in the format "filter=value"')
        if allowed_set is not None and key not in allowed_set:
            raise InvalidArgument(f'invalid filter "{key}"')
        result.setdefault(key, []).append(value)
    return result


def parse_bool(value: str, what: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise InvalidArgument(f"invalid {what} value {value!r}: must be true or false")
