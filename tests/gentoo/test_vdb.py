"""Reading the installed-package database."""

import bz2
import io
import tarfile
from pathlib import Path

import pytest
from hypothesis import given

from staves.gentoo import vdb
from staves.gentoo.vdb import (
    ContentsEntry,
    VdbError,
    parse_contents_line,
    read_vdb_dir,
    read_vdb_tar,
    split_pf,
)
from tests.strategies import package_names, versions
from tests.vdb_samples import ALL, VDB, make_rootfs


@pytest.mark.parametrize(
    ("pf", "expected"),
    [
        ("glibc-2.39-r6", ("glibc", "2.39", "2.39-r6")),
        ("foo-bar-1.0", ("foo-bar", "1.0", "1.0")),
        ("gtk+-3.24.41", ("gtk+", "3.24.41", "3.24.41")),
        ("foo-1bar-1.0_rc2_p3", ("foo-1bar", "1.0_rc2_p3", "1.0_rc2_p3")),
        ("perl-5.38.2-r0", ("perl", "5.38.2", "5.38.2-r0")),
        ("x11-1.2a", ("x11", "1.2a", "1.2a")),
    ],
)
def test_split_pf(pf: str, expected: tuple[str, str, str]) -> None:
    assert split_pf(pf) == expected


@pytest.mark.parametrize("pf", ["foo", "foo-", "-1.0", "foo-1.0-rc1", "foo-1.0_beta-r"])
def test_split_pf_refuses(pf: str) -> None:
    with pytest.raises(VdbError):
        split_pf(pf)


@given(pn=package_names, pvr=versions)
def test_split_pf_inverts_joining(pn: str, pvr: str) -> None:
    got_pn, pv, got_pvr = split_pf(f"{pn}-{pvr}")
    assert got_pn == pn
    assert got_pvr == pvr
    assert pv == pvr.split("-r")[0]


def test_contents_lines() -> None:
    assert parse_contents_line("dir /usr/share/my dir") == ContentsEntry("dir", "/usr/share/my dir")
    assert parse_contents_line(
        "obj /usr/share/a b c.txt d41d8cd98f00b204e9800998ecf8427e 1700000000"
    ) == ContentsEntry(
        "obj", "/usr/share/a b c.txt", "d41d8cd98f00b204e9800998ecf8427e", 1700000000
    )
    assert parse_contents_line("sym /usr/lib/a b.so -> a b.so.1 1700000001") == ContentsEntry(
        "sym", "/usr/lib/a b.so", None, 1700000001, "a b.so.1"
    )
    assert parse_contents_line("fif /run/x") == ContentsEntry("fif", "/run/x")
    assert parse_contents_line("   ") is None
    with pytest.raises(VdbError):
        parse_contents_line("obj /x nomtime")
    with pytest.raises(VdbError):
        parse_contents_line("weird /x")


def test_read_vdb_dir_and_tar_agree(tmp_path: Path) -> None:
    root = make_rootfs(tmp_path / "root", ALL)
    from_dir = read_vdb_dir(root / VDB)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(root / VDB, arcname="pkg")
    buf.seek(0)
    from_tar = read_vdb_tar(buf, strip_components=1)
    assert from_dir == from_tar
    assert [p.key for p in from_dir] == [
        "app-misc/hello-1.0-r1",
        "dev-libs/libgreet-1.0",
        "sys-libs/glibc-2.39-r6",
        "virtual/libc-1",
    ]
    glibc = from_dir[2]
    assert (glibc.pn, glibc.pvr, glibc.slot, glibc.repository) == (
        "glibc",
        "2.39-r6",
        "0",
        "gentoo",
    )
    assert glibc.enabled_use == ("multiarch", "ssp")
    assert glibc.disabled_use == ("static-libs", "systemtap")
    assert glibc.build_time == 1700000000 and glibc.build_id == "3"
    assert glibc.cflags == "-O2 -pipe" and glibc.chost == "x86_64-pc-linux-gnu"
    assert glibc.size == 9 * 4000 + 10
    hello = from_dir[0]
    assert "/usr/share/hello/a file with spaces.txt" in {c.path for c in hello.contents}
    assert from_dir[3].contents == ()


def test_lock_and_merge_directories_are_skipped(tmp_path: Path) -> None:
    root = make_rootfs(tmp_path / "root", ALL)
    (root / VDB / "app-misc" / "-MERGING-hello-2").mkdir()
    (root / VDB / "app-misc" / ".hello-1.0-r1.portage_lockfile").mkdir()
    assert len(read_vdb_dir(root / VDB)) == 4


def test_a_saved_environment_that_expands_past_the_cap_is_not_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = b'declare -x SOURCE_DATE_EPOCH="1700000000"\n' + b"#" * 4096
    assert vdb.epoch_of_environment(bz2.compress(text)) == "1700000000"
    # An image's layer is untrusted: a bz2 bomb must not be expanded whole into memory.
    monkeypatch.setattr(vdb, "MAX_ENVIRONMENT", 1024)
    assert vdb.epoch_of_environment(bz2.compress(text)) is None
    assert vdb.metadata_texts("environment.bz2", b"not bz2") == []
