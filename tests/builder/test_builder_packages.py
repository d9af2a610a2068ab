"""The builder's installed packages stand in for the image's only where the image root
would build them identically, and the partition remembers which ones it got."""

import hashlib
from pathlib import Path

from staves.builder.builder_packages import (
    as_installed,
    came_from_builder,
    read_from_builder,
    remember_from_builder,
    same_use,
    spec_changes_make_conf,
)
from tests.builder.plans import plan_for

SPEC = 'name = "x"\npackages = ["dev-libs/libshape"]\n'


def test_only_a_spec_without_make_conf_settings_of_its_own_reuses_the_builders() -> None:
    assert not spec_changes_make_conf(plan_for(SPEC))
    assert not spec_changes_make_conf(plan_for(SPEC + "['dev-libs/libshape']\nuse = ['x']\n"))
    assert spec_changes_make_conf(plan_for(SPEC + "[env]\nCFLAGS = '-O3'\n"))
    named = SPEC + "[env.fast]\nCFLAGS = '-O3'\n['dev-libs/libshape']\nenv = ['fast']\n"
    assert spec_changes_make_conf(plan_for(named))


def installed_entry(tmp_path: Path, use: str, files: dict[str, bytes]) -> Path:
    entry = tmp_path / "var/db/pkg/dev-libs/libshape-1"
    entry.mkdir(parents=True)
    (entry / "USE").write_text(use + "\n")
    (entry / "environment.bz2").write_bytes(b"")
    lines = []
    for path, data in files.items():
        (tmp_path / path.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path.lstrip("/")).write_bytes(data)
        lines.append(f"obj {path} {hashlib.md5(data).hexdigest()} 1700000000")
    (entry / "CONTENTS").write_text("dir /usr\n" + "\n".join(lines) + "\n")
    return entry


def test_the_same_use_flags_among_the_packages_own(tmp_path: Path) -> None:
    entry = installed_entry(tmp_path, "amd64 elibc_glibc round", {})
    iuse = frozenset({"round", "square"})
    assert same_use(entry, frozenset({"round", "amd64"}), iuse)
    assert not same_use(entry, frozenset({"square"}), iuse)


def test_a_package_changed_since_it_was_installed_is_not_taken(tmp_path: Path) -> None:
    files = {"/usr/lib64/libshape.so.1": b"\x7fELF", "/etc/shape.conf": b"round\n"}
    entry = installed_entry(tmp_path, "", files)
    assert as_installed(entry, tmp_path)
    (tmp_path / "etc/shape.conf").write_text("edited in the builder\n")
    assert not as_installed(entry, tmp_path)
    (tmp_path / "etc/shape.conf").write_bytes(b"round\n")
    (entry / "environment.bz2").unlink()  # a record without its saved environment
    assert not as_installed(entry, tmp_path)


def test_the_partition_remembers_the_binary_packages_the_builder_gave(tmp_path: Path) -> None:
    partition, root = tmp_path / "image-env-1", tmp_path / "root"
    partition.mkdir()
    entry = root / "var/db/pkg/dev-libs/libshape-1"
    entry.mkdir(parents=True)
    (entry / "BINPKGMD5").write_text("0123abcd\n")
    remember_from_builder(str(partition), root, ["dev-libs/libshape-1"])
    known = read_from_builder(str(partition))
    assert came_from_builder(entry, known)
    # The same version from another binary package (compiled) did not come from it.
    (entry / "BINPKGMD5").write_text("ffff0000\n")
    assert not came_from_builder(entry, known)
