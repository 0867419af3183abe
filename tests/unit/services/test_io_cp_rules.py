"""Docker's cp rules table (docker-cp(1)) as plan_copy decides it."""

import pytest

from engine.errors import InvalidArgument, NotFound
from engine.services.container_cp import DIR, FILE, MISSING, Plan, contents_only, plan_copy


@pytest.mark.parametrize("src,src_dir,dest,kind,parent_ok,expected", [
    # SRC is a file
    ("/etc/hosts", False, "/tmp/new", MISSING, True, Plan("/tmp", "new")),
    ("/etc/hosts", False, "/tmp/old", FILE, True, Plan("/tmp", "old")),
    ("/etc/hosts", False, "/tmp", DIR, True, Plan("/tmp", "hosts")),
    ("/etc/hosts", False, "/tmp/", DIR, True, Plan("/tmp/", "hosts")),
    ("etc/hosts", False, "out", MISSING, True, Plan(".", "out")),
    # SRC is a directory
    ("/etc", True, "/tmp/new", MISSING, True, Plan("/tmp", "new")),
    ("/etc/.", True, "/tmp/new", MISSING, True, Plan("/tmp", "new")),
    ("/etc", True, "/tmp/x", DIR, True, Plan("/tmp/x", "etc")),
    ("/etc/", True, "/tmp/x", DIR, True, Plan("/tmp/x", "etc")),
    ("/etc/.", True, "/tmp/x", DIR, True, Plan("/tmp/x", None)),
    ("/", True, "/tmp/x", DIR, True, Plan("/tmp/x", None)),
    ("/etc", True, "/tmp/new/", MISSING, True, Plan("/tmp", "new")),
])
def test_rules(src, src_dir, dest, kind, parent_ok, expected):
    assert plan_copy(src, src_dir, dest, kind, parent_ok) == expected


@pytest.mark.parametrize("src,src_dir,dest,kind,parent_ok,error,text", [
    ("/etc", True, "/tmp/file", FILE, True, InvalidArgument, "must be a directory"),
    ("/etc/hosts", False, "/tmp/nodir/", MISSING, True, NotFound, "must exist"),
    ("/etc/hosts", False, "/nope/x", MISSING, False, NotFound, "could not be found"),
    ("/etc/hosts/", False, "/tmp", DIR, True, InvalidArgument, "not a directory"),
    ("/etc/hosts/.", False, "/tmp", DIR, True, InvalidArgument, "not a directory"),
    ("/etc/hosts", False, "/tmp/file/", FILE, True, InvalidArgument, "not a directory"),
])
def test_rule_errors(src, src_dir, dest, kind, parent_ok, error, text):
    with pytest.raises(error) as info:
        plan_copy(src, src_dir, dest, kind, parent_ok)
    assert text in str(info.value)


def test_contents_only():
    assert contents_only("/etc/.") and contents_only("/") and contents_only(".")
    assert not contents_only("/etc") and not contents_only("/etc/") and not contents_only("/etc/..")
