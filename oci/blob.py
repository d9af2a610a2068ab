"""Blobs: content-addressed data that can be opened again as often as needed.

A blob never holds a layer in memory: file-backed blobs reopen their file, so a retry
or a second destination reads the data afresh.
"""

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from oci.descriptor import Descriptor
from oci.digest import sha256_of


class Blob(Protocol):
    @property
    def media_type(self) -> str: ...
    @property
    def digest(self) -> str: ...
    @property
    def size(self) -> int: ...
    def open(self) -> BinaryIO: ...


@dataclass(frozen=True)
class FileBlob:
    """A blob whose bytes are in a file; digest and size were computed when it was written."""

    path: Path
    media_type: str
    digest: str
    size: int

    def open(self) -> BinaryIO:
        return self.path.open("rb")


@dataclass(frozen=True)
class BytesBlob:
    """A small blob (JSON config or manifest) kept as bytes."""

    data: bytes
    media_type: str

    @property
    def digest(self) -> str:
        return sha256_of(self.data)

    @property
    def size(self) -> int:
        return len(self.data)

    def open(self) -> BinaryIO:
        return io.BytesIO(self.data)


def canonical_json(value: Any) -> bytes:
    """JSON with sorted keys and no spaces, so equal values give equal digests."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def json_blob(value: Any, media_type: str) -> BytesBlob:
    return BytesBlob(canonical_json(value), media_type)


def describe(blob: Blob, annotations: Mapping[str, str] | None = None) -> Descriptor:
    return Descriptor(blob.media_type, blob.digest, blob.size, annotations or {})
