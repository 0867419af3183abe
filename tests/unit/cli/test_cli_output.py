"""Tables, --format and --filter parsing."""

import io

import pytest

from engine.cli.output import Printer, format_spec, parse_filters, tabulate
from engine.errors import InvalidArgument


def test_tabulate_matches_podman_tabwriter():
    # podman images: cells padded by 2, at least 12 wide, last column unpadded
    lines = tabulate([
        ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"],
        ["localhost:5000/busybox", "latest", "a1650e46735c", "About an hour ago", "2.13 MB"],
    ])
    assert lines == [
        "REPOSITORY              TAG         IMAGE ID      CREATED            SIZE",
        "localhost:5000/busybox  latest      a1650e46735c  About an hour ago  2.13 MB",
    ]


def test_empty_table_is_header_only():
    out = io.StringIO()
    Printer(out).table([], [("Repository", "REPOSITORY"), ("Tag", "TAG"), ("ID", "IMAGE ID"),
                            ("Created", "CREATED"), ("Size", "SIZE")])
    assert out.getvalue() == "REPOSITORY  TAG         IMAGE ID    CREATED     SIZE\n"


def test_noheading():
    out = io.StringIO()
    Printer(out).table([{"A": "x"}], [("A", "A"), ("B", "B")], noheading=True)
    assert out.getvalue() == "x           \n"


ROWS = [{"ID": "abc", "Repository": "docker.io/library/busybox", "Tag": "latest"},
        {"ID": "def", "Repository": "quay.io/x", "Tag": "1"}]


def test_format_table_template_with_headers():
    out = io.StringIO()
    Printer(out).formatted(format_spec("table {{.ID}}\\t{{.Repository}}", {"ID": "IMAGE ID"}), ROWS)
    assert out.getvalue().splitlines() == [
        "IMAGE ID    REPOSITORY",
        "abc         docker.io/library/busybox",
        "def         quay.io/x",
    ]


def test_format_plain_template_one_line_per_item():
    out = io.StringIO()
    Printer(out).formatted(format_spec("{{.ID}} {{.Repository}}:{{.Tag}}"), ROWS)
    assert out.getvalue() == "abc docker.io/library/busybox:latest\ndef quay.io/x:1\n"


def test_format_json_and_json_dot():
    import json

    out = io.StringIO()
    Printer(out).formatted(format_spec("json"), ROWS)
    assert json.loads(out.getvalue()) == ROWS
    out = io.StringIO()
    Printer(out).formatted(format_spec("{{json .}}"), ROWS[:1])
    assert json.loads(out.getvalue()) == ROWS[0]


def test_plain_table_word_means_default_table():
    assert format_spec(None) is None
    assert format_spec("") is None
    assert format_spec("table") is None


def test_unknown_field_is_an_invalid_argument():
    out = io.StringIO()
    with pytest.raises(InvalidArgument):
        Printer(out).formatted(format_spec("{{.Nope}}"), ROWS)


def test_parse_filters_repeated_keys():
    assert parse_filters(["dangling=true", "label=a=b", "label=c"]) == {
        "dangling": ["true"], "label": ["a=b", "c"]}


@pytest.mark.parametrize("bad", ["dangling", "=x", ""])
def test_parse_filters_rejects_malformed(bad):
    with pytest.raises(InvalidArgument):
        parse_filters([bad])


def test_parse_filters_allowed_keys():
    with pytest.raises(InvalidArgument, match="invalid filter"):
        parse_filters(["color=red"], allowed=["label"])
