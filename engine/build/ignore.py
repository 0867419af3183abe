"""`.dockerignore` / `.containerignore` patterns, with Docker's rules
(github.com/moby/patternmatcher): one pattern a line, `#` comments, surrounding
white space trimmed, the pattern cleaned as a path and a leading `/` dropped;
`*` and `?` never match `/`, `**` matches any number of directories (also none),
`[...]` classes, `\\` escapes; `!pattern` re-includes what an earlier pattern
excluded.  The last matching pattern decides, and a path is also excluded when
one of its parent directories is (unless a later `!` pattern matches it).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from engine.errors import InvalidArgument


@dataclass(frozen=True)
class Pattern:
    text: str
    exclusion: bool
    regex: re.Pattern[str]


def _compile(pattern: str) -> re.Pattern[str]:
    out = ["^"]
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "*":
            if i + 1 < n and pattern[i + 1] == "*":
                i += 1
                while i + 1 < n and pattern[i + 1] == "*":
                    i += 1
                if i + 1 < n and pattern[i + 1] == "/":
                    i += 1
                    out.append("(.*/)?")          # `**/`: zero or more directories
                else:
                    out.append(".*")
            else:
                out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "\\":
            if i + 1 >= n:
                raise InvalidArgument(f"syntax error in pattern {pattern!r}")
            i += 1
            out.append(re.escape(pattern[i]))
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                raise InvalidArgument(f"syntax error in pattern {pattern!r}")
            body = pattern[i + 1:end]
            if body.startswith("!") or body.startswith("^"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end
        else:
            out.append(re.escape(ch))
        i += 1
    out.append("$")
    return re.compile("".join(out), re.S)


def parse_patterns(text: str) -> list[Pattern]:
    patterns = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exclusion = line.startswith("!")
        if exclusion:
            line = line[1:].strip()
        if not line:
            continue
        cleaned = posixpath.normpath(line)
        if cleaned.startswith("/"):
            cleaned = cleaned.lstrip("/") or "."
        patterns.append(Pattern(line, exclusion, _compile(cleaned)))
    return patterns


class IgnoreMatcher:
    """`excluded("dir/file")` for slash-separated paths relative to the context."""

    def __init__(self, patterns: list[Pattern]) -> None:
        self.patterns = patterns

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def excluded(self, path: str) -> bool:
        path = posixpath.normpath(path.lstrip("/"))
        if path == ".":
            return False
        parents = []
        parent = posixpath.dirname(path)
        while parent:
            parents.append(parent)
            parent = posixpath.dirname(parent)
        matched = False
        for p in self.patterns:
            hit = bool(p.regex.match(path)) or any(p.regex.match(d) for d in parents)
            if hit:
                matched = not p.exclusion
        return matched

    def may_hold_included(self, directory: str) -> bool:
        """Could the excluded `directory` still hold a re-included path?  (Then it
        must be walked rather than skipped whole.)  True when a `!` pattern starts
        with the directory's path or with a wildcard."""
        prefix = directory.strip("/") + "/"
        for p in self.patterns:
            if p.exclusion:
                text = p.text.lstrip("/")
                if text.startswith(prefix) or text[:1] in "*?[":
                    return True
        return False
