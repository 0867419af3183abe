"""Bad input to the container commands: one clear line, Podman's exit code."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("argv,code,text", [
    (["stop", "nope"], 125, "no container with name or ID \"nope\" found"),
    (["kill", "nope"], 125, "no such container"),
    (["rm", "nope"], 1, "no such container"),
    (["logs", "nope"], 125, "no such container"),
    (["inspect", "nope"], 125, "no such object"),
    (["inspect", "--type", "container", "nope"], 125, "no such container"),
    (["wait", "nope"], 125, "no such container"),
    (["start", "nope"], 125, "no such container"),
    (["exec", "nope", "true"], 125, "no such container"),
    (["port", "nope"], 125, "no such container"),
    (["top", "nope"], 125, 'unable to look up requested container: no container with name or ID "nope" found'),
    (["rename", "nope", "x"], 125, "no such container"),
    (["volume", "rm", "nope"], 1, "no such volume"),
    (["volume", "inspect", "nope"], 125, "no such volume"),
    (["secret", "inspect", "nope"], 125, "no such secret"),
    (["secret", "rm", "nope"], 125, "no such secret"),
    (["kill", "-s", "SIGNOPE", "x"], 125, "signal"),
    (["ps", "--filter", "color=red"], 125, "invalid filter"),
    (["images", "--sort", "sideways"], 125, 'invalid argument "sideways" for "--sort" flag: "sideways" is not a '
                                            'valid value.  Choose from: "created, id, repository, size, tag"'),
    (["ps", "--sort", "sideways"], 125, 'invalid argument "sideways" for "--sort" flag: "sideways" is not a valid '
                                        'value.  Choose from: "command, created'),
    (["wait", "--condition", "sleepy", "x"], 125, "unknown container state: sleepy: invalid argument"),
    (["ps", "-a", "--filter", "status=sleepy"], 125, "unknown container state: sleepy: invalid argument"),
    (["events", "--filter", "bogus=1", "--stream=false"], 125, "invalid filter"),
    (["logs", "--since", "garbage", "x"], 125, 'parsing --since "garbage": unable to interpret time value'),
    (["events", "--since", "garbage", "--stream=false"], 125,
     "unable to convert since time of garbage: unable to interpret time value"),
    (["exec"], 125, "exec requires the name or ID of a container"),
    (["exec", "nope"], 125, "must provide a non-empty command to start an exec session: invalid argument"),
    (["cp", "a", "b"], 125, "you must use just one container"),
])
def test_one_line_errors(hull, argv, code, text):
    hull(*argv).assert_error(code, text)


@pytest.mark.parametrize("argv,text", [
    (["inspect", "nope"], 'no such object: "nope"'),
    (["inspect", "--type", "container", "nope"], 'no such container "nope"'),
    (["container", "inspect", "nope"], 'no such container "nope"'),
    (["inspect", "--type", "volume", "nope"], "no such volume nope"),
    (["volume", "inspect", "nope"], "no such volume nope"),
    (["pod", "inspect", "nope"], "no such pod nope"),
    (["secret", "inspect", "nope"], 'inspecting secret: no secret with name or id "nope": no such secret'),
    (["image", "inspect", "nope"], "nope: image not known"),
])
def test_inspect_missing_prints_empty_list(hull, argv, text):
    """Podman prints `[]` (a script piping to jq gets valid JSON) and its own wording."""
    res = hull(*argv)
    assert res.assert_error(125) == f"Error: {text}"
    assert res.stdout == "[]\n"


def test_exists_exit_codes(hull):
    assert hull("container", "exists", "nope").returncode == 1
    assert hull("volume", "exists", "nope").returncode == 1
    assert hull("secret", "exists", "nope").returncode == 1
