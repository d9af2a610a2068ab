"""What a push reports as it goes: each blob's progress, and the result of the whole push."""

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from oci.registry.reference import Reference


@dataclass(frozen=True)
class Progress:
    """One blob's state: ``checking``, ``present``, ``mounted``, ``uploading``, ``uploaded``."""

    digest: str
    size: int
    done: int
    state: str


ProgressCallback = Callable[[Progress], None]


@dataclass
class PushResult:
    """The pushed manifest's digest and what the push had to send."""

    digest: str
    references: tuple[Reference, ...]
    uploaded_bytes: int = 0
    uploaded_blobs: int = 0
    present_blobs: int = 0
    mounted_blobs: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, outcome: str, size: int) -> None:
        with self._lock:
            if outcome == "uploaded":
                self.uploaded_blobs += 1
                self.uploaded_bytes += size
            elif outcome == "mounted":
                self.mounted_blobs += 1
            else:
                self.present_blobs += 1


class ProgressReader:
    """A blob stream that reports bytes read; ``len()`` gives requests its Content-Length."""

    def __init__(self, stream: BinaryIO, size: int, report: Callable[[int], None]) -> None:
        self._stream = stream
        self._size = size
        self._left = size
        self._report = report

    def __len__(self) -> int:
        return self._size

    def read(self, n: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        data = self._stream.read(self._left if n < 0 else min(n, self._left))
        self._left -= len(data)
        self._report(len(data))
        return data

    def close(self) -> None:
        self._stream.close()
