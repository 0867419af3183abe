"""Variable expansion and word splitting in Dockerfile arguments, as Docker's
shell lexer (moby/buildkit frontend/dockerfile/shell/lex.go) does it.

- Outside quotes the escape character (`\\` or the `# escape=` one) makes the
  next character literal; inside single quotes nothing is special; inside double
  quotes the escape character only escapes `"`, `$` and itself.
- `$NAME`, `${NAME}`, `${NAME:-word}`, `${NAME-word}`, `${NAME:+word}`,
  `${NAME+word}`, `${NAME:?message}`, `${NAME?message}`, and BuildKit's
  `${NAME#pat}`, `${NAME##pat}`, `${NAME%pat}`, `${NAME%%pat}`, `${NAME/pat/rep}`.
  Unset names expand to "" (a `$` not followed by a name stays a `$`).
- Quotes are removed; words split at unquoted white space (`words`).
"""

from __future__ import annotations

import fnmatch
import re
from typing import Mapping

from engine.errors import InvalidArgument

_NAME_START = re.compile(r"[A-Za-z_]")


class _Lexer:
    def __init__(self, text: str, env: Mapping[str, str], escape: str) -> None:
        self.s = text
        self.i = 0
        self.env = env
        self.escape = escape

    def peek(self) -> str:
        return self.s[self.i] if self.i < len(self.s) else ""

    def next(self) -> str:
        ch = self.peek()
        self.i += 1 if ch else 0
        return ch

    # one word list (split=True) or one string (split=False)
    def run(self, split: bool) -> list[str]:
        words: list[str] = []
        cur: list[str] = []
        in_word = False
        while self.i < len(self.s):
            ch = self.peek()
            if split and ch in " \t\r\n":
                self.i += 1
                if in_word:
                    words.append("".join(cur))
                    cur, in_word = [], False
                continue
            in_word = True
            if ch == self.escape:
                self.i += 1
                nxt = self.next()
                cur.append(nxt if nxt else ch)
            elif ch == "'":
                self.i += 1
                cur.append(self._single())
            elif ch == '"':
                self.i += 1
                cur.append(self._double())
            elif ch == "$":
                self.i += 1
                cur.append(self._dollar())
            else:
                self.i += 1
                cur.append(ch)
        if in_word or not split:
            words.append("".join(cur))
        return words

    def _single(self) -> str:
        end = self.s.find("'", self.i)
        if end < 0:
            raise InvalidArgument("unexpected end of statement while looking for matching single-quote")
        out = self.s[self.i:end]
        self.i = end + 1
        return out

    def _double(self) -> str:
        out: list[str] = []
        while True:
            ch = self.next()
            if not ch:
                raise InvalidArgument("unexpected end of statement while looking for matching double-quote")
            if ch == '"':
                return "".join(out)
            if ch == self.escape:
                nxt = self.peek()
                if nxt in ('"', "$", self.escape):
                    out.append(self.next())
                else:
                    out.append(ch)
            elif ch == "$":
                out.append(self._dollar())
            else:
                out.append(ch)

    def _name(self) -> str:
        start = self.i
        while self.i < len(self.s) and (self.s[self.i].isalnum() or self.s[self.i] == "_"):
            self.i += 1
        return self.s[start:self.i]

    def _dollar(self) -> str:
        ch = self.peek()
        if ch == "{":
            self.i += 1
            return self._braced()
        if ch and _NAME_START.match(ch):
            return self.env.get(self._name(), "")
        if ch.isdigit():  # positional parameters are always empty here
            self.i += 1
            return ""
        return "$"

    def _word_until_brace(self) -> str:
        """The `word` of `${NAME:-word}`: itself expanded, up to the closing brace."""
        out: list[str] = []
        depth = 0
        while True:
            ch = self.peek()
            if not ch:
                raise InvalidArgument("syntax error: missing '}'")
            if ch == "}" and depth == 0:
                self.i += 1
                return "".join(out)
            self.i += 1
            if ch == self.escape:
                out.append(self.next())
            elif ch == "$":
                out.append(self._dollar())
            elif ch == "'":
                out.append(self._single())
            elif ch == '"':
                out.append(self._double())
            else:
                depth += ch == "{"
                depth -= ch == "}"
                out.append(ch)

    def _braced(self) -> str:
        name = self._name()
        if not name:
            raise InvalidArgument(f"syntax error: bad substitution in {self.s!r}")
        ch = self.next()
        value = self.env.get(name)
        if ch == "}":
            return value or ""
        if ch == ":":
            op = self.next()
            word = self._word_until_brace()
            if op == "-":
                return value if value else word
            if op == "+":
                return word if value else ""
            if op == "?":
                if not value:
                    raise InvalidArgument(f"{name}: {word or 'parameter null or not set'}")
                return value
            raise InvalidArgument(f"unsupported modifier (:{op}) in substitution")
        if ch in "-+?":
            word = self._word_until_brace()
            if ch == "-":
                return word if value is None else value
            if ch == "+":
                return "" if value is None else word
            if value is None:
                raise InvalidArgument(f"{name}: {word or 'parameter not set'}")
            return value
        if ch in "#%":
            longest = self.peek() == ch
            if longest:
                self.i += 1
            pattern = self._word_until_brace()
            return _trim(value or "", pattern, prefix=ch == "#", longest=longest)
        if ch == "/":
            rest = self._word_until_brace()
            pattern, _, replacement = rest.partition("/")
            return _replace(value or "", pattern, replacement)
        raise InvalidArgument(f"unsupported modifier ({ch}) in substitution")


