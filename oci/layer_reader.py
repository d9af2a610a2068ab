"""Reading a layer blob as a tar stream, within limits: a layer may expand only so far
when decompressed and hold only so many entries, so a gzip bomb or a tar of a million
empty files ends in one line instead of minutes of work.

The blob is read to its end afterwards, past the tar's end marker, so that a stream that
checks its digest (``oci.verified``) does so even when the tar ends early.
"""

import bz2
import io
import lzma
import tarfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, BinaryIO

import zstandard
from isal import igzip, isal_zlib

from oci.errors import InvalidContent

_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
)
_CHUNK = 1 << 20
# What a damaged or hostile compressed tar raises on the way.
UNREADABLE = (
    tarfile.TarError,
    EOFError,
    zlib.error,
    isal_zlib.error,
    zstandard.ZstdError,
    lzma.LZMAError,
    OSError,  # gzip.BadGzipFile, igzip's errors, bz2's "Invalid data stream"
    ValueError,
)


@dataclass(frozen=True)
class LayerLimits:
    """What one layer may hold when read.

    ``max_bytes``: its uncompressed size; None: ``ratio`` times its compressed size, and
    at least ``floor`` (real layers compress 2-10 times; a gzip bomb 1000 times).
    ``max_entries``: its tar entries. Zero switches a limit off.
    """

    max_bytes: int | None = None
    max_entries: int = 1_000_000
    ratio: int = 100
    floor: int = 256 << 20

    def byte_limit(self, compressed: int | None) -> int:
        if self.max_bytes is not None:
            return self.max_bytes
        if compressed is None:
            return 0
        return max(self.floor, self.ratio * compressed)


DEFAULT_LIMITS = LayerLimits()


class LayerTooBig(InvalidContent):
    """A layer over one of the limits; the message names the limit and how to lift it."""


def compression_of(head: bytes) -> str | None:
    """``gzip``, ``zstd``, ``bzip2`` or ``xz`` by the stream's first bytes; None: plain."""
    return next((kind for magic, kind in _MAGIC if head.startswith(magic)), None)


class _Prefixed(io.RawIOBase):
    """The bytes already read (``head``), then the rest of ``stream``."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self._head = head
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class _Capped(io.RawIOBase):
    """The uncompressed tar, counted; refused past ``limit`` bytes (0: no limit)."""

    def __init__(self, stream: Any, limit: int, where: str) -> None:
        self._stream = stream
        self._limit = limit
        self._where = where
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(len(buffer))
        self.count += len(data)
        if self._limit and self.count > self._limit:
            raise LayerTooBig(
                f"{self._where}: expands to more than {_bytes(self._limit)} uncompressed "
                "(a compression bomb?); --max-layer-size raises the limit"
            )
        buffer[: len(data)] = data
        return len(data)


def _bytes(n: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            return f"{n / (1 << shift):.1f} {unit}".replace(".0 ", " ")
    return f"{n} bytes"


def _decompressing(kind: str | None, stream: BinaryIO) -> Any:
    if kind == "gzip":
        return igzip.IGzipFile(fileobj=stream, mode="rb")
    if kind == "zstd":
        return zstandard.ZstdDecompressor().stream_reader(stream, read_across_frames=True)
    if kind == "bzip2":
        return bz2.BZ2File(stream)
    if kind == "xz":
        return lzma.LZMAFile(stream)
    return stream


def _counting_tar(max_entries: int, where: str) -> type[tarfile.TarFile]:
    class CountingTar(tarfile.TarFile):
        entries = 0

        def next(self) -> tarfile.TarInfo | None:
            info = super().next()
            if info is not None:
                self.entries += 1
                if max_entries and self.entries > max_entries:
                    raise LayerTooBig(
                        f"{where}: holds more than {max_entries} entries; "
                        "--max-layer-entries raises the limit"
                    )
            return info

    return CountingTar


@contextmanager
def open_layer_tar(
    data: BinaryIO,
    where: str = "layer",
    *,
    limits: LayerLimits = DEFAULT_LIMITS,
    compressed_size: int | None = None,
) -> Iterator[tarfile.TarFile]:
    """A streaming tar reader over a layer blob, plain or compressed (gzip, zstd, bzip2,
    xz: by its first bytes), within ``limits``. ``where`` names the layer in errors."""
    head = data.read(6)
    kind = compression_of(head)
    limit = limits.byte_limit(compressed_size if kind else None)
    prefixed = io.BufferedReader(_Prefixed(head, data), _CHUNK)
    plain = _decompressing(kind, prefixed)  # type: ignore[arg-type]
    capped = io.BufferedReader(_Capped(plain, limit, where), _CHUNK)
    tar_class = _counting_tar(limits.max_entries, where)
    try:
        tar = tar_class.open(fileobj=capped, mode="r|", encoding="utf-8", errors="surrogateescape")
    except UNREADABLE as exc:
        raise InvalidContent(f"{where}: not a readable tar: {problem(exc)}") from None
    with tar:
        try:
            yield tar
        except UNREADABLE as exc:
            raise InvalidContent(f"{where}: not a readable tar: {problem(exc)}") from None
    while data.read(_CHUNK):  # the rest, so that a verifying stream checks its digest
        pass


def problem(exc: BaseException) -> str:
    """One line for what went wrong reading a tar or its compression."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc).splitlines()[0] if str(exc) else ""
    return text or type(exc).__name__
