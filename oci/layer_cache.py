"""A local cache of compressed layer blobs, so an unchanged layer is not compressed again.

The caller names each layer by a *key* (what it expects the layer to hold: for Staves,
a package's binary-package identity and the layer settings). A key seen before predicts
the layer's uncompressed digest (diff_id). Its entries are then only tarred and hashed,
the tar kept in a spool; when the diff_id is the predicted one, the cached blob is taken
as it is (hardlinked, else copied) — compression, the expensive part, is skipped — and
otherwise the spool is compressed. So a reused layer is always byte for byte the layer a
fresh pack gives; a wrong prediction costs time, never correctness.

On disk (``ROOT``): ``blobs/sha256/HEX`` (compressed blobs) and ``keys/HEX.json`` (key →
diff_id, digest, size, media type). Every file is written to a temporary name and
renamed, so concurrent builds see whole files or none; eviction, least recently used
first (a blob's mtime is touched on each use), keeps the blobs under ``max_bytes`` and
runs under a lock file. A blob evicted under a build that predicted it is just a miss.
"""

import fcntl
import hashlib
import json
import logging
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

from oci.blob import FileBlob
from oci.compress import Compression
from oci.digest import HashingWriter, hex_of
from oci.layer import Layer, LayerWriter, open_tar_writer, write_layer

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 2 << 30
# A spooled layer stays in memory up to this size, then goes to a temporary file.
_SPOOL_IN_MEMORY = 16 << 20
_COPY_CHUNK = 1 << 20


@dataclass(frozen=True)
class CachedLayer:
    """What the cache knows of a layer it holds."""

    diff_id: str
    digest: str
    size: int
    media_type: str


