"""Unit tests: Dockerfile parsing, variable expansion, .dockerignore matching."""

from __future__ import annotations

import pytest

from engine.build.dockerfile import DockerfileError, parse
from engine.build.expand import expand, expand_vars, split_raw, words
from engine.build.ignore import IgnoreMatcher, parse_patterns
from engine.build.stages import needed, split_stages
from engine.errors import InvalidArgument


def test_directives_continuations_comments_and_flags():
    df = parse("# syntax=docker/dockerfile:1\n# escape=`\n\nFROM busybox AS b\n"
               "RUN a `\n  # a comment inside\n\n  b\n"
               "COPY --chown=1:1 --from=b --chmod=644 x `\n  /y/\nCMD [\"sh\", \"-c\"]\n")
    assert df.directives == {"syntax": "docker/dockerfile:1", "escape": "`"} and df.escape == "`"
    run, copy, cmd = df.instructions[1:]
    assert (run.cmd, run.args, run.line) == ("RUN", "a   b", 5)
    assert copy.flags == {"chown": "1:1", "from": "b", "chmod": "644"} and copy.args == "x   /y/"
    assert cmd.exec_form == ["sh", "-c"] and run.exec_form is None


def test_directive_only_at_the_top():
    df = parse("FROM busybox\n# escape=`\nRUN a \\\n b\n")
    assert df.escape == "\\" and df.instructions[1].args == "a  b"


def test_heredocs():
    df = parse("FROM busybox\nRUN <<EOF\necho $A\n  indented\nEOF\n"
               "COPY <<-'ONE' <<TWO /dst/\n\tfirst $X\n\tONE\nsecond\nTWO\nCMD x\n")
    run, copy, cmd = df.instructions[1:]
    assert run.heredocs[0].content == "echo $A\n  indented\n" and run.heredocs[0].expand
    one, two = copy.heredocs
    assert (one.name, one.content, one.expand) == ("ONE", "first $X\n", False)
    assert (two.name, two.content, two.expand) == ("TWO", "second\n", True)
    assert cmd.line == 11


def test_parse_errors_name_the_line():
    with pytest.raises(DockerfileError, match="line 3: unknown instruction: BOGUS"):
        parse("FROM a\n\nBOGUS x\n")
    with pytest.raises(DockerfileError, match="line 2: unterminated heredoc EOF"):
        parse("FROM a\nRUN <<EOF\nnever\n")
    with pytest.raises(DockerfileError, match="invalid escape token"):
        parse("# escape=x\nFROM a\n")


@pytest.mark.parametrize("text, expected", [
    ("$A", "x y"), ("${A}", "x y"), ("pre${A}post", "prex ypost"),
    ("${B:-def}", "def"), ("${B-def}", ""), ("${C-def}", "def"), ("${C:-def}", "def"),
    ("${A:+set}", "set"), ("${B:+set}", ""), ("${B+set}", "set"), ("${C+set}", ""),
    ("'$A'", "$A"), ('"$A"', "x y"), ("\\$A", "$A"), ('"\\$A"', "$A"), ('"a\\b"', "a\\b"),
    ("$", "$"), ("$1", ""), ("a$", "a$"), ("${P##*/}", "foo.so"), ("${P#*/}", "usr/lib/foo.so"),
    ("${P%.so}", "/usr/lib/foo"), ("${P%%/*}", ""), ("${P/lib/LIB}", "/usr/LIB/foo.so"),
])
def test_expansion_follows_docker(text, expected):
    env = {"A": "x y", "B": "", "P": "/usr/lib/foo.so"}
    assert expand(text, env) == expected


def test_expansion_errors_and_words():
    with pytest.raises(InvalidArgument, match="C: must be set"):
        expand("${C:?must be set}", {})
    with pytest.raises(InvalidArgument, match="matching double-quote"):
        expand('"open', {})
    assert words('a "b c" $A', {"A": "z"}) == ["a", "b c", "z"]
    assert expand("`$A", {"A": "v"}, escape="`") == "$A"
    assert split_raw('K="a b" L=c\\ d M') == ['K="a b"', "L=c\\ d", "M"]
    assert expand_vars('say "$A" ${A}', {"A": "hi"}) == 'say "hi" hi'


@pytest.mark.parametrize("path, excluded", [
    ("a.log", True), ("keep.log", False), ("sub/a.log", False), ("x/y/tmp", True), ("x/y/tmp/z", True),
    ("tmp", True), ("secret", True), ("secret/inner/f", True), ("docs/a", True), ("docs/README.md", False),
    ("src/main.py", False), ("deep/q.txt", True), ("deep/q.md", False), ("abc", True), ("abd", False),
])
def test_dockerignore_rules(path, excluded):
    m = IgnoreMatcher(parse_patterns("# comment\n  *.log  \n!keep.log\n**/tmp\n/secret/\ndocs\n!docs/README.md\n"
                                     "deep/*.txt\nab[c]\n"))
    assert m.excluded(path) is excluded


def test_dockerignore_may_hold_included():
    m = IgnoreMatcher(parse_patterns("docs\n!docs/README.md\nbuild\n"))
    assert m.may_hold_included("docs") and not m.may_hold_included("build")


def test_arg_scoping_and_needed_stages():
    df = parse("ARG V=1\nARG BASE=busybox\nFROM $BASE AS a\nRUN x\nFROM busybox AS unused\n"
               "FROM a AS b\nCOPY --from=a /x /y\nFROM b\n")
    global_args, stages = split_stages(df, {"V": "2"})
    assert global_args == {"V": "2", "BASE": "busybox"}
    assert [s.base for s in stages] == ["busybox", "busybox", "a", "b"]
    assert [s.name for s in needed(stages, "", global_args, "\\")] == ["a", "b", ""]
    assert [s.name for s in needed(stages, "a", global_args, "\\")] == ["a"]
    with pytest.raises(InvalidArgument, match="target 'nope' was not found"):
        needed(stages, "nope", global_args, "\\")
