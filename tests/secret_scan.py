"""Find secret bytes anywhere in build products, inside any nesting of compressed streams.

Binary packages are tars of zstd/xz/bzip2 tars holding bzip2'd environments, image layers
are gzip'd tars: a plain byte search would miss a secret in any of them. Every offset that
starts like a gzip, bzip2, xz or zstd stream is decompressed and searched in turn.
"""

import bz2
import lzma
import subprocess
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import zstandard

_MAX_DEPTH = 4


def _gunzip(data: bytes) -> bytes:
    return zlib.decompressobj(wbits=31).decompress(data)


def _zstd(data: bytes) -> bytes:
    return zstandard.ZstdDecompressor().decompressobj().decompress(data)


_DECODERS: dict[bytes, Callable[[bytes], bytes]] = {
    b"\x1f\x8b\x08": _gunzip,
    b"BZh": lambda data: bz2.BZ2Decompressor().decompress(data),
    b"\xfd7zXZ\x00": lambda data: lzma.LZMADecompressor().decompress(data),
    b"\x28\xb5\x2f\xfd": _zstd,
}


def expansions(data: bytes, depth: int = 0) -> Iterator[bytes]:
    """``data`` and everything decompressed from the streams embedded in it."""
    yield data
    if depth >= _MAX_DEPTH:
        return
    for magic, decode in _DECODERS.items():
        start = data.find(magic)
        while start != -1:
            try:
                inner = decode(data[start:])
            except (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError, zstandard.ZstdError):
                inner = b""
            if inner:
                yield from expansions(inner, depth + 1)
            start = data.find(magic, start + 1)


def traces(blobs: Iterable[tuple[str, bytes]], secrets: Iterable[bytes]) -> list[str]:
    """``WHERE: SECRET`` for every secret found in any blob or its expansions."""
    wanted = [s for s in secrets if s]
    found = []
    for where, data in blobs:
        for chunk in expansions(data):
            found += [f"{where}: {s!r}" for s in wanted if s in chunk]
    return sorted(set(found))


def files_under(root: Path) -> Iterator[tuple[str, bytes]]:
    for path in sorted(root.rglob("*")):
        if path.is_file():
            yield str(path), path.read_bytes()


def volume_tar(volume: str, image: str) -> bytes:
    """A named volume's files as a tar, read through a throwaway container without network.

    (``podman volume export`` is missing from Podman 4.3.)
    """
    run = ["podman", "run", "--rm", "--network", "none", "-v", f"{volume}:/v:ro", image]
    tar = ["tar", "-C", "/v", "-cf", "-", "."]
    proc = subprocess.run([*run, *tar], capture_output=True, check=True)
    return proc.stdout