def _name(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _link_or_copy(source: Path, target: Path) -> None:
    """``target`` as a whole file with ``source``'s bytes, appearing at once."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".tmp-{os.getpid()}-{target.name}")
    tmp.unlink(missing_ok=True)
    try:
        os.link(source, tmp)
    except OSError:
        shutil.copyfile(source, tmp)
    os.replace(tmp, target)


class LayerCache:
    """Compressed layer blobs by key, bounded in size; see the module docstring."""

    def __init__(self, root: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.repacked = 0  # layers compressed anew through this cache
        self.reused = 0

    def _blob(self, digest: str) -> Path:
        return self.root / "blobs" / "sha256" / hex_of(digest)

    def lookup(self, key: str) -> CachedLayer | None:
        try:
            entry = json.loads((self.root / "keys" / f"{_name(key)}.json").read_bytes())
            return CachedLayer(**entry)
        except (OSError, ValueError, TypeError):
            return None

    def claim(self, entry: CachedLayer, blob_dir: Path) -> FileBlob | None:
        """The cached blob, put into ``blob_dir``; None when it was evicted meanwhile."""
        cached = self._blob(entry.digest)
        target = blob_dir / hex_of(entry.digest)
        try:
            os.utime(cached)  # most recently used
            _link_or_copy(cached, target)
        except FileNotFoundError:
            return None
        return FileBlob(target, entry.media_type, entry.digest, entry.size)

    def store(self, key: str, layer: Layer) -> None:
        """Keep ``layer``'s blob under ``key``; then evict down to the bound."""
        try:
            _link_or_copy(layer.blob.path, self._blob(layer.digest))  # type: ignore[attr-defined]
            entry = CachedLayer(layer.diff_id, layer.digest, layer.size, layer.media_type)
            data = json.dumps(asdict(entry), sort_keys=True).encode()
            _write_atomically(self.root / "keys" / f"{_name(key)}.json", data)
            self.evict()
        except OSError as exc:  # a cache that cannot be written only costs speed
            log.warning("layer cache %s: %s", self.root, exc)

    def evict(self) -> None:
        """Remove the least recently used blobs until the rest fit in ``max_bytes``."""
        with self._locked():
            blobs = []
            for path in (self.root / "blobs" / "sha256").glob("[0-9a-f]*"):
                try:
                    stat = path.stat()
                except FileNotFoundError:
                    continue
                blobs.append((stat.st_mtime, stat.st_size, path))
            total = sum(size for _, size, _ in blobs)
            for _, size, path in sorted(blobs):
                if total <= self.max_bytes:
                    break
                path.unlink(missing_ok=True)
                total -= size

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def writer(
        self,
        key: str | None,
        blob_dir: Path,
        compression: Compression,
        annotations: Mapping[str, str],
    ) -> "LayerWriter | ReusingWriter | StoringWriter":
        """A writer for one layer: reusing a cached blob when ``key`` predicts one, else
        compressing and keeping the result under ``key`` (None: not cached)."""
        if key is None:
            self.repacked += 1
            return LayerWriter(blob_dir, compression, annotations)
        entry = self.lookup(key)
        if entry is not None and entry.media_type == compression.media_type:
            return ReusingWriter(self, key, entry, blob_dir, compression, annotations)
        return StoringWriter(self, key, LayerWriter(blob_dir, compression, annotations))


class StoringWriter:
    """A LayerWriter whose finished layer goes into the cache."""

    def __init__(self, cache: LayerCache, key: str, inner: LayerWriter) -> None:
        self._cache, self._key, self._inner = cache, key, inner

    def add(self, info: tarfile.TarInfo, fileobj: BinaryIO | None = None) -> None:
        self._inner.add(info, fileobj)

    def finish(self) -> Layer:
        layer = self._inner.finish()
        self._cache.repacked += 1
        self._cache.store(self._key, layer)
        return layer

    def abort(self) -> None:
        self._inner.abort()


class _CountingSpool:
    """The raw tar into a spool, hashed; ``tell`` as tarfile wants it."""

    def __init__(self, blob_dir: Path) -> None:
        blob_dir.mkdir(parents=True, exist_ok=True)
        self.file = tempfile.SpooledTemporaryFile(_SPOOL_IN_MEMORY, dir=blob_dir)  # noqa: SIM115
        self.hash = HashingWriter(self.file)  # type: ignore[arg-type]

    def write(self, data: bytes) -> int:
        return self.hash.write(data)

    def tell(self) -> int:
        return self.hash.size


class ReusingWriter:
    """Tars and hashes a layer's entries without compressing them; ``finish`` gives the
    cached blob when the tar is the cached one, else compresses the spooled tar."""

    def __init__(
        self,
        cache: LayerCache,
        key: str,
        entry: CachedLayer,
        blob_dir: Path,
        compression: Compression,
        annotations: Mapping[str, str],
    ) -> None:
        self._cache, self._key, self._entry = cache, key, entry
        self._blob_dir, self._compression = blob_dir, compression
        self._annotations = dict(annotations)
        self._spool = _CountingSpool(blob_dir)
        self._tar = open_tar_writer(self._spool)  # type: ignore[arg-type]
        self._newest: int | None = None

    def add(self, info: tarfile.TarInfo, fileobj: BinaryIO | None = None) -> None:
        self._tar.addfile(info, fileobj)
        mtime = int(info.mtime)
        self._newest = mtime if self._newest is None else max(self._newest, mtime)

    def finish(self) -> Layer:
        self._tar.close()
        try:
            if self._spool.hash.digest == self._entry.diff_id:
                blob = self._cache.claim(self._entry, self._blob_dir)
                if blob is not None:
                    self._cache.reused += 1
                    return Layer(blob, self._entry.diff_id, self._annotations, self._newest)
            log.debug("layer cache: %s changed; compressing it", self._key[:60])
            return self._compress_spool()
        finally:
            self._spool.file.close()

    def _compress_spool(self) -> Layer:
        def produce(sink: BinaryIO) -> int | None:
            self._spool.file.seek(0)
            while chunk := self._spool.file.read(_COPY_CHUNK):
                sink.write(chunk)
            return self._newest

        layer = write_layer(produce, self._blob_dir, self._compression, self._annotations)
        self._cache.repacked += 1
        self._cache.store(self._key, layer)
        return layer

    def abort(self) -> None:
        self._spool.file.close()
