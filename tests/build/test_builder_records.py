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


def _serve(monkeypatch: pytest.MonkeyPatch, files: dict[str, bytes]) -> None:
    """The builder's files as Podman's archive endpoint gives them, for the readers."""

    @contextmanager
    def file_stream(client: Any, container: Any, path: str) -> Iterator[io.BytesIO]:
        if path not in files:
            raise records.StavesError(f"{path}: no such file in the builder")
        yield io.BytesIO(files[path])

    @contextmanager
    def tar_stream(client: Any, container: Any, path: str) -> Iterator[io.BytesIO]:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            info = tarfile.TarInfo(path.rsplit("/", 1)[-1])
            info.size = len(files[path])
            tar.addfile(info, io.BytesIO(files[path]))
        buffer.seek(0)
        yield buffer

    monkeypatch.setattr(records, "archived_file_stream", file_stream)
    monkeypatch.setattr(records, "archive_stream", tar_stream)


def test_what_the_builder_wrote_is_read_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    _serve(
        monkeypatch,
        {
            records.ROOT_LINKS_FILE: b'{"lib64": "lib"}',
            records.SOURCES_FILE: b'{"repositories": []}',
            records.EPOCH_FILE: b"1795999501\n",
        },
    )
    assert records.read_root_links(None, None) == {"lib64": "lib"}
    assert records.read_sources(None, None) == {"repositories": []}
    assert records.read_epoch(None, None) == 1795999501


def test_files_the_builder_did_not_write_are_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    _serve(monkeypatch, {})
    assert records.read_root_links(None, None) == {}
    assert records.read_sources(None, None) == {}


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
    _serve(monkeypatch, {path: data})
    reader = records.read_root_links if which == "links" else records.read_sources
    with pytest.raises(BadDocument) as raised:
        reader(None, None)
    line = str(raised.value)
    assert "\n" not in line
    assert path in line and words in line


def test_an_epoch_file_of_any_size_is_read_within_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    _serve(monkeypatch, {records.EPOCH_FILE: b"1" * (8 << 20)})
    assert records.read_epoch(None, None) is None


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
