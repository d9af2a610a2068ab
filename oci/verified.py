"""Blobs checked against their digest while they stream: whoever reads a blob to its end
(or to the size it should have) has read exactly the bytes its digest names, or gets one
line saying which blob differs.

A docker-archive names its layers by the digest of their uncompressed tar (the config's
``diff_ids``), so a compressed layer file is checked by hashing what it decompresses to.
"""

import bz2
import hashlib
import io
import lzma
from collections.abc import Callable
from typing import Any, BinaryIO, Protocol

import zstandard
from isal import isal_zlib

from oci.errors import InvalidContent

_GZIP_WBITS = 31


class BlobMismatch(InvalidContent):
    """A blob whose bytes are not those its digest or size names."""


class _Hash(Protocol):
    def update(self, data: bytes, /) -> None: ...
    def hexdigest(self) -> str: ...


class _Decompressor(Protocol):
    def decompress(self, data: bytes, /) -> bytes: ...
    @property
    def eof(self) -> bool: ...
    @property
    def unused_data(self) -> bytes: ...


def _gzip() -> _Decompressor:
    return isal_zlib.decompressobj(_GZIP_WBITS)  # type: ignore[no-any-return]


class _Zstd:
    """zstandard's decompressobj, with the ``eof`` and ``unused_data`` the others have."""

    def __init__(self) -> None:
        self._obj = zstandard.ZstdDecompressor().decompressobj()

    def decompress(self, data: bytes) -> bytes:
        return self._obj.decompress(data)  # type: ignore[no-any-return]

    @property
    def eof(self) -> bool:
        return bool(self._obj.eof)

    @property
    def unused_data(self) -> bytes:
        return bytes(self._obj.unused_data)


DECOMPRESSORS: dict[str, Callable[[], Any]] = {
    "gzip": _gzip,
    "zstd": _Zstd,
    "bzip2": bz2.BZ2Decompressor,
    "xz": lzma.LZMADecompressor,
}


class DecompressedHash:
    """SHA-256 of what a compressed stream (of concatenated members) decompresses to;
    ValueError for data that does not decompress."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._new = DECOMPRESSORS[kind]
        self._obj: _Decompressor = self._new()
        self._hash = hashlib.sha256()

    def update(self, data: bytes) -> None:
        while data:
            try:
                plain = self._obj.decompress(data)
            except Exception as exc:  # each library has errors of its own
                raise ValueError(f"received data that is not valid {self.kind} ({exc})") from None
            self._hash.update(plain)
            if not self._obj.eof:
                return
            data = self._obj.unused_data
            self._obj = self._new()

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


class VerifiedReader(io.RawIOBase):
    """``stream`` as it is read, hashed (by ``hashing``, default: its bytes) and counted.

    With ``size`` (the bytes the blob has), the digest is checked once that many bytes
    are read, so a reader that stops there (a tar copying a member) still checks it; a
    stream with more is refused. Without it, the check comes at the end of the stream.
    """

    def __init__(
        self,
        stream: BinaryIO,
        digest: str,
        where: str,
        *,
        size: int | None = None,
        hashing: _Hash | None = None,
        what: str = "blob",
        mismatch: Callable[[str], Exception] | None = None,
    ) -> None:
        self._stream = stream
        self._make_error = mismatch
        self._digest = digest
        self._where = where
        self._size = size
        self._hash: _Hash = hashing if hashing is not None else hashlib.sha256()
        self._what = what
        self._read = 0
        self._checked = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._checked:
            return 0
        wanted = len(buffer)
        if self._size is not None:
            wanted = min(wanted, self._size - self._read)
        data = self._stream.read(wanted) if wanted else b""
        if not data:
            self._check()
            return 0
        try:
            self._hash.update(data)
        except ValueError as exc:
            raise self._mismatch(str(exc)) from None
        self._read += len(data)
        buffer[: len(data)] = data
        if self._read == self._size:
            if self._stream.read(1):
                raise self._mismatch(f"received more than {self._size} bytes")
            self._check()
        return len(data)

    def _check(self) -> None:
        self._checked = True
        if self._size is not None and self._read != self._size:
            raise self._mismatch(f"received {self._read} bytes, not {self._size}")
        got = "sha256:" + self._hash.hexdigest()
        if got != self._digest:
            raise self._mismatch(f"received data with digest {got}")

    def _mismatch(self, problem: str) -> Exception:
        if self._make_error is not None:
            return self._make_error(problem)
        return BlobMismatch(f"{self._where}: {self._what} {self._digest}: {problem}")

    def close(self) -> None:
        try:
            self._stream.close()
        finally:
            super().close()


def verified(
    stream: BinaryIO,
    digest: str,
    where: str,
    *,
    size: int | None = None,
    hashing: _Hash | None = None,
    what: str = "blob",
    mismatch: Callable[[str], Exception] | None = None,
) -> BinaryIO:
    """``stream`` as a buffered file object checked against ``digest`` (see VerifiedReader)."""
    raw = VerifiedReader(
        stream, digest, where, size=size, hashing=hashing, what=what, mismatch=mismatch
    )
    return io.BufferedReader(raw, 1 << 20)  # type: ignore[return-value]
