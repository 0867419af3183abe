"""systemd unit files as Quadlet reads them: ordered groups of repeated keys.

Unlike configparser: keys repeat (Environment=, Volume=), order is kept, `\\` at the
end of a line continues it, `#`/`;` start comments, and a drop-in's groups are
appended to the main file's (systemd's semantics for list keys; an empty value
resets a key, as systemd does).  Line numbers are kept for messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.errors import InvalidArgument


@dataclass
class Entry:
    key: str
    value: str
    line: int = 0
    path: str = ""  # the file the line is in (a drop-in's entries keep their own)


@dataclass
class UnitFile:
    path: str = ""
    groups: dict[str, list[Entry]] = field(default_factory=dict)

    def entries(self, group: str) -> list[Entry]:
        return self.groups.get(group, [])

    def values(self, group: str, key: str) -> list[str]:
        """Every value of `key`, an empty one clearing those before it (systemd)."""
        out: list[str] = []
        for e in self.entries(group):
            if e.key == key:
                if e.value == "":
                    out = []
                else:
                    out.append(e.value)
        return out

    def last(self, group: str, key: str, default: str = "") -> str:
        vals = [e.value for e in self.entries(group) if e.key == key]
        return vals[-1] if vals else default

    def add(self, group: str, key: str, value: str) -> None:
        self.groups.setdefault(group, []).append(Entry(key, value))

    def merge(self, other: "UnitFile") -> None:
        for group, entries in other.groups.items():
            self.groups.setdefault(group, []).extend(entries)

    def rename_group(self, old: str, new: str) -> None:
        self.groups = {(new if g == old else g): e for g, e in self.groups.items()}

    def render(self) -> str:
        out: list[str] = []
        for group, entries in self.groups.items():
            if out:
                out.append("")
            out.append(f"[{group}]")
            out += [f"{e.key}={e.value}" for e in entries]
        return "\n".join(out) + "\n"


def parse(text: str, path: str = "") -> UnitFile:
    unit = UnitFile(path=path)
    group: str | None = None
    pending = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip() if not pending else raw.rstrip()
        if not pending:
            start = number
            if not line or line[0] in "#;":
                continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = (pending + line).strip(), ""
        if line.startswith("["):
            if not line.endswith("]"):
                raise InvalidArgument(f"{path}:{start}: invalid group line {line!r}")
            group = line[1:-1]
            unit.groups.setdefault(group, [])
            continue
        key, eq, value = line.partition("=")
        if not eq or group is None:
            raise InvalidArgument(f"{path}:{start}: expected key=value in a [group], got {line!r}")
        unit.groups[group].append(Entry(key.strip(), value.strip(), start, path))
    return unit


def split_words(text: str) -> list[str]:
    """systemd's word splitting (Exec=, Environment=, PodmanArgs=): quotes and C escapes."""
    words: list[str] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t\n":
            i += 1
        if i >= n:
            break
        word, quote = [], ""
        while i < n:
            ch = text[i]
            if quote:
                if ch == quote:
                    quote = ""
                elif ch == "\\" and i + 1 < n:
                    i += 1
                    word.append({"n": "\n", "t": "\t"}.get(text[i], text[i]))
                else:
                    word.append(ch)
            elif ch in "\"'":
                quote = ch
            elif ch == "\\" and i + 1 < n:
                i += 1
                word.append(text[i])
            elif ch in " \t\n":
                break
            else:
                word.append(ch)
            i += 1
        if quote:
            raise InvalidArgument(f"unbalanced quotes in {text!r}")
        words.append("".join(word))
    return words
