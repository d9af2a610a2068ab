"""What the debug image's packages change in a copy of the image root, as the tar of its
own layer: new and changed entries with the directories above them, whiteouts for what
they removed, nothing for what they left as it was."""

import os
import shutil
import subprocess
import tarfile
from pathlib import Path

from staves.builder.debug_root import archive_changes, root_changes
from tests.conftest import require_tools


def make_root(root: Path) -> None:
    (root / "usr/bin").mkdir(parents=True)
    (root / "usr/bin/hello").write_bytes(b"hello")
    (root / "etc").mkdir()
    (root / "etc/ld.so.cache").write_bytes(b"cache 1")
    (root / "etc/old.conf").write_bytes(b"old")
    (root / "var/db/pkg/app-misc/old-1").mkdir(parents=True)
    (root / "var/db/pkg/app-misc/old-1/CONTENTS").write_bytes(b"obj /etc/old.conf\n")
    os.symlink("usr/bin", root / "bin")


def test_only_what_changed_is_taken_with_the_directories_above_it(tmp_path: Path) -> None:
    require_tools("cp", "tar")
    before, after = tmp_path / "before", tmp_path / "after"
    make_root(before)
    subprocess.run(["cp", "-a", str(before), str(after)], check=True)
    (after / "usr/bin/dash").write_bytes(b"dash")  # new
    (after / "etc/ld.so.cache").write_bytes(b"cache 2")  # changed, same size
    os.utime(after / "usr/bin/hello", (1, 1))  # only its time: the same in a layer
    (after / "etc/old.conf").unlink()  # removed
    shutil.rmtree(after / "var/db/pkg/app-misc/old-1")  # removed, with what is below
    (after / "bin").unlink()
    os.symlink("usr/sbin", after / "bin")  # the link's target changed
    added, gone = root_changes(before, after)
    assert added == [
        "bin",
        "etc",
        "etc/ld.so.cache",
        "usr",
        "usr/bin",
        "usr/bin/dash",
        "var",
        "var/db",
        "var/db/pkg",
        "var/db/pkg/app-misc",
    ]
    assert gone == ["etc/old.conf", "var/db/pkg/app-misc/old-1"]

    archive = tmp_path / "changes.tar"
    archive_changes(after, added, gone, archive)
    with tarfile.open(archive) as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert tar.extractfile("usr/bin/dash").read() == b"dash"  # type: ignore[union-attr]
    assert members["bin"].issym() and members["bin"].linkname == "usr/sbin"
    assert members["usr/bin"].isdir()
    assert "usr/bin/hello" not in members
    assert "etc/.wh.old.conf" in members and "var/db/pkg/app-misc/.wh.old-1" in members
    assert not archive.with_suffix(".list").exists()


def test_nothing_changed_gives_an_empty_archive(tmp_path: Path) -> None:
    require_tools("cp", "tar")
    before, after = tmp_path / "before", tmp_path / "after"
    make_root(before)
    subprocess.run(["cp", "-a", str(before), str(after)], check=True)
    assert root_changes(before, after) == ([], [])
    archive_changes(after, [], [], tmp_path / "changes.tar")
    with tarfile.open(tmp_path / "changes.tar") as tar:
        assert tar.getmembers() == []
