"""Kept roots: the image root a spec built last, kept in the cache volume for its next
build to update; one build at a time, and only a root whose build finished."""

import fcntl
import os
from pathlib import Path

from staves.builder.roots import ROOT_NAME, close_root, kept_root_dir, open_root


def test_without_a_name_the_root_is_fresh_and_not_kept(tmp_path: Path) -> None:
    root = open_root(str(tmp_path / "rootfs"), str(tmp_path / "pkgs/image-env-1"), None)
    assert root.path == root.where == tmp_path / "rootfs"
    assert root.path.is_dir() and not root.reused and root.kept is None


def test_a_finished_root_is_kept_and_updated_by_the_next_build(tmp_path: Path) -> None:
    where, partition = str(tmp_path / "rootfs"), str(tmp_path / "key/image-env-1")
    first = open_root(where, partition, "localhost/shapes")
    assert not first.reused
    assert first.path == kept_root_dir(partition, "localhost/shapes") / ROOT_NAME
    # The host reads the root where the plan says, through a link to the kept one.
    assert Path(where).is_symlink() and Path(where).resolve() == first.path.resolve()
    (first.path / "usr/lib64").mkdir(parents=True)
    (first.path / "usr/lib64/libgcc_s.so.1").write_text("copied in by staves")
    (first.path / "usr/bin").mkdir(parents=True)
    (first.path / "usr/bin/shaper").write_text("merged by Portage")
    first.added = ["usr/lib64/libgcc_s.so.1"]
    close_root(first, complete=True)
    second = open_root(where, partition, "localhost/shapes")
    assert second.reused and second.path == first.path
    assert (second.path / "usr/bin/shaper").is_file()
    # What staves added after the merge goes, to be added again if still needed.
    assert not (second.path / "usr/lib64/libgcc_s.so.1").exists()
    close_root(second, complete=True)
    # Another image keeps a root of its own.
    other = open_root(where, partition, "localhost/other")
    assert not other.reused and other.path != first.path
    close_root(other, complete=True)


def test_a_root_whose_build_did_not_finish_starts_afresh(tmp_path: Path) -> None:
    where, partition = str(tmp_path / "rootfs"), str(tmp_path / "key/image-env-1")
    first = open_root(where, partition, "x")
    (first.path / "half-merged").write_text("")
    close_root(first, complete=False)
    again = open_root(where, partition, "x")
    assert not again.reused and not (again.path / "half-merged").exists()
    close_root(again, complete=True)


def test_a_root_another_build_holds_is_left_to_it(tmp_path: Path) -> None:
    where, partition = str(tmp_path / "rootfs"), str(tmp_path / "key/image-env-1")
    kept = kept_root_dir(partition, "x")
    kept.mkdir(parents=True)
    other_build = os.open(kept / "lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(other_build, fcntl.LOCK_EX)
        root = open_root(where, partition, "x")
        assert root.kept is None and not root.reused
        assert root.path == Path(where) and not Path(where).is_symlink()
    finally:
        os.close(other_build)


def test_a_root_merged_otherwise_starts_afresh(tmp_path: Path) -> None:
    # INSTALL_MASK, say: Portage merges nothing again when only it changed.
    where, partition = str(tmp_path / "rootfs"), str(tmp_path / "key/image-env-1")
    first = open_root(where, partition, "x", shape="headers-masked")
    close_root(first, complete=True)
    same = open_root(where, partition, "x", shape="headers-masked")
    assert same.reused
    close_root(same, complete=True)
    other = open_root(where, partition, "x", shape="headers-kept")
    assert other.kept is not None and not other.reused
    close_root(other, complete=True)


def test_the_runtime_entry_staves_made_goes_before_the_update(tmp_path: Path) -> None:
    # The compiler runtime's package database entry is Staves' too: Portage must not find
    # it installed when it updates the kept root (it would count sys-devel/gcc as leaving).
    where, partition = str(tmp_path / "rootfs"), str(tmp_path / "key/image-env-1")
    first = open_root(where, partition, "x")
    entry = first.path / "var/db/pkg/sys-devel/gcc-13.2.0"
    entry.mkdir(parents=True)
    (entry / "CONTENTS").write_text("obj /usr/lib64/libgcc_s.so.1 00 1\n")
    (first.path / "var/db/pkg/sys-libs/glibc-2.39").mkdir(parents=True)
    first.added = ["usr/lib64/libgcc_s.so.1", "var/db/pkg/sys-devel/gcc-13.2.0"]
    close_root(first, complete=True)
    second = open_root(where, partition, "x")
    assert second.reused and not entry.exists()
    assert (second.path / "var/db/pkg/sys-libs/glibc-2.39").is_dir()
    close_root(second, complete=True)
