"""Content digests: computing them while data streams past, and checking their form."""

import hashlib
import re
from typing import BinaryIO

from oci.errors import InvalidReference

_SHA256_RE = re.compile(r"^sha256:[a-f0-9]{64}$")
CHUNK_SIZE = 1 << 20


def sha256_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def check_digest(value: str) -> str:
    """Return ``value`` if it is a sha256 digest; raise otherwise."""
    if not _SHA256_RE.match(value):
        raise InvalidReference(f"{value!r} is not a digest; expected sha256:<64 hex digits>")
    return value


def hex_of(digest: str) -> str:
    return check_digest(digest).split(":", 1)[1]


class HashingWriter:
    """A write-only file object that hashes and counts what passes to ``sink``."""

    def __init__(self, sink: BinaryIO | None = None) -> None:
        self._sink = sink
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self._hash.update(data)
        self.size += len(data)
        if self._sink is not None:
            self._sink.write(data)
        return len(data)

    def flush(self) -> None:
        if self._sink is not None:
            self._sink.flush()

    @property
    def digest(self) -> str:
        return "sha256:" + self._hash.hexdigest()


def digest_stream(stream: BinaryIO) -> tuple[str, int]:
    """Digest and size of everything left in ``stream``, read in chunks."""
    writer = HashingWriter()
    while chunk := stream.read(CHUNK_SIZE):
        writer.write(chunk)
    return writer.digest, writer.size
