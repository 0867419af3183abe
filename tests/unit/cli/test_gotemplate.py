"""Go text/template rendering as Podman's --format does it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pytest

from engine.cli.gotemplate import compile_template, go_sprintf, go_str, header_for, parse_format
from engine.errors import HullError, InvalidArgument


def render(tpl: str, data) -> str:
    return compile_template(tpl).render(data)


IMG = {
    "ID": "a1650e46735caa638ff50713280371bb8a5a3f9b3e987521fc875151ab4a7264",
    "Repository": "localhost:5000/busybox",
    "Tag": "latest",
    "Size": 2127360,
    "Names": ["localhost:5000/busybox:latest", "busybox:1"],
    "Labels": {"io.buildah.version": "1.28.2", "maintainer": "me"},
    "Config": {"Env": ["PATH=/bin", "A=1"], "Cmd": ["/bin/sh"], "User": ""},
    "Dangling": False,
}


@dataclass
class Row:
    id: str
    repo_tags: list[str] = field(default_factory=list)
    Size: int = 0

    def Short(self) -> str:
        return self.id[:3]


def test_fields_and_nesting():
    assert render("{{.Repository}}:{{.Tag}}", IMG) == "localhost:5000/busybox:latest"
    assert render("{{.Config.Env}}", IMG) == "[PATH=/bin A=1]"
    assert render("{{.Config.Cmd}} {{.Size}} {{.Dangling}}", IMG) == "[/bin/sh] 2127360 false"
    assert render("{{.}}", "plain") == "plain"


def test_go_printing_of_values():
    assert go_str({"b": 1, "a": [True, None]}) == "map[a:[true <nil>] b:1]"
    assert go_str(None) == "<no value>"
    assert go_str(1.5) == "1.5" and go_str(2.0) == "2"
    assert go_str([]) == "[]"
    assert render("{{.Labels}}", IMG) == "map[io.buildah.version:1.28.2 maintainer:me]"


def test_json_forms():
    assert render("{{json .Names}}", IMG) == '["localhost:5000/busybox:latest","busybox:1"]'
    assert render("{{.Labels | json}}", IMG) == '{"io.buildah.version":"1.28.2","maintainer":"me"}'
    assert render("{{json .Config.User}}", IMG) == '""'
    assert render("{{json .}}", {"A": "<&>"}) == '{"A":"<&>"}'  # no HTML escaping, like Podman
    assert render("{{json .}}", Row("x", ["t"], 3)) == '{"id":"x","repo_tags":["t"],"Size":3}'


def test_range_forms():
    assert render("{{range .Names}}[{{.}}]{{end}}", IMG) == "[localhost:5000/busybox:latest][busybox:1]"
    out = render("{{range $k, $v := .Labels}}{{$k}}={{$v}};{{end}}", IMG)
    assert out == "io.buildah.version=1.28.2;maintainer=me;"
    assert render("{{range $i, $e := .Names}}{{$i}}{{end}}", IMG) == "01"
    assert render("{{range .Config.User}}x{{else}}none{{end}}", {"Config": {"User": None}}) == "none"
    assert render("{{range .X}}x{{else}}empty{{end}}", {"X": []}) == "empty"
    assert render("{{range .X}}{{if eq . 2}}{{break}}{{end}}{{.}}{{end}}", {"X": [1, 2, 3]}) == "1"
    assert render("{{range .X}}{{if eq . 2}}{{continue}}{{end}}{{.}}{{end}}", {"X": [1, 2, 3]}) == "13"
    # $ is the data root inside range
    assert render("{{range .Names}}{{$.Tag}}{{end}}", IMG) == "latestlatest"


def test_if_else_chain():
    tpl = "{{if eq .N 1}}one{{else if eq .N 2}}two{{else if gt .N 5}}many{{else}}other{{end}}"
    assert [render(tpl, {"N": n}) for n in (1, 2, 9, 3)] == ["one", "two", "many", "other"]
    assert render("{{if .Dangling}}d{{else}}n{{end}}", IMG) == "n"
    assert render("{{if and .Names (not .Dangling)}}ok{{end}}", IMG) == "ok"
    assert render("{{if or .Dangling .Config.User}}x{{else}}y{{end}}", IMG) == "y"
    assert render("{{with .Config}}{{.Cmd}}{{end}}", IMG) == "[/bin/sh]"
    assert render("{{if ne .Tag \"latest\"}}a{{else}}b{{end}}", IMG) == "b"
    assert render("{{if lt 1 2}}{{if le 2 2}}{{if ge 3 2}}yes{{end}}{{end}}{{end}}", {}) == "yes"


def test_functions():
    assert render('{{index .Labels "maintainer"}}', IMG) == "me"
    assert render('{{index .Labels "absent"}}', IMG) == ""  # map[string]string zero value
    assert render("{{index .Names 1}}", IMG) == "busybox:1"
    assert render("{{len .Names}} {{len .Labels}} {{len .Tag}}", IMG) == "2 2 6"
    assert render('{{printf "%s-%d" .Tag .Size}}', IMG) == "latest-2127360"
    assert render('{{printf "%-8s|%5.1f|%q|%v|%t" "ab" 3.14159 "x" .Names true}}', IMG) == (
        'ab      |  3.1|"x"|[localhost:5000/busybox:latest busybox:1]|true'
    )
    assert render("{{upper .Tag}} {{lower \"ABC\"}} {{title \"hello wORLD\"}}", IMG) == "LATEST abc Hello WORLD"
    assert render('{{join .Names ","}}', IMG) == "localhost:5000/busybox:latest,busybox:1"
    assert render('{{split "a:b:c" ":"}}', {}) == "[a b c]"
    assert render("{{truncate .ID 12}}", IMG) == "a1650e46735c"
    assert render("{{slice .Tag 1 3}}", IMG) == "at"
    assert render("{{(index .Names 0) | upper}}", IMG) == "LOCALHOST:5000/BUSYBOX:LATEST"
    assert render("{{print 1 2 \"a\" 3}}", {}) == "1 2a3"


def test_pipeline_passes_last_argument():
    assert render('{{.Tag | printf "<%s>"}}', IMG) == "<latest>"
    # the piped value is the last argument, so truncate gets it as its length
    with pytest.raises(InvalidArgument, match="expected string"):
        render('{{"abcdef" | truncate 3}}', {})


def test_trim_markers_comments_and_literals():
    assert render("a  {{- .Tag -}}  b", IMG) == "alatestb"
    assert render("a {{/* note */}}b", IMG) == "a b"
    assert render("a \n {{- /* note */ -}} \n b", IMG) == "ab"
    assert render('{{"q\\"uote"}} {{`raw\\n`}} {{42}} {{-1}} {{1.5}} {{true}}', {}) == 'q"uote raw\\n 42 -1 1.5 true'


def test_variables():
    assert render("{{$x := .Tag}}{{$x}}-{{$x = \"b\"}}{{$x}}", IMG) == "latest-b"
    assert render("{{$c := .Config}}{{$c.Cmd}}", IMG) == "[/bin/sh]"
    assert render("{{(index .Names 0)}}", IMG) == "localhost:5000/busybox:latest"


def test_objects_with_attributes():
    r = Row("abcdef", ["x:1"], 7)
    assert render("{{.RepoTags}} {{.ID}} {{.Size}} {{.Short}}", r) == "[x:1] abcdef 7 abc"
    assert render("{{.}}", r) == "{abcdef [x:1] 7}"


def test_unknown_field_is_one_line_invalid_argument():
    with pytest.raises(InvalidArgument) as e:
        render("{{.Foo}}", IMG)
    msg = str(e.value)
    assert "can't evaluate field Foo" in msg and msg.startswith("template: ") and "\n" not in msg
    with pytest.raises(HullError, match="can't evaluate field Nope in type Row"):
        render("{{.Nope}}", Row("x"))
    # lower-case keys of a map are not struct fields: zero value
    assert render("{{.Labels.absent}}", IMG) == ""


@pytest.mark.parametrize(
    "bad",
    ["{{.Foo", "{{if .X}}", "{{end}}", "{{nosuchfunc .X}}", "{{else}}", "{{.X | }}", "{{(.X}}", "{{/* x"],
)
def test_parse_errors(bad):
    with pytest.raises(InvalidArgument) as e:
        compile_template(bad)
    assert str(e.value).startswith("template: ")


def test_exec_errors():
    with pytest.raises(InvalidArgument, match="index out of range"):
        render("{{index .Names 5}}", IMG)
    with pytest.raises(InvalidArgument, match="wrong number of args"):
        render("{{upper}}", IMG)
    with pytest.raises(InvalidArgument, match="undefined variable"):
        compile_template("{{$nope}}").render({})
    with pytest.raises(InvalidArgument, match="incompatible types"):
        render('{{eq .Size "x"}}', IMG)


def test_printf_edge_cases():
    assert go_sprintf("%s %s", "a") == "a %!s(MISSING)"
    assert go_sprintf("%d", "x") == "%!d(string=x)"
    assert go_sprintf("%05d|%x|%X|%%", 42, 255, 255) == "00042|ff|FF|%"
    assert go_sprintf("a", 1) == "a%!(EXTRA int=1)"


def test_parse_format_kinds():
    assert parse_format("json").kind == "json"
    spec = parse_format("table")
    assert spec.kind == "table" and spec.template is None
    spec = parse_format("{{.ID}}")
    assert spec.kind == "template" and spec.render_row(IMG) == IMG["ID"] + "\n"
    assert parse_format("{{json .}}").kind == "template"


def test_table_headers_and_escapes():
    spec = parse_format(r"table {{.ID}}\t{{.Repository}}\t{{.CreatedAt}}", {"ID": "IMAGE ID"})
    assert spec.kind == "table"
    assert spec.headers == ["IMAGE ID", "REPOSITORY", "CREATED AT"]
    assert spec.header_row() == "IMAGE ID\tREPOSITORY\tCREATED AT\n"
    row = {"ID": "x", "Repository": "r", "CreatedAt": "now"}
    assert spec.render_row(row) == "x\tr\tnow\n"
    assert parse_format(r"{{.ID}}\n{{.Tag}}").render_row(IMG) == IMG["ID"] + "\nlatest\n"
    assert header_for("ReadOnly") == "READ ONLY" and header_for("ID") == "ID"


def test_table_spaces_are_column_breaks():
    """`table {{.ID}} {{.Names}}` (spaces, no \\t) is a two-column table in Podman: its report
    package turns a table template's spaces into tabs; a string literal keeps its spaces."""
    from engine.cli.output import Printer
    import io

    spec = parse_format('table {{.ID}} {{printf "%s x" .Tag}}')
    assert spec.header_row() == "ID\tTAG\n"
    assert spec.render_row(IMG) == IMG["ID"] + "\tlatest x\n"
    buf = io.StringIO()
    Printer(buf).formatted(parse_format("table {{.Tag}} {{.Repository}}"), [IMG, dict(IMG, Tag="1")])
    assert buf.getvalue().splitlines() == ["TAG         REPOSITORY", "latest      localhost:5000/busybox",
                                           "1           localhost:5000/busybox"]
    assert parse_format("{{.Tag}} {{.Repository}}").render_row(IMG) == "latest localhost:5000/busybox\n"


def test_compile_once_render_many_is_fast():
    spec = parse_format(r"table {{.Repository}}\t{{.Tag}}\t{{truncate .ID 12}}\t{{.Size}}\t{{json .Labels}}")
    rows = [dict(IMG, Tag=str(i)) for i in range(50)]
    start = time.perf_counter()
    out = "".join(spec.render_row(r) for r in rows)
    assert time.perf_counter() - start < 0.05
    assert out.count("\n") == 50 and "\t49\t" in out


def test_import_is_lean():
    import subprocess
    import sys

    code = "import sys; import engine.cli.gotemplate; print(sorted(m for m in ('dataclasses','inspect','typing','datetime') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
