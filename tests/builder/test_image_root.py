"""Pure decisions of the in-builder steps that shape the image root: the locale's
localedef arguments, the C library by ELIBC, which compiler runtime libraries to copy."""

import json
from pathlib import Path

import pytest

from staves.builder.image_root import (
    c_library,
    localedef_arguments,
    make_locale,
    needed_sonames,
    runtime_libraries,
)
from staves.builder.protocol import FAILURE_MARK


@pytest.mark.parametrize(
    ("name", "charset", "argv"),
    [
        ("en_US.UTF-8", "UTF-8", ["-i", "en_US", "-f", "UTF-8", "en_US.UTF-8"]),
        ("de_DE@euro", "ISO-8859-15", ["-i", "de_DE@euro", "-f", "ISO-8859-15", "de_DE@euro"]),
        ("C.UTF-8", "UTF-8", ["-i", "C", "-f", "UTF-8", "C.UTF-8"]),
        ("sr_RS.UTF-8@latin", "UTF-8", ["-i", "sr_RS@latin", "-f", "UTF-8", "sr_RS.UTF-8@latin"]),
    ],
)
def test_locale_is_made_from_its_source_under_the_name_lang_uses(
    name: str, charset: str, argv: list[str]
) -> None:
    assert localedef_arguments(name, charset) == argv


def test_glibc_and_musl_are_told_apart_by_elibc() -> None:
    glibc = c_library("glibc", "amd64")
    musl = c_library("musl", "amd64")
    assert glibc is not None and musl is not None
    assert (glibc.loader, glibc.libc) == ("ld-linux-x86-64.so.2", "libc.so.6")
    # musl has no libc.so.6: its loader is its libc.
    assert (musl.loader, musl.libc) == ("ld-musl-x86_64.so.1", "ld-musl-x86_64.so.1")
    assert c_library("musl", "arm64").loader == "ld-musl-aarch64.so.1"  # type: ignore[union-attr]
    assert c_library("bionic", "amd64") is None


def test_locale_on_musl_is_one_clear_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = make_locale(tmp_path, {"name": "en_US.UTF-8", "charset": "UTF-8"}, "musl")
    assert code == 1
    said = capsys.readouterr()
    lines = said.err.strip().splitlines()  # the log's line; the host reads the record
    assert len(lines) == 1 and lines[0].startswith(FAILURE_MARK)
    assert "musl" in lines[0] and "locale" in lines[0]
    (record,) = [json.loads(line) for line in said.out.splitlines()]
    assert record["event"] == "failed" and record["message"] == lines[0][len(FAILURE_MARK) :]
    assert not (tmp_path / "usr").exists()


def write_needed(vdb: Path, package: str, *lines: str) -> None:
    entry = vdb / package
    entry.mkdir(parents=True)
    (entry / "NEEDED.ELF.2").write_text("".join(f"{line}\n" for line in lines))


def test_runtime_libraries_follow_what_the_roots_elf_files_need(tmp_path: Path) -> None:
    vdb = tmp_path / "var/db/pkg"
    write_needed(vdb, "app-misc/omp-1", "X86_64;/usr/bin/omp;;;libgomp.so.1,libc.so.6")
    write_needed(
        vdb,
        "sci-libs/fort-1",
        "X86_64;/usr/lib64/libfort.so.1;libfort.so.1;;libgfortran.so.5,libquadmath.so.0",
        "X86_64;/usr/bin/cxx;;;libstdc++.so.6,libm.so.6,libatomic.so.1",
    )
    needed = needed_sonames(vdb)
    assert {"libgomp.so.1", "libgfortran.so.5", "libc.so.6", "libatomic.so.1"} <= needed
    glibc, musl = c_library("glibc", "amd64"), c_library("musl", "amd64")
    assert runtime_libraries(needed, glibc, stdlib=False) == [
        "libatomic.so.1",
        "libgcc_s.so.1",
        "libgfortran.so.5",
        "libgomp.so.1",
        "libquadmath.so.0",
        "libstdc++.so.6",
    ]
    # Nothing needs the runtime: glibc still loads libgcc_s; musl gets only what is asked.
    assert runtime_libraries({"libc.so.6"}, glibc, stdlib=False) == ["libgcc_s.so.1"]
    assert runtime_libraries(set(), musl, stdlib=False) == []
    assert runtime_libraries(set(), musl, stdlib=True) == ["libstdc++.so.6"]