def _trim(value: str, pattern: str, prefix: bool, longest: bool) -> str:
    sizes = range(len(value), -1, -1) if longest else range(0, len(value) + 1)
    for n in sizes:
        part = value[:n] if prefix else value[len(value) - n:]
        if fnmatch.fnmatchcase(part, pattern):
            return value[n:] if prefix else value[:len(value) - n]
    return value


def _replace(value: str, pattern: str, replacement: str) -> str:
    for start in range(len(value)):
        for end in range(len(value), start, -1):
            if fnmatch.fnmatchcase(value[start:end], pattern):
                return value[:start] + replacement + value[end:]
    return value


def expand(text: str, env: Mapping[str, str], escape: str = "\\") -> str:
    """One word: variables expanded, quotes and escapes removed, spaces kept."""
    return _Lexer(text, env, escape).run(split=False)[0]


def words(text: str, env: Mapping[str, str] | None = None, escape: str = "\\") -> list[str]:
    """White-space separated words, each expanded (no expansion with env=None
    is not offered: pass {} to only dequote)."""
    return _Lexer(text, env or {}, escape).run(split=True)


def split_raw(text: str, escape: str = "\\") -> list[str]:
    """Split at unquoted white space keeping quotes and escapes (for KEY=VALUE
    pairs that are expanded one by one afterwards)."""
    out: list[str] = []
    cur: list[str] = []
    quote = ""
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            cur.append(ch)
            if ch == escape and quote == '"' and i + 1 < len(text):
                cur.append(text[i + 1])
                i += 1
            elif ch == quote:
                quote = ""
        elif ch == escape and i + 1 < len(text):
            cur.append(ch + text[i + 1])
            i += 1
        elif ch in "'\"":
            quote = ch
            cur.append(ch)
        elif ch in " \t\r\n":
            if cur:
                out.append("".join(cur))
                cur = []
        else:
            cur.append(ch)
        i += 1
    if quote:
        raise InvalidArgument(f"unexpected end of statement while looking for matching {quote}")
    if cur:
        out.append("".join(cur))
    return out


_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


def expand_vars(text: str, env: Mapping[str, str]) -> str:
    """Only `$NAME`/`${NAME}` replaced (heredoc bodies: quotes stay as written)."""
    return _VAR.sub(lambda m: env.get(m.group(1) or m.group(2), ""), text)
