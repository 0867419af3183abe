"""remove_tree on layer-shaped trees, as an unprivileged user for whom modes matter."""

from __future__ import annotations

import multiprocessing
import os
import pwd
import stat
from pathlib import Path

import pytest

from engine.errors import StorageError
from engine.store.rmtree import remove_tree


def _unprivileged_uid() -> int:
    for name in ("hulltest", "nobody"):
        try:
            return pwd.getpwnam(name).pw_uid
        except KeyError:
            continue
    pytest.skip("no unprivileged user to drop to")


def _as_user(uid: int | None, fn, *args) -> None:
    """Run fn in a forked child that is `uid` (None: ourselves); fail on its failure."""
    ctx = multiprocessing.get_context("fork")
    errors = ctx.Queue()

    def child() -> None:
        try:
            if uid is not None:
                os.setgroups([])
                os.setgid(uid)
                os.setuid(uid)
            fn(*args)
        except BaseException as exc:  # report it to the test
            errors.put(repr(exc))
            raise SystemExit(1)

    proc = ctx.Process(target=child)
    proc.start()
    proc.join(30)
    assert proc.exitcode == 0, errors.get(timeout=1) if not errors.empty() else proc.exitcode


def _build_and_remove(base: str) -> None:
    root = Path(base) / "tree"
    (root / "usr" / "bin").mkdir(parents=True)
    (root / "usr" / "bin" / "tool").write_bytes(b"x")
    (root / "locked" / "inner").mkdir(parents=True)
    (root / "locked" / "inner" / "secret").write_bytes(b"y")
    outside = Path(base) / "outside"
    outside.mkdir()
    (outside / "keep").write_bytes(b"z")
    os.chmod(outside, 0o555)  # a followed symlink would try (and fail) to open this up
    os.symlink(outside, root / "usr" / "escape")
    os.chmod(root / "locked" / "inner", 0o000)
    os.chmod(root / "locked", 0o500)
    os.chmod(root / "usr" / "bin", 0o555)
    os.chmod(root / "usr", 0o555)
    os.chmod(root, 0o555)
    remove_tree(root)
    assert not root.exists()
    assert (outside / "keep").read_bytes() == b"z"
    assert stat.S_IMODE(outside.stat().st_mode) == 0o555


@pytest.fixture
def user_dir(tmp_path: Path):
    """(uid to run as or None, a directory it owns and can reach)."""
    if os.geteuid() != 0:
        yield None, tmp_path
        return
    import shutil
    import tempfile

    uid = _unprivileged_uid()
    base = Path(tempfile.mkdtemp(prefix="hull-rmtree-"))  # pytest's tmp is 0700 root's
    os.chown(base, uid, uid)
    yield uid, base
    shutil.rmtree(base, ignore_errors=True)


def test_read_only_and_unreadable_directories_are_removed(user_dir) -> None:
    uid, base = user_dir
    _as_user(uid, _build_and_remove, str(base))


def test_single_files_symlinks_and_missing_paths(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"1")
    os.symlink(tmp_path / "f", tmp_path / "link")
    remove_tree(tmp_path / "link")
    assert (tmp_path / "f").exists() and not (tmp_path / "link").is_symlink()
    remove_tree(tmp_path / "f")
    remove_tree(tmp_path / "never-existed")
    assert os.listdir(tmp_path) == []


def test_what_cannot_be_removed_is_a_storage_error(user_dir) -> None:
    uid, base = user_dir
    if uid is not None:
        tree = base / "roots"
        (tree / "d").mkdir(parents=True)
        (tree / "d" / "f").write_bytes(b"1")
        os.chmod(tree / "d", 0o755)  # root's directory: the user cannot open it up
        os.chown(tree, uid, uid)

        def attempt() -> None:
            with pytest.raises(StorageError, match="cannot remove .*Permission denied"):
                remove_tree(tree)

        _as_user(uid, attempt)
        assert (tree / "d" / "f").exists()
    else:
        pytest.skip("needs root to build a tree another user owns")
