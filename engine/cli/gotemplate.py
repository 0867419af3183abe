"""Go text/template for `--format`, as Podman and Docker evaluate it.

Compile once with `compile_template(text)` (or `parse_format` for a CLI flag),
then `render(data)` many times.  Data are dicts, lists, scalars and objects
with attributes.  Only `re` and `json` are imported: this is on the
`hull images` hot path.

Field lookup: a dict is a Go map (missing key -> zero value: "" when every
value is a string, like map[string]string, else <no value>) unless its keys are
all Go-exported names (an upper-case first letter): then it stands for a
struct and a missing upper-case field is an error, as in Podman.  Objects are
structs: `.RepoTags` also finds the attribute `repo_tags`.
"""

from __future__ import annotations

import json
import re

from engine.errors import InvalidArgument

__all__ = ["Template", "FormatSpec", "compile_template", "parse_format", "go_str", "header_for"]

NAME = "format"


class _Missing:
    """Go's <no value>: the result of a map lookup that found nothing."""

    __slots__ = ()

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "<no value>"


MISSING = _Missing()


# ---------------------------------------------------------------- lexing

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<str>"(?:[^"\\\n]|\\.)*")
  | (?P<raw>`[^`]*`)
  | (?P<char>'(?:[^'\\\n]|\\.)+')
  | (?P<num>[+-]?(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|\d[\d_]*\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?))
  | (?P<var>\$[A-Za-z0-9_]*)
  | (?P<field>(?:\.[A-Za-z_][A-Za-z0-9_]*)+)
  | (?P<dot>\.)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<decl>:=)
  | (?P<assign>=)
  | (?P<op>[|(),])
    """,
    re.VERBOSE,
)
_CHAIN_RE = re.compile(r"(?:\.[A-Za-z_][A-Za-z0-9_]*)+")
_COMMENT_RE = re.compile(r"/\*.*?\*/", re.S)


class _Tok:
    __slots__ = ("kind", "value", "pos", "adjacent")

    def __init__(self, kind: str, value: str, pos: int, adjacent: bool) -> None:
        self.kind = kind
        self.value = value
        self.pos = pos
        self.adjacent = adjacent  # no space before it (for `(x).Field`)


def _error(src: str, pos: int, message: str) -> InvalidArgument:
    line = src.count("\n", 0, pos) + 1
    return InvalidArgument(f"template: {NAME}:{line}: {message}")


def _lex(src: str) -> list:
    """Split into text pieces (str) and actions (list of _Tok), trims applied."""
    items: list = []
    pos = 0
    trim_next = False
    n = len(src)
    while pos < n:
        start = src.find("{{", pos)
        if start < 0:
            text = src[pos:]
            items.append(text.lstrip() if trim_next else text)
            break
        text = src[pos:start]
        if trim_next:
            text = text.lstrip()
        i = start + 2
        if src.startswith("-", i) and i + 1 < n and src[i + 1] in " \t\r\n":
            text = text.rstrip()
            i += 2
        if text:
            items.append(text)
        toks, pos, trim_next = _lex_action(src, i, start)
        if toks is not None:
            items.append(toks)
    return items


def _lex_action(src: str, i: int, start: int):
    # a comment fills the whole action
    j = i
    while j < len(src) and src[j] in " \t\r\n":
        j += 1
    if src.startswith("/*", j):
        m = _COMMENT_RE.match(src, j)
        if not m:
            raise _error(src, start, "unclosed comment")
        k = m.end()
        if src.startswith(" -}}", k):
            return None, k + 4, True
        if src.startswith("}}", k):
            return None, k + 2, False
        raise _error(src, start, "comment ends before closing delimiter")
    toks: list[_Tok] = []
    adjacent = True
    while True:
        if i >= len(src):
            raise _error(src, start, "unclosed action")
        if src.startswith("}}", i):
            return toks, i + 2, False
        m = _TOKEN_RE.match(src, i)
        if m is None:
            raise _error(src, i, f"unexpected {src[i]!r} in command")
        kind = m.lastgroup
        if kind == "ws":
            if src.startswith("-}}", m.end()):
                return toks, m.end() + 3, True
            adjacent = False
            i = m.end()
            continue
        toks.append(_Tok(kind, m.group(), i, adjacent))
        adjacent = True
        i = m.end()


# ---------------------------------------------------------------- parsing
# Nodes are tuples; the first item names the kind.

_KEYWORDS = {"if", "else", "end", "range", "with", "break", "continue", "define", "template", "block"}


class _Parser:
    def __init__(self, src: str) -> None:
        self.src = src
        self.items = _lex(src)
        self.i = 0

    def parse(self) -> list:
        nodes, term = self.parse_list()
        if term is not None:
            raise _error(self.src, term[1][0].pos, f"unexpected {{{{{term[0]}}}}}")
        return nodes

    def parse_list(self):
        """Nodes up to an {{end}} or {{else ...}}: returns (nodes, (keyword, toks) | None)."""
        nodes: list = []
        while self.i < len(self.items):
            item = self.items[self.i]
            self.i += 1
            if isinstance(item, str):
                nodes.append(("text", item))
                continue
            if not item:
                raise _error(self.src, 0, "missing value for command")
            head = item[0]
            if head.kind == "ident" and head.value in _KEYWORDS:
                kw = head.value
                if kw in ("end", "else"):
                    return nodes, (kw, item)
                if kw in ("if", "with", "range"):
                    nodes.append(self.parse_block(kw, item[1:], item))
                elif kw in ("break", "continue"):
                    nodes.append((kw,))
                else:
                    raise _error(self.src, head.pos, f"{{{{{kw}}}}} is not supported")
                continue
            nodes.append(("action", self.parse_pipeline(item, 0, len(item), decl_ok=True)))
        return nodes, None

    def parse_block(self, kw: str, toks: list, whole: list):
        if not toks:
            raise _error(self.src, whole[0].pos, f"missing value for {kw}")
        pipe = self.parse_pipeline(toks, 0, len(toks), decl_ok=True, range_ok=(kw == "range"))
        body, term = self.parse_list()
        if term is None:
            raise _error(self.src, whole[0].pos, "unexpected EOF")
        else_body: list = []
        if term[0] == "else":
            rest = term[1][1:]
            if rest and rest[0].kind == "ident" and rest[0].value in ("if", "with"):
                # {{else if x}} nests an if that shares our {{end}}
                else_body = [self.parse_block(rest[0].value, rest[1:], term[1])]
            elif rest:
                raise _error(self.src, rest[0].pos, "unexpected tokens after else")
            else:
                else_body, term2 = self.parse_list()
                if term2 is None or term2[0] != "end":
                    raise _error(self.src, whole[0].pos, "expected end")
        return (kw, pipe, body, else_body)

    def parse_pipeline(self, toks, i, end, decl_ok=False, range_ok=False):
        decl: list[str] = []
        assign = False
        # `$x :=`, `$x =`, `$k, $v :=` (two names only in range)
        if decl_ok and i < end and toks[i].kind == "var":
            if i + 1 < end and toks[i + 1].kind in ("decl", "assign"):
                decl, assign = [toks[i].value], toks[i + 1].kind == "assign"
                i += 2
            elif (range_ok and i + 3 < end and toks[i + 1].value == "," and toks[i + 2].kind == "var"
                  and toks[i + 3].kind == "decl"):
                decl = [toks[i].value, toks[i + 2].value]
                i += 4
        if i >= end:
            raise _error(self.src, toks[i - 1].pos if toks else 0, "missing value for command")
        cmds = []
        while True:
            cmd, i = self.parse_command(toks, i, end)
            cmds.append(cmd)
            if i >= end:
                break
            if toks[i].value == "|":
                i += 1
                if i >= end:
                    raise _error(self.src, toks[i - 1].pos, "missing command after |")
                continue
            raise _error(self.src, toks[i].pos, f"unexpected {toks[i].value!r} in command")
        return ("pipe", decl, assign, cmds)

    def parse_command(self, toks, i, end):
        args = []
        while i < end and toks[i].value not in ("|", ")"):
            node, i = self.parse_operand(toks, i, end)
            args.append(node)
        if not args:
            pos = toks[i].pos if i < end else (toks[-1].pos if toks else 0)
            raise _error(self.src, pos, "missing value for command")
        return args, i

    def parse_operand(self, toks, i, end):
        t = toks[i]
        k = t.kind
        if k == "field":
            node = ("field", None, t.value[1:].split("."), t.pos)
        elif k == "dot":
            node = ("dot",)
        elif k == "var":
            node = ("var", t.value, t.pos)
        elif k in ("str", "raw", "char", "num"):
            node = ("const", _literal(self.src, t))
        elif k == "ident":
            if t.value in ("true", "false"):
                node = ("const", t.value == "true")
            elif t.value == "nil":
                node = ("const", None)
            elif t.value in _KEYWORDS:
                raise _error(self.src, t.pos, f"unexpected {t.value} in operand")
            else:
                if t.value not in FUNCS and t.value not in ("and", "or"):
                    raise _error(self.src, t.pos, f'function "{t.value}" not defined')
                node = ("func", t.value, t.pos)
        elif t.value == "(":
            depth, j = 0, i
            while j < end:
                if toks[j].value == "(":
                    depth += 1
                elif toks[j].value == ")":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            else:
                raise _error(self.src, t.pos, "unclosed left paren")
            node = ("paren", self.parse_pipeline(toks, i + 1, j, decl_ok=True))
            i = j
        else:
            raise _error(self.src, t.pos, f"unexpected {t.value!r} in operand")
        i += 1
        # a field chain glued to a variable or a parenthesis: $x.Name, (index .A 0).Name
        if i < end and toks[i].kind == "field" and toks[i].adjacent and node[0] in ("var", "paren"):
            node = ("field", node, toks[i].value[1:].split("."), toks[i].pos)
            i += 1
        return node, i


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "a": "\a", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


def _literal(src: str, t: _Tok):
    v = t.value
    if t.kind == "raw":
        return v[1:-1]
    if t.kind in ("str", "char"):
        try:
            s = json.loads('"' + v[1:-1].replace("\\'", "'") + '"') if "\\" in v else v[1:-1]
        except ValueError:
            s = re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), v[1:-1])
        return ord(s) if t.kind == "char" and len(s) == 1 else s
    clean = v.replace("_", "")
    try:
        if re.fullmatch(r"[+-]?0[xXbBoO][0-9a-fA-F]+", clean):
            return int(clean, 0)
        if re.fullmatch(r"[+-]?\d+", clean):
            return int(clean, 10)
        return float(clean)
    except ValueError:
        raise _error(src, t.pos, f"bad number syntax: {v!r}") from None


# ---------------------------------------------------------------- values


def _type_name(v) -> str:
    if v is None or v is MISSING:
        return "<nil>"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float64"
    if isinstance(v, str):
        return "string"
    if isinstance(v, (list, tuple)):
        return "[]interface {}"
    if isinstance(v, dict):
        return "map[string]interface {}"
    return type(v).__name__


def _go_float(f: float) -> str:
    if f != f:
        return "NaN"
    if f in (float("inf"), float("-inf")):
        return "+Inf" if f > 0 else "-Inf"
    if f == int(f) and abs(f) < 1e21:
        return str(int(f))
    s = repr(f)
    if "e" in s:  # Go writes 1e+21 / 1e-07
        mant, _, exp = s.partition("e")
        sign = "-" if exp.startswith("-") else "+"
        exp = exp.lstrip("+-")
        s = f"{mant}e{sign}{exp.zfill(2)}"
    return s


def go_str(v, top: bool = True) -> str:
    """Format a value as Go's fmt %v prints it."""
    if isinstance(v, str):
        return v
    if v is None or v is MISSING:
        return "<no value>" if top else "<nil>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return _go_float(v)
    if isinstance(v, (list, tuple)):
        return "[" + " ".join(go_str(x, False) for x in v) + "]"
    if isinstance(v, dict):
        items = sorted(v.items(), key=lambda kv: _sort_key(kv[0]))
        return "map[" + " ".join(f"{go_str(k, False)}:{go_str(x, False)}" for k, x in items) + "]"
    if isinstance(v, (bytes, bytearray)):
        return "[" + " ".join(str(b) for b in v) + "]"
    fields = getattr(v, "__dataclass_fields__", None)
    if fields is not None:
        return "{" + " ".join(go_str(getattr(v, f), False) for f in fields) + "}"
    return str(v)


def _sort_key(k):
    return (0, k, "") if isinstance(k, (int, float)) and not isinstance(k, bool) else (1, 0, str(k))


def _json_default(v):
    if v is MISSING:
        return None
    fields = getattr(v, "__dataclass_fields__", None)
    if fields is not None:
        return {f: getattr(v, f) for f in fields}
    for meth in ("to_json", "to_dict", "as_dict"):
        fn = getattr(v, meth, None)
        if callable(fn):
            return fn()
    if isinstance(v, (set, frozenset)):
        return sorted(v)
    if isinstance(v, (bytes, bytearray)):
        import base64  # Go encodes []byte as base64; rare, so imported late

        return base64.b64encode(bytes(v)).decode()
    if hasattr(v, "__dict__"):
        return {k: x for k, x in vars(v).items() if not k.startswith("_")}
    return str(v)


def to_json(v) -> str:
    """Podman's `json` function: compact, no HTML escaping, no trailing newline."""
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False, default=_json_default)


def _truth(v) -> bool:
    if v is None or v is MISSING:
        return False
    if isinstance(v, (bool, int, float, str, list, tuple, dict, bytes)):
        return bool(v)
    return True


_CAMEL_RE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def _snake(name: str) -> str:
    return _CAMEL_RE.sub("_", name).lower()


def header_for(field: str) -> str:
    """Podman's default column header: CreatedAt -> CREATED AT, ID -> ID."""
    return " ".join(_CAMEL_RE.split(field)).upper()


# ---------------------------------------------------------------- functions


class _ExecError(Exception):
    """Raised inside execution; turned into InvalidArgument with the position."""


_VERB_RE = re.compile(r"%([-+# 0]*)(\*|\d+)?(?:\.(\*|\d*))?([a-zA-Z%])")


def _go_quote(s: str) -> str:
    return json.dumps(s, ensure_ascii=False).replace("\\u007f", "\\x7f")


def go_sprintf(fmt: str, *args) -> str:
    """fmt.Sprintf for the common verbs (v s d q t x X o b c e E f F g G %)."""
    out: list[str] = []
    argi = 0
    pos = 0
    for m in _VERB_RE.finditer(fmt):
        out.append(fmt[pos : m.start()])
        pos = m.end()
        flags, width, prec, verb = m.group(1), m.group(2), m.group(3), m.group(4)
        if verb == "%":
            out.append("%")
            continue
        if width == "*":
            width = str(args[argi]) if argi < len(args) else ""
            argi += 1
        if prec == "*":
            prec = str(args[argi]) if argi < len(args) else ""
            argi += 1
        if argi >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        a = args[argi]
        argi += 1
        out.append(_format_one(a, flags, width, prec, verb))
    out.append(fmt[pos:])
    if argi < len(args):
        extra = ", ".join(f"{_type_name(a)}={go_str(a, False)}" for a in args[argi:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


def _format_one(a, flags: str, width, prec, verb: str) -> str:
    p = int(prec) if prec not in (None, "") else (0 if prec == "" else None)
    try:
        if verb in "vs":
            s = go_str(a, False) if not isinstance(a, str) else a
            if verb == "v" and "+" in flags and a is None:
                s = "<nil>"
            if p is not None:
                s = s[:p]
        elif verb == "q":
            s = _go_quote(a if isinstance(a, str) else go_str(a, False))
        elif verb == "t":
            s = go_str(a, False) if isinstance(a, bool) else f"%!t({_type_name(a)}={go_str(a, False)})"
        elif verb in "dxXobc":
            if isinstance(a, str) and verb in "xX":
                s = a.encode().hex()
                s = s.upper() if verb == "X" else s
            elif not isinstance(a, int) or isinstance(a, bool):
                return f"%!{verb}({_type_name(a)}={go_str(a, False)})"
            elif verb == "c":
                s = chr(a)
            else:
                spec = {"d": "d", "x": "x", "X": "X", "o": "o", "b": "b"}[verb]
                s = format(a, ("+" if "+" in flags else "") + spec)
                if "#" in flags and verb in "xXo":
                    s = {"x": "0x", "X": "0X", "o": "0"}[verb] + s
        elif verb in "eEfFgG":
            if not isinstance(a, (int, float)) or isinstance(a, bool):
                return f"%!{verb}({_type_name(a)}={go_str(a, False)})"
            if verb in "gG" and p is None:
                s = _go_float(float(a))
            else:
                s = format(float(a), ("+" if "+" in flags else "") + f".{6 if p is None else p}{verb}")
        else:
            return f"%!{verb}({_type_name(a)}={go_str(a, False)})"
    except (TypeError, ValueError, OverflowError):
        return f"%!{verb}({_type_name(a)}={go_str(a, False)})"
    if width:
        w = int(width)
        if "-" in flags:
            s = s.ljust(w)
        elif "0" in flags and verb not in "sqvt":
            neg = s.startswith("-")
            s = ("-" + s[1:].rjust(w - 1, "0")) if neg else s.rjust(w, "0")
        else:
            s = s.rjust(w)
    return s


def _len(v):
    if isinstance(v, str):
        return len(v.encode())
    if isinstance(v, (list, tuple, dict, bytes)):
        return len(v)
    raise _ExecError(f"error calling len: len of type {_type_name(v)}")


def _index(v, *keys):
    for k in keys:
        if isinstance(v, dict):
            v = v.get(k, _zero_of(v))
        elif isinstance(v, (list, tuple, str)):
            if not isinstance(k, int) or isinstance(k, bool):
                raise _ExecError(f"error calling index: cannot index slice/array with type {_type_name(k)}")
            if not 0 <= k < len(v):
                raise _ExecError(f"error calling index: index out of range: {k}")
            v = v[k] if not isinstance(v, str) else v.encode()[k]
        elif v is None or v is MISSING:
            raise _ExecError("error calling index: index of untyped nil")
        else:
            raise _ExecError(f"error calling index: can't index item of type {_type_name(v)}")
    return v


def _slice(v, *idx):
    if not isinstance(v, (str, list, tuple)):
        raise _ExecError(f"error calling slice: can't slice item of type {_type_name(v)}")
    if len(idx) > 2:
        idx = idx[:2]
    lo = idx[0] if idx else 0
    hi = idx[1] if len(idx) > 1 else len(v)
    if not (0 <= lo <= hi <= len(v)):
        raise _ExecError(f"error calling slice: index out of range: {hi}")
    return v[lo:hi]


def _zero_of(d: dict):
    """The zero value of a map's element type, guessed from its values."""
    return "" if all(isinstance(x, str) for x in d.values()) else MISSING


def _cmp_check(a, b, fn: str):
    num = (int, float)
    if isinstance(a, bool) != isinstance(b, bool) or (
        not (isinstance(a, num) and isinstance(b, num)) and type(a) is not type(b)
        and not (a is None or b is None or a is MISSING or b is MISSING)
    ):
        raise _ExecError(f"error calling {fn}: incompatible types for comparison")


def _eq(a, *others):
    if not others:
        raise _ExecError("error calling eq: missing argument for comparison")
    for b in others:
        if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
            raise _ExecError("error calling eq: non-comparable type")
        _cmp_check(a, b, "eq")
        if a == b:
            return True
    return False


def _ordered(fn: str, op):
    def compare(a, b):
        _cmp_check(a, b, fn)
        if not isinstance(a, (int, float, str)) or isinstance(a, bool):
            raise _ExecError(f"error calling {fn}: invalid type for comparison")
        return op(a, b)

    return compare


def _go_print(*args) -> str:
    out = []
    for i, a in enumerate(args):
        # Sprint adds spaces between operands when neither is a string
        if i and not isinstance(a, str) and not isinstance(args[i - 1], str):
            out.append(" ")
        out.append(go_str(a, False))
    return "".join(out)


_TITLE_RE = re.compile(r"(^|[^\w'])(\w)")


def _title(s: str) -> str:
    # strings.Title: upper-case each word's first letter, keep the rest
    return _TITLE_RE.sub(lambda m: m.group(1) + m.group(2).upper(), _as_str(s, "title"))


def _as_str(v, fn: str) -> str:
    if isinstance(v, str):
        return v
    raise _ExecError(f"error calling {fn}: wrong type for value; expected string; got {_type_name(v)}")


def _join(items, sep) -> str:
    if isinstance(items, str):
        raise _ExecError("error calling join: wrong type for value; expected []string; got string")
    if items is None or items is MISSING:
        return ""
    return _as_str(sep, "join").join(go_str(x, False) for x in items)


def _split(s, sep):
    s, sep = _as_str(s, "split"), _as_str(sep, "split")
    return list(s) if sep == "" else s.split(sep)


def _truncate(s, n):
    s = _as_str(s, "truncate")
    return s if len(s) < n else s[:n]


def _pad(s, prefix: int, suffix: int) -> str:
    return " " * prefix + go_str(s) + " " * suffix


def _not(v) -> bool:
    return not _truth(v)


FUNCS: dict = {
    "json": to_json,
    "len": _len,
    "index": _index,
    "slice": _slice,
    "printf": lambda f, *a: go_sprintf(_as_str(f, "printf"), *a),
    "print": _go_print,
    "println": lambda *a: " ".join(go_str(x, False) for x in a) + "\n",
    "not": _not,
    "eq": _eq,
    "ne": lambda a, b: not _eq(a, b),
    "lt": _ordered("lt", lambda a, b: a < b),
    "le": _ordered("le", lambda a, b: a <= b),
    "gt": _ordered("gt", lambda a, b: a > b),
    "ge": _ordered("ge", lambda a, b: a >= b),
    "upper": lambda s: _as_str(s, "upper").upper(),
    "lower": lambda s: _as_str(s, "lower").lower(),
    "title": _title,
    "join": _join,
    "split": _split,
    "truncate": _truncate,
    "pad": _pad,
    "html": lambda *a: _go_print(*a).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;").replace("'", "&#39;"),
    "urlquery": lambda *a: re.sub(r"[^A-Za-z0-9_.~-]", lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), _go_print(*a)),
}
FUNCS["and"] = FUNCS["or"] = None  # short-circuit forms, evaluated in _Exec


# ---------------------------------------------------------------- execution


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class _Exec:
    __slots__ = ("src", "vars", "out")

    def __init__(self, src: str, data) -> None:
        self.src = src
        self.vars: list = [("$", data)]
        self.out: list[str] = []

    def fail(self, pos: int, what: str, message: str) -> InvalidArgument:
        line = self.src.count("\n", 0, pos) + 1
        col = pos - (self.src.rfind("\n", 0, pos) + 1)
        return InvalidArgument(f'template: {NAME}:{line}:{col}: executing "{NAME}" at <{what}>: {message}')

    def run_list(self, nodes, dot) -> None:
        out = self.out
        for node in nodes:
            kind = node[0]
            if kind == "text":
                out.append(node[1])
            elif kind == "action":
                pipe = node[1]
                v = self.pipeline(pipe, dot)
                if not pipe[1]:  # declarations print nothing
                    out.append(go_str(v))
            elif kind == "if":
                mark = len(self.vars)
                cond = _truth(self.pipeline(node[1], dot))
                self.run_list(node[2] if cond else node[3], dot)
                del self.vars[mark:]
            elif kind == "with":
                mark = len(self.vars)
                v = self.pipeline(node[1], dot)
                if _truth(v):
                    self.run_list(node[2], v)
                else:
                    self.run_list(node[3], dot)
                del self.vars[mark:]
            elif kind == "range":
                self.run_range(node, dot)
            elif kind == "break":
                raise _Break()
            elif kind == "continue":
                raise _Continue()

    def run_range(self, node, dot) -> None:
        _, pipe, body, else_body = node
        mark = len(self.vars)
        names = pipe[1]
        v = self.pipeline(("pipe", [], False, pipe[3]), dot)
        if isinstance(v, dict):
            pairs = [(k, v[k]) for k in sorted(v, key=_sort_key)]
        elif isinstance(v, (list, tuple, str)):
            if isinstance(v, str):
                raise self.fail(0, "range", f"range can't iterate over {v}")
            pairs = list(enumerate(v))
        elif isinstance(v, int) and not isinstance(v, bool):
            pairs = [(i, i) for i in range(v)]
        elif v is None or v is MISSING:
            pairs = []
        else:
            raise self.fail(0, "range", f"range can't iterate over {go_str(v)}")
        if not pairs:
            self.run_list(else_body, dot)
            return
        for k, item in pairs:
            if len(names) == 1:
                self.vars.append((names[0], item))
            elif len(names) == 2:
                self.vars.append((names[0], k))
                self.vars.append((names[1], item))
            try:
                self.run_list(body, item)
            except _Break:
                del self.vars[mark:]
                break
            except _Continue:
                pass
            del self.vars[mark:]
        del self.vars[mark:]

    def pipeline(self, pipe, dot):
        _, decl, assign, cmds = pipe
        value = _NOARG
        for cmd in cmds:
            value = self.command(cmd, dot, value)
        if decl:
            if assign:
                for i in range(len(self.vars) - 1, -1, -1):
                    if self.vars[i][0] == decl[0]:
                        self.vars[i] = (decl[0], value)
                        break
                else:
                    raise self.fail(0, decl[0], f"undefined variable: {decl[0]}")
            else:
                self.vars.append((decl[-1], value))
        return value

    def command(self, args, dot, piped):
        head = args[0]
        if head[0] == "func":
            name = head[1]
            if name in ("and", "or"):
                return self.andor(name, args[1:], dot, piped, head[2])
            vals = [self.arg(a, dot) for a in args[1:]]
            if piped is not _NOARG:
                vals.append(piped)
            try:
                return FUNCS[name](*vals)
            except _ExecError as e:
                raise self.fail(head[2], name, str(e)) from None
            except TypeError:
                raise self.fail(head[2], name, f"wrong number of args for {name}: got {len(vals)}") from None
            except (ValueError, IndexError, KeyError, AttributeError) as e:
                raise self.fail(head[2], name, f"error calling {name}: {e}") from None
        if len(args) > 1 or piped is not _NOARG:
            where = head[3] if head[0] == "field" else 0
            raise self.fail(where, _describe(head), f"can't give argument to non-function {_describe(head)}")
        return self.arg(head, dot)

    def andor(self, name, args, dot, piped, pos):
        nodes = list(args)
        if not nodes and piped is _NOARG:
            raise self.fail(pos, name, f"wrong number of args for {name}: want at least 1 got 0")
        v = None
        for n in nodes:
            v = self.arg(n, dot)
            if _truth(v) != (name == "and"):
                return v
        if piped is not _NOARG:
            v = piped
        return v

    def arg(self, node, dot):
        kind = node[0]
        if kind == "const":
            return node[1]
        if kind == "dot":
            return dot
        if kind == "field":
            base = dot if node[1] is None else self.arg(node[1], dot)
            return self.chain(base, node[2], node[3], node[1])
        if kind == "var":
            name = node[1]
            for i in range(len(self.vars) - 1, -1, -1):
                if self.vars[i][0] == name:
                    return self.vars[i][1]
            raise self.fail(node[2], name, f"undefined variable: {name}")
        if kind == "paren":
            return self.pipeline(node[1], dot)
        if kind == "func":
            # a bare function name as an argument is called with no arguments
            return self.command([node], dot, _NOARG)
        raise self.fail(0, kind, "unexpected node")

    def chain(self, v, names, pos, base):
        path = ""
        for name in names:
            path += "." + name
            v = self.field(v, name, pos, path)
        return v

    def field(self, v, name: str, pos: int, path: str):
        if isinstance(v, dict):
            if name in v:
                return v[name]
            if v and name[:1].isupper() and all(isinstance(k, str) and k[:1].isupper() for k in v):
                raise self.fail(pos, path, f"can't evaluate field {name} in type {_struct_name(v)}")
            return _zero_of(v)
        if v is None or v is MISSING:
            # Go: nil pointer evaluating interface {}.Foo
            raise self.fail(pos, path, f"nil pointer evaluating interface {{}}.{name}")
        if isinstance(v, (str, int, float, bool, list, tuple)):
            raise self.fail(pos, path, f"can't evaluate field {name} in type {_type_name(v)}")
        try:
            attr = getattr(v, name)
        except AttributeError:
            snake = _snake(name)
            try:
                attr = getattr(v, snake)
            except AttributeError:
                raise self.fail(pos, path, f"can't evaluate field {name} in type {type(v).__name__}") from None
        if callable(attr) and not isinstance(attr, type):
            try:
                return attr()  # Go calls niladic methods
            except TypeError:
                raise self.fail(pos, path, f"{name} is a method that needs arguments") from None
        return attr


class _NoArg:
    __slots__ = ()


_NOARG = _NoArg()


def _describe(node) -> str:
    if node[0] == "field":
        return "." + ".".join(node[2])
    if node[0] == "const":
        return go_str(node[1])
    if node[0] == "var":
        return node[1]
    return node[0]


def _struct_name(d: dict) -> str:
    return "struct"


# ---------------------------------------------------------------- public API


class Template:
    """A compiled template: parse once, `render(data)` for each row."""

    __slots__ = ("source", "nodes")

    def __init__(self, source: str) -> None:
        self.source = source
        self.nodes = _Parser(source).parse()

    def render(self, data) -> str:
        ex = _Exec(self.source, data)
        try:
            ex.run_list(self.nodes, data)
        except (_Break, _Continue):
            raise InvalidArgument(f"template: {NAME}: break or continue outside range") from None
        except RecursionError:
            raise InvalidArgument(f"template: {NAME}: exceeded maximum template depth") from None
        return "".join(ex.out)

    def fields(self) -> list[str]:
        """First field named by each top-level action, in order (for table headers)."""
        found: list[str] = []
        for node in self.nodes:
            if node[0] == "text":
                continue
            name = _first_field(node)
            found.append(name or "")
        return found


def _first_field(node) -> str | None:
    if isinstance(node, tuple):
        if node and node[0] == "field" and node[1] is None:
            return node[2][-1] if len(node[2]) > 0 else None
        for part in node:
            got = _first_field(part)
            if got:
                return got
    elif isinstance(node, list):
        for part in node:
            got = _first_field(part)
            if got:
                return got
    return None


_template_cache: dict[str, Template] = {}


def compile_template(text: str) -> Template:
    tpl = _template_cache.get(text)
    if tpl is None:
        tpl = _template_cache[text] = Template(text)
    return tpl


def unescape(text: str) -> str:
    """The CLI gets a literal backslash-t / backslash-n; Podman turns them into tab and newline."""
    return text.replace("\\t", "\t").replace("\\n", "\n")


class FormatSpec:
    """What `--format` asked for: kind 'json', 'table' or 'template'."""

    __slots__ = ("kind", "template", "headers", "fields")

    def __init__(self, kind: str, template: Template | None, headers: list[str], fields: list[str]) -> None:
        self.kind = kind
        self.template = template
        self.headers = headers  # column titles, in template order (table only)
        self.fields = fields  # the field each column shows

    def __repr__(self) -> str:
        return f"FormatSpec({self.kind!r}, {self.template.source if self.template else None!r}, {self.headers!r})"

    def header_row(self) -> str:
        """The table's title line: each action replaced by its column title."""
        if self.template is None:
            return ""
        out: list[str] = []
        titles = iter(self.headers)
        for node in self.template.nodes:
            out.append(node[1] if node[0] == "text" else next(titles, ""))
        line = "".join(out)
        return line if line.endswith("\n") else line + "\n"

    def render_row(self, row) -> str:
        """One row, ending in a newline as Podman's formatter adds."""
        if self.template is None:
            raise InvalidArgument("no template to render")
        text = self.template.render(row)
        return text if text.endswith("\n") else text + "\n"


def _spaces_to_tabs(text: str) -> str:
    """A `table` template's spaces become column breaks, as Podman's report package
    replaces them by tabs; spaces inside {{ }} actions are kept (string literals)."""
    out: list[str] = []
    pos = 0
    while pos < len(text):
        start = text.find("{{", pos)
        if start < 0:
            start = len(text)
        out.append(text[pos:start].replace(" ", "\t"))
        if start == len(text):
            break
        end = text.find("}}", start)
        end = len(text) if end < 0 else end + 2
        out.append(text[start:end])
        pos = end
    return "".join(out)


def parse_format(text: str, header_overrides: dict[str, str] | None = None) -> FormatSpec:
    """Classify a `--format` value and compile its template.

    `table` alone gives kind 'table' with no template (the command's default
    columns apply); `table {{.ID}}\\t{{.Repository}}` a table of those columns,
    titled by `header_overrides` or Podman's default (CreatedAt -> CREATED AT).
    """
    stripped = text.strip()
    if stripped == "json":
        return FormatSpec("json", None, [], [])
    if stripped.startswith("table") and (len(stripped) == 5 or stripped[5] in " \t\\{"):
        rest = stripped[5:]
        rest = rest.lstrip(" ")
        if rest.startswith("\\t") or rest.startswith("\\n"):
            rest = rest[2:]
        if not rest.strip():
            return FormatSpec("table", None, [], [])
        tpl = compile_template(unescape(_spaces_to_tabs(rest)))
        fields = tpl.fields()
        overrides = header_overrides or {}
        headers = [overrides.get(f, header_for(f)) if f else "" for f in fields]
        return FormatSpec("table", tpl, headers, fields)
    return FormatSpec("template", compile_template(unescape(text)), [], [])
