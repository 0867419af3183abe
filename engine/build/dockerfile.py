"""Dockerfile text -> instructions.

Line handling follows Docker's parser (moby/buildkit frontend/dockerfile/parser):
parser directives (`# syntax=`, `# escape=`, `# check=`) only at the very top;
comment lines and empty lines are dropped, also in the middle of a continued
instruction; a line ending in the escape character continues on the next;
heredocs (`<<EOF`, `<<-EOF`, `<<"EOF"`) in RUN, COPY and ADD take the following
raw lines up to their terminator.  dockerfile-parse (pinned) splits lines
the same way but knows neither heredocs nor line numbers per heredoc, so the
line splitting is done here and dockerfile-parse is not needed on this path.
Instruction arguments stay text: expansion happens per step with that step's
variables (engine/build/expand.py).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from engine.errors import InvalidArgument

INSTRUCTIONS = ("ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
                "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR")
HEREDOC_INSTRUCTIONS = ("RUN", "COPY", "ADD")
_DIRECTIVE = re.compile(r"^#\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(.*?)\s*$")
_HEREDOC = re.compile(r"<<(-?)\s*(['\"]?)([A-Za-z0-9_.-]+)\2")
_FLAG = re.compile(r"^--([A-Za-z][A-Za-z0-9-]*)(?:=(.*))?$", re.S)


class DockerfileError(InvalidArgument):
    """A Dockerfile that cannot be parsed; the message names the line."""


@dataclass
class Heredoc:
    name: str
    content: str
    expand: bool          # unquoted terminator: variables are expanded


@dataclass
class Instruction:
    cmd: str                          # upper case: RUN, COPY...
    args: str                         # the text after the flags (continuations joined)
    line: int                         # 1-based line of the instruction word
    flags: dict[str, str] = field(default_factory=dict)   # --from=x -> {"from": "x"}; repeats joined by \0
    heredocs: list[Heredoc] = field(default_factory=list)
    original: str = ""                # as Podman prints it in `STEP n/m: ...`

    @property
    def exec_form(self) -> list[str] | None:
        """The JSON array form (`["a", "b"]`), else None (shell form)."""
        return json_form(self.args)

    def flag_list(self, name: str) -> list[str]:
        value = self.flags.get(name)
        return value.split("\0") if value is not None else []


@dataclass
class Dockerfile:
    instructions: list[Instruction]
    directives: dict[str, str]
    escape: str = "\\"


def json_form(text: str) -> list[str] | None:
    stripped = text.strip()
    if not stripped.startswith("["):
        return None
    try:
        doc = json.loads(stripped)
    except ValueError:
        return None
    if isinstance(doc, list) and all(isinstance(x, str) for x in doc):
        return doc
    return None


def _directives(lines: list[str]) -> tuple[dict[str, str], int]:
    found: dict[str, str] = {}
    n = 0
    for n, line in enumerate(lines):
        m = _DIRECTIVE.match(line.strip())
        if not line.strip().startswith("#") or m is None:
            return found, n
        key = m.group(1).lower()
        if key not in ("syntax", "escape", "check"):
            return found, n
        if key in found:
            raise DockerfileError(f"dockerfile parse error on line {n + 1}: only one {key} parser directive can be used")
        found[key] = m.group(2)
    return found, len(lines)


def _split_flags(rest: str) -> tuple[dict[str, str], str]:
    flags: dict[str, str] = {}
    text = rest.lstrip()
    while text.startswith("--"):
        word, _, tail = text.partition(" ")
        word_end = re.match(r"\S+", text)
        word = word_end.group(0) if word_end else word
        tail = text[len(word):]
        m = _FLAG.match(word)
        if m is None:
            break
        name, value = m.group(1), m.group(2)
        value = "true" if value is None else value
        flags[name] = flags[name] + "\0" + value if name in flags else value
        text = tail.lstrip()
    return flags, text


def parse(text: str) -> Dockerfile:
    """Parse a whole Dockerfile; DockerfileError names the line of a problem."""
    lines = text.split("\n")
    directives, first = _directives(lines)
    escape = directives.get("escape", "\\")
    if escape not in ("\\", "`"):
        raise DockerfileError(f"invalid escape token {escape!r} does not match ` or \\")
    result: list[Instruction] = []
    i = first
    while i < len(lines):
        line = lines[i].rstrip("\r")
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            i += 1
            continue
        start = i
        parts = [line]
        # continuation: an escape character at the end of the line
        while parts[-1].rstrip().endswith(escape) and i + 1 < len(lines):
            parts[-1] = parts[-1].rstrip()[:-1]
            i += 1
            while i < len(lines) and (not lines[i].strip() or lines[i].strip().startswith("#")):
                i += 1
            if i >= len(lines):
                break
            parts.append(lines[i].rstrip("\r"))
        if parts[-1].rstrip().endswith(escape) and i + 1 >= len(lines):
            parts[-1] = parts[-1].rstrip()[:-1]
        logical = "".join(parts).strip()
        i += 1
        word, _, rest = logical.partition(" ")
        if "\t" in word:
            word, _, tail = word.partition("\t")
            rest = tail + " " + rest
        cmd = word.upper()
        if cmd not in INSTRUCTIONS:
            raise DockerfileError(f"dockerfile parse error on line {start + 1}: unknown instruction: {word}")
        flags, args = _split_flags(rest)
        heredocs: list[Heredoc] = []
        if cmd in HEREDOC_INSTRUCTIONS and json_form(args) is None:
            for m in _HEREDOC.finditer(args):
                chomp, quote, name = m.group(1) == "-", m.group(2), m.group(3)
                body: list[str] = []
                while True:
                    if i >= len(lines):
                        raise DockerfileError(f"dockerfile parse error on line {start + 1}: "
                                              f"unterminated heredoc {name}")
                    raw = lines[i].rstrip("\r")
                    i += 1
                    check = raw.lstrip("\t") if chomp else raw
                    if check == name:
                        break
                    body.append(check if chomp else raw)
                heredocs.append(Heredoc(name, "\n".join(body) + "\n", expand=not quote))
        original = f"{cmd} {logical[len(word):].strip()}".rstrip()
        result.append(Instruction(cmd, args.strip(), start + 1, flags, heredocs, original))
    return Dockerfile(result, directives, escape)
