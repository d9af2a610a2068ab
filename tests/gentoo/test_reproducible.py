"""Two builds of one spec at different moments: the same layers, and what differs, by package."""

import io
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest

from oci.compare import EntryDifference, compare_entries, layer_entries
from staves.gentoo.layering import package_time
from staves.gentoo.reproducible import NO_PACKAGE, by_package, describe
from staves.gentoo.rootfs_layers import pack_rootfs
from staves.gentoo.vdb import (
    epoch_of_environment,
    package_from_files,
    parse_contents,
    read_vdb_dir,
)
from tests.vdb_samples import (
    ALL,
    HELLO,
    UNOWNED,
    VDB,
    Pkg,
    environment_bz2,
    make_rootfs,
    podman_archive,
)

SNAPSHOT = 1_796_000_000  # the build's epoch
BUILT = 1_795_000_000  # SOURCE_DATE_EPOCH the packages were built with


def built_at(moment: int, packages: list[Pkg] = ALL) -> list[Pkg]:
    """The packages as a build from scratch at ``moment`` leaves them: files installed
    then, CONTENTS and BUILD_TIME saying so, all built with SOURCE_DATE_EPOCH=BUILT."""
    return [
        replace(p, mtime=moment, built_epoch=BUILT, meta={**p.meta, "BUILD_TIME": str(moment)})
        for p in packages
    ]


def packed(tmp_path: Path, name: str, packages: list[Pkg], unowned=UNOWNED, **kwargs):
    root = make_rootfs(tmp_path / name, packages, unowned)
    found = read_vdb_dir(root / VDB)
    result = pack_rootfs(
        io.BytesIO(podman_archive(root)),
        found,
        blob_dir=tmp_path / f"{name}-blobs",
        epoch=SNAPSHOT,
        **kwargs,
    )
    return found, result


@pytest.mark.parametrize("layers", [1, 3, 6])
@pytest.mark.parametrize("vdb", ["trim", "full"])
def test_builds_at_different_moments_give_the_same_layers(
    tmp_path: Path, layers: int, vdb: str
) -> None:
    _, first = packed(tmp_path, "a", built_at(1_797_000_000), layers=layers, vdb=vdb)
    _, second = packed(tmp_path, "b", built_at(1_798_000_000), layers=layers, vdb=vdb)
    assert [x.digest for x in first.layers] == [x.digest for x in second.layers]


def test_the_database_records_the_times_the_files_carry(tmp_path: Path) -> None:
    _, result = packed(tmp_path, "a", built_at(1_797_000_000), layers=6, vdb="full")
    entries = layer_entries(result.layers)
    for layer in result.layers:
        with layer.open() as stream, tarfile.open(fileobj=stream, mode="r|*") as tar:
            for info in tar:
                if info.name.endswith("/CONTENTS"):
                    contents = parse_contents(tar.extractfile(info).read().decode())  # type: ignore[union-attr]
                    for entry in contents:
                        if entry.kind in ("obj", "sym"):
                            assert entry.mtime == entries[entry.path.lstrip("/")].mtime
                if info.name.endswith("/BUILD_TIME"):
                    stamp = tar.extractfile(info).read()  # type: ignore[union-attr]
                    assert stamp == f"{info.mtime}\n".encode()
    assert entries["usr/bin/hello"].mtime == BUILT
    assert entries["etc/ld.so.cache"].mtime == SNAPSHOT  # owned by no package: the epoch


def test_a_package_keeps_the_epoch_it_was_built_with() -> None:
    pkg = Pkg("x/y-1")
    assert package_time(read_one(pkg, built_epoch=100, build_time=500), 1000) == 100
    # Reused from a cache filled under another epoch: still its own time.
    assert package_time(read_one(pkg, built_epoch=2000, build_time=500), 1000) == 2000
    # Built by Portage without SOURCE_DATE_EPOCH (an older cache): its BUILD_TIME.
    assert package_time(read_one(pkg, built_epoch=None, build_time=500), 1000) == 500
    assert package_time(read_one(pkg, built_epoch=None, build_time=None), 1000) == 1000


def read_one(pkg: Pkg, built_epoch: int | None, build_time: int | None):
    from staves.gentoo.vdb import package_from_files

    category, pf = pkg.key.split("/")
    files = {"BUILD_TIME": "" if build_time is None else str(build_time)}
    if built_epoch is not None:
        files["SOURCE_DATE_EPOCH"] = str(built_epoch)
    return package_from_files(category, pf, files)


def test_the_epoch_a_package_was_built_with_comes_from_its_saved_environment() -> None:
    assert epoch_of_environment(environment_bz2(1_795_000_000)) == "1795000000"
    assert epoch_of_environment(environment_bz2(None)) is None
    assert epoch_of_environment(b"not bzip2") is None


def test_a_file_a_package_builds_differently_is_named_with_its_package(tmp_path: Path) -> None:
    moment = 1_797_000_000
    hello = replace(HELLO, files={**HELLO.files, "/usr/bin/hello": b"built at 1\n"})
    again = replace(HELLO, files={**HELLO.files, "/usr/bin/hello": b"built at 2\n"})
    others = [p for p in ALL if p.key != HELLO.key]
    packages, first = packed(tmp_path, "a", built_at(moment, [*others, hello]), layers=3)
    _, second = packed(
        tmp_path,
        "b",
        built_at(moment, [*others, again]),
        unowned={**UNOWNED, "/etc/ld.so.cache": b"cachf"},
        layers=3,
    )
    differences = compare_entries(layer_entries(first.layers), layer_entries(second.layers))
    groups = by_package(differences, packages)
    assert [g.package for g in groups] == [HELLO.key, NO_PACKAGE]
    # The file, and the checksum its package's CONTENTS records for it.
    assert describe(groups) == [
        f"{HELLO.key}: /usr/bin/hello (content), /{VDB}/{HELLO.key}/CONTENTS (content)",
        f"{NO_PACKAGE}: /etc/ld.so.cache (content)",
    ]


def test_a_file_under_a_link_no_package_lists_is_still_named_with_its_package() -> None:
    # baselayout lays /lib64 -> usr/lib64 outside any CONTENTS; glibc lists /lib64/libc.so.6.
    glibc = package_from_files(
        "sys-libs", "glibc-2.36-r1", {"CONTENTS": "obj /lib64/libc.so.6 0 1\n"}
    )
    differences = [EntryDifference("usr/lib64/libc.so.6", ("content",))]
    assert [g.package for g in by_package(differences, [glibc])] == [NO_PACKAGE]
    grouped = by_package(differences, [glibc], {"/lib64": "/usr/lib64"})
    assert [g.package for g in grouped] == ["sys-libs/glibc-2.36-r1"]
