"""Overlay option strings: escaping and validation (no mounting here)."""

from pathlib import Path

import pytest

from engine.errors import InvalidArgument, StorageError
from engine.runtime.overlay import escape_option_path, mount_overlay, overlay_options


def test_escape_separators():
    assert escape_option_path("/a:b,c\\d") == "/a\\:b\\,c\\\\d"
    assert escape_option_path("/plain/path") == "/plain/path"


def test_options_lower_only():
    assert overlay_options(["/l1", "/l:2"], None, None) == "lowerdir=/l1:/l\\:2,userxattr"


def test_options_with_upper():
    assert overlay_options(["/l1"], "/u,x", "/w") == "lowerdir=/l1,upperdir=/u\\,x,workdir=/w,userxattr"


def test_options_volatile_only_with_upper():
    assert overlay_options(["/l1"], "/u", "/w", volatile=True) == \
        "lowerdir=/l1,upperdir=/u,workdir=/w,volatile,userxattr"
    assert overlay_options(["/l1", "/l2"], None, None, volatile=True) == "lowerdir=/l1:/l2,userxattr"


def test_too_many_layers(tmp_path: Path):
    with pytest.raises(InvalidArgument, match="at most 500"):
        mount_overlay([tmp_path] * 501, tmp_path)


def test_no_layers(tmp_path: Path):
    with pytest.raises(InvalidArgument):
        mount_overlay([], tmp_path)


def test_upper_without_work(tmp_path: Path):
    with pytest.raises(InvalidArgument, match="go together"):
        mount_overlay([tmp_path], tmp_path, upper=tmp_path)


def test_missing_lower(tmp_path: Path):
    with pytest.raises(StorageError, match="is not a directory"):
        mount_overlay([tmp_path / "nope", tmp_path], tmp_path)
