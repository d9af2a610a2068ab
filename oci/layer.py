"""Layers: a compressed tar blob plus the digest of its uncompressed tar (diff_id)."""

import logging
import os
import queue
import tarfile
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import BinaryIO

from oci.blob import FileBlob
from oci.compress import CompressingWriter, Compression
from oci.descriptor import Descriptor
from oci.digest import HashingWriter, hex_of

log = logging.getLogger(__name__)

# Writes to the compressor are gathered into chunks this big: tar headers come in 512 bytes.
_WRITE_CHUNK = 1 << 20
# Chunks waiting for the compression thread at most.
_QUEUE_CHUNKS = 8
_COPY_BUFSIZE = 1 << 20


@dataclass(frozen=True)
class Layer:
    blob: FileBlob
    diff_id: str
    annotations: Mapping[str, str] = field(default_factory=dict)
    # Newest mtime among the entries: a created time that depends only on the content.
    newest_mtime: int | None = None

    @property
    def digest(self) -> str:
        return self.blob.digest

    @property
    def size(self) -> int:
        return self.blob.size

    @property
    def media_type(self) -> str:
        return self.blob.media_type

    def open(self) -> BinaryIO:
        return self.blob.open()

    def descriptor(self) -> Descriptor:
        return Descriptor(self.media_type, self.digest, self.size, self.annotations)


class _StageThread:
    """One stage of the layer pipeline on its own thread: ``write`` each chunk, then ``done``.

    ISA-L, zstd, hashlib and file writes release the GIL, so tar generation, compression
    and hashing+writing run on separate cores. The queue is bounded: memory stays at a few
    chunks whatever the layer size.
    """

    def __init__(
        self, write: Callable[[bytes], object], done: Callable[[], object], name: str
    ) -> None:
        self._write, self._done = write, done
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=_QUEUE_CHUNKS)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (chunk := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._write(chunk)
                except BaseException as exc:  # handed to the producer thread in finish()
                    self._error = exc
        if self._error is None:
            try:
                self._done()
            except BaseException as exc:
                self._error = exc

    def write(self, chunk: bytes) -> int:
        if chunk:
            self._queue.put(chunk)
        return len(chunk)

    def finish(self) -> None:
        if not self._thread.is_alive():
            return
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error


class _TarSink:
    """The file object a tar writer writes to: hashes the raw tar, then compresses it.

    It gathers small writes into large chunks and answers ``tell()`` as tarfile wants.
    """

    def __init__(self, compressor: CompressingWriter) -> None:
        self._raw = HashingWriter()
        self._worker = _StageThread(compressor.write, compressor.finish, "layer-compress")
        self._pending: list[bytes] = []
        self._pending_size = 0

    def write(self, data: bytes) -> int:
        self._pending.append(bytes(data))
        self._pending_size += len(data)
        if self._pending_size >= _WRITE_CHUNK:
            self._drain()
        return len(data)

    def tell(self) -> int:
        return self._raw.size + self._pending_size

    def _drain(self) -> None:
        # A single pending piece (file data comes in whole chunks) is passed on uncopied.
        chunk = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending.clear()
        self._pending_size = 0
        self._raw.write(chunk)
        self._worker.write(chunk)

    def close(self) -> str:
        """Flush everything; return the diff_id."""
        self._drain()
        self._worker.finish()
        return self._raw.digest

    def abort(self) -> None:
        self._pending.clear()
        self._worker.finish()


# Writes a tar to the given file object; returns the newest entry mtime (None if empty).
TarProducer = Callable[[BinaryIO], int | None]


def open_tar_writer(sink: BinaryIO) -> tarfile.TarFile:
    """A PAX tar writer on ``sink`` (which it does not close), as every layer is written."""
    out = tarfile.open(  # noqa: SIM115 - the caller closes it
        fileobj=sink, mode="w", format=tarfile.PAX_FORMAT, encoding="utf-8"
    )
    out.copybufsize = _COPY_BUFSIZE
    return out


class LayerWriter:
    """A layer being written, push-style: ``add`` entries, then ``finish``.

    The raw tar is hashed (diff_id), compressed, hashed again (digest) and written to a
    temporary file in ``blob_dir`` in one streaming pass, on three threads; the file is
    renamed to its digest only by ``finish``. Leaving the ``with`` block without finishing
    (or with an exception) removes the temporary file.
    """

    def __init__(
        self,
        blob_dir: Path,
        compression: Compression = Compression.GZIP,
        annotations: Mapping[str, str] | None = None,
    ) -> None:
        self._blob_dir = blob_dir
        self._compression = compression
        self._annotations = MappingProxyType(dict(annotations or {}))
        blob_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".layer-", dir=blob_dir)
        self._tmp = Path(tmp_name)
        self._out = os.fdopen(fd, "wb")
        self._packed = HashingWriter(self._out)  # type: ignore[arg-type]
        self._writer = _StageThread(self._packed.write, self._packed.flush, "layer-write")
        self._sink = _TarSink(CompressingWriter(compression, self._writer))  # type: ignore[arg-type]
        self._tar: tarfile.TarFile | None = None
        self._newest: int | None = None
        self._closed = False

    def __enter__(self) -> "LayerWriter":
        return self

    def __exit__(self, *exc_info: object) -> None:
        if not self._closed:
            self.abort()

    @property
    def raw(self) -> BinaryIO:
        """The file object taking the raw tar, for producers that write a whole tar."""
        return self._sink  # type: ignore[return-value]

    def add(self, info: tarfile.TarInfo, fileobj: BinaryIO | None = None) -> None:
        """Append one entry (with ``info.size`` bytes of ``fileobj`` for a regular file)."""
        if self._tar is None:
            self._tar = open_tar_writer(self.raw)
        self._tar.addfile(info, fileobj)
        mtime = int(info.mtime)
        self._newest = mtime if self._newest is None else max(self._newest, mtime)

    def finish(self) -> Layer:
        """Complete the tar and the blob; return the layer."""
        if self._tar is None:
            self._tar = open_tar_writer(self.raw)
        self._tar.close()
        return self._complete(self._newest)

    def _complete(self, newest: int | None) -> Layer:
        try:
            diff_id = self._sink.close()
            self._writer.finish()
            self._out.close()
            final = self._blob_dir / hex_of(self._packed.digest)
            self._tmp.replace(final)
        except BaseException:
            self.abort()
            raise
        self._closed = True
        blob = FileBlob(final, self._compression.media_type, self._packed.digest, self._packed.size)
        return Layer(blob, diff_id, self._annotations, newest)

    def abort(self) -> None:
        """Stop the threads and remove the temporary file."""
        if self._closed:
            return
        self._closed = True
        try:
            self._sink.abort()
            self._writer.finish()
        except BaseException:  # already failing; the cleanup below matters more
            log.debug("layer writer threads failed while aborting", exc_info=True)
        finally:
            self._out.close()
            self._tmp.unlink(missing_ok=True)


def write_layer(
    produce_tar: TarProducer,
    blob_dir: Path,
    compression: Compression = Compression.GZIP,
    annotations: Mapping[str, str] | None = None,
) -> Layer:
    """Run ``produce_tar`` into a new blob in ``blob_dir`` in one streaming pass."""
    with LayerWriter(blob_dir, compression, annotations) as writer:
        newest = produce_tar(writer.raw)
        return writer._complete(newest)
