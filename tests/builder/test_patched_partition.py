"""A patched build's partition starts from the unpatched build's binary packages of every
package no patch touches; a patched package's are never taken."""

from pathlib import Path

from staves.builder.builder_packages import FROM_BUILDER_RECORD
from staves.builder.patched_partition import take_unpatched, touched


def partition(top: Path, *files: str) -> Path:
    for name in files:
        (top / name).parent.mkdir(parents=True, exist_ok=True)
        (top / name).write_bytes(name.encode())
    return top


def test_only_packages_no_patch_touches_are_taken(tmp_path: Path) -> None:
    base = partition(
        tmp_path / "base",
        "app-misc/hello/hello-1.0-1.gpkg.tar",
        "dev-libs/libgreet/libgreet-1.0-1.gpkg.tar",
        "dev-libs/libgreet/libgreet-1.0-2.gpkg.tar",
        "sys-libs/glibc-2.36.tbz2",
        "dev-libs/libgreet/.libgreet-1.0-3.gpkg.tar.partial",
        "Packages",
        FROM_BUILDER_RECORD,
    )
    target = partition(tmp_path / "patched", "dev-libs/libgreet/libgreet-1.0-2.gpkg.tar")
    (target / "dev-libs/libgreet/libgreet-1.0-2.gpkg.tar").write_bytes(b"its own")
    linked = take_unpatched(str(base), str(target), frozenset({"app-misc/hello-1.0-r0"}))
    assert linked == ["dev-libs/libgreet/libgreet-1.0-1.gpkg.tar", "sys-libs/glibc-2.36.tbz2"]
    assert (target / linked[0]).stat().st_ino == (base / linked[0]).stat().st_ino
    assert (target / "dev-libs/libgreet/libgreet-1.0-2.gpkg.tar").read_bytes() == b"its own"
    assert not (target / "app-misc").exists()
    assert not (target / "Packages").exists()
    assert take_unpatched(str(base), str(target), frozenset()) == [
        "app-misc/hello/hello-1.0-1.gpkg.tar"
    ]
    assert take_unpatched(str(tmp_path / "none"), str(target), frozenset()) == []


def test_a_patch_directory_touches_every_version_of_its_package() -> None:
    directories = frozenset({"app-misc/hello-1.0-r0", "dev-libs/libgreet"})
    assert touched("app-misc/hello", directories) and touched("dev-libs/libgreet", directories)
    assert not touched("app-misc/hello-world", directories)
