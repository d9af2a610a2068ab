"""The small files the in-builder program leaves for the host (the root's links, what the
image was made from, the epoch) are read as hostile input: a package's install phases run
as root in the builder and can rewrite them. Whatever they hold, the host reads them
within bounds and says what is wrong in one line, never with a traceback."""

import io
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from oci.document import BadDocument
from staves.build import records


def _tar(files: dict[str, bytes], top: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        top_info = tarfile.TarInfo(top)
        top_info.type = tarfile.DIRTYPE
        tar.addfile(top_info)
        for name, data in files.items():
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def vdb_tar(*cpvs: str) -> bytes:
    """A package database as the program tars it: ``pkg/CATEGORY/PF/FILE``."""
    files = {}
    for cpv in cpvs:
        files[f"{cpv}/CONTENTS"] = b"obj /usr/bin/x 0123 1\n"
        files[f"{cpv}/SLOT"] = b"0\n"
        files[f"{cpv}/repository"] = b"gentoo\n"
    return _tar(files, "pkg")


def _serve(monkeypatch: pytest.MonkeyPatch, files: dict[str, bytes]) -> list[str]:
    """The builder's records directory as Podman's archive endpoint gives it (its own name
    as the top directory); the paths asked for."""
    asked: list[str] = []

    @contextmanager
    def tar_stream(client: Any, container: Any, path: str) -> Iterator[io.BytesIO]:
        asked.append(path)
        named = {k.rsplit("/", 1)[-1]: v for k, v in files.items()}
        yield io.BytesIO(_tar(named, path.rsplit("/", 1)[-1]))

    monkeypatch.setattr(records, "archive_stream", tar_stream)
    return asked


def written(**extra: bytes) -> dict[str, bytes]:
    return {records.VDB_RECORD: vdb_tar("app-misc/hello-1.0", "sys-libs/glibc-2.36"), **extra}


def test_what_the_builder_wrote_is_read_in_one_request(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = _serve(
        monkeypatch,
        written(
            **{
                records.ROOT_LINKS_FILE: b'{"lib64": "lib"}',
                records.SOURCES_FILE: b'{"repositories": []}',
                records.EPOCH_FILE: b"1795999501\n",
                records.PASSWD_RECORD: b"root:x:0:0::/root:/bin/sh\nweb:x:80:80::/:/sbin/nologin\n",
                records.GROUP_RECORD: b"root:x:0:\nweb:x:80:\n",
                records.LICENSE_MAPPING_RECORD: b"[spdx-to-ebuild]\nMIT = MIT\n",
            }
        ),
    )
    read = records.read_records(None, None)
    assert asked == [records.RECORDS_DIR]
    assert [p.key for p in read.packages] == ["app-misc/hello-1.0", "sys-libs/glibc-2.36"]
    assert read.root_links() == {"lib64": "lib"}
    assert read.sources() == {"repositories": []}
    assert read.epoch() == 1795999501
    assert read.accounts().users == {"root", "web"} and "web" in read.accounts().groups
    assert read.license_table() == {"MIT": "MIT"}


def test_records_the_builder_did_not_write_are_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    _serve(monkeypatch, written())
    read = records.read_records(None, None)
    assert read.root_links() == {} and read.sources() == {} and read.epoch() is None
    assert not read.accounts().users and read.license_table() is None


def test_no_package_database_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    _serve(monkeypatch, {records.EPOCH_FILE: b"1\n"})
    with pytest.raises(records.StavesError) as raised:
        records.read_records(None, None)
    assert records.VDB_RECORD in str(raised.value) and "\n" not in str(raised.value)


def test_members_the_host_does_not_know_are_passed_over(monkeypatch: pytest.MonkeyPatch) -> None:
    _serve(monkeypatch, written(**{"/tmp/staves-records/huge": b"x" * (1 << 20)}))
    assert len(records.read_records(None, None).packages) == 2


def test_only_regular_files_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """A link named like a record (the root's /etc/passwd pointing elsewhere) is not one."""
    buffer = io.BytesIO(_tar({"vdb.tar": vdb_tar("app-misc/hello-1.0")}, "staves-records"))
    with tarfile.open(fileobj=buffer, mode="a") as tar:
        link = tarfile.TarInfo("staves-records/passwd")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/shadow"
        tar.addfile(link)

    @contextmanager
    def tar_stream(client: Any, container: Any, path: str) -> Iterator[io.BytesIO]:
        yield io.BytesIO(buffer.getvalue())

    monkeypatch.setattr(records, "archive_stream", tar_stream)
    read = records.read_records(None, None)
    assert records.PASSWD_RECORD not in read.files and not read.accounts().users


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nests 100000 levels deep"),
        (b'{"a": ' + b"1" * (70 << 20) + b"}", "is over"),
        (b"{not json", "is not JSON"),
    ],
    ids=["deeply nested", "too big", "not JSON"],
)
@pytest.mark.parametrize("which", ["links", "sources"])
def test_a_rewritten_record_is_one_line_naming_the_file(
    monkeypatch: pytest.MonkeyPatch, data: bytes, words: str, which: str
) -> None:
    path = records.ROOT_LINKS_FILE if which == "links" else records.SOURCES_FILE
    _serve(monkeypatch, written(**{path: data}))
    read = records.read_records(None, None)
    reader = read.root_links if which == "links" else read.sources
    with pytest.raises(BadDocument) as raised:
        reader()
    line = str(raised.value)
    assert "\n" not in line
    assert path in line and words in line


def test_an_epoch_file_of_any_size_is_read_within_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    _serve(monkeypatch, written(**{records.EPOCH_FILE: b"1" * (8 << 20)}))
    read = records.read_records(None, None)
    assert len(read.files[records.EPOCH_FILE]) == records.MAX_EPOCH + 1
    assert read.epoch() is None


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"[" * 30_000 + b"]" * 30_000, "nests 30000 levels deep"),
        (b'{"builder": "/var/cache/binpkgs/k/builder"}', "not the two directories it names"),
        (b'{"builder": 1, "image": []}', "not the two directories it names"),
    ],
    ids=["deeply nested", "a directory missing", "not text"],
)
def test_a_rewritten_partition_record_is_one_line(
    monkeypatch: pytest.MonkeyPatch, data: bytes, words: str
) -> None:
    from staves.errors import StavesError
    from staves.podman import cache_volume

    @contextmanager
    def file_stream(client: Any, container: Any, path: str) -> Iterator[io.BytesIO]:
        yield io.BytesIO(data)

    monkeypatch.setattr(cache_volume, "archived_file_stream", file_stream)
    with pytest.raises((BadDocument, StavesError)) as raised:
        cache_volume.read_partition(None, None)
    assert "\n" not in str(raised.value)
    assert cache_volume.PARTITION_FILE in str(raised.value) and words in str(raised.value)
