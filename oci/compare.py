"""Comparing layers entry by entry: which paths two builds of one image made differently.

Each layer is read once, as a stream; an entry is summed up by everything a tar header and
its data carry (type, mode, owners, mtime, link target, device numbers, PAX records, the
SHA-256 of the data), so two summaries are equal exactly when the entries are.
"""

import hashlib
import tarfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import BinaryIO

from oci.layer import Layer
from oci.layer_reader import open_layer_tar

_CHUNK = 1 << 20


@dataclass(frozen=True)
class EntrySummary:
    """What one tar entry holds, its data as a digest."""

    kind: str
    mode: int
    uid: int
    gid: int
    mtime: int
    size: int
    linkname: str
    device: tuple[int, int]
    pax: tuple[tuple[str, str], ...]
    sha256: str | None  # of a regular file's data

    def differences(self, other: "EntrySummary") -> tuple[str, ...]:
        """The names of the fields that differ (``sha256`` says: the content)."""
        return tuple(
            "content" if f.name == "sha256" else f.name
            for f in fields(self)
            if getattr(self, f.name) != getattr(other, f.name)
        )


_KINDS = {
    tarfile.REGTYPE: "file",
    tarfile.AREGTYPE: "file",
    tarfile.CONTTYPE: "file",
    tarfile.DIRTYPE: "dir",
    tarfile.SYMTYPE: "symlink",
    tarfile.LNKTYPE: "hardlink",
    tarfile.CHRTYPE: "char",
    tarfile.BLKTYPE: "block",
    tarfile.FIFOTYPE: "fifo",
}


def _data_digest(tar: tarfile.TarFile, info: tarfile.TarInfo) -> str | None:
    data = tar.extractfile(info) if info.isreg() else None
    if data is None:
        return None
    digest = hashlib.sha256()
    while chunk := data.read(_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def summarize(tar: tarfile.TarFile, info: tarfile.TarInfo) -> EntrySummary:
    return EntrySummary(
        kind=_KINDS.get(info.type, repr(info.type)),
        mode=info.mode,
        uid=info.uid,
        gid=info.gid,
        mtime=int(info.mtime),
        size=info.size,
        linkname=info.linkname,
        device=(info.devmajor, info.devminor),
        pax=tuple(sorted(info.pax_headers.items())),
        sha256=_data_digest(tar, info),
    )


def stream_entries(stream: BinaryIO, where: str = "layer") -> dict[str, EntrySummary]:
    """Entry name (no leading ``./``, ``/`` or trailing ``/``) → summary, for a layer blob
    (any compression)."""
    found: dict[str, EntrySummary] = {}
    with open_layer_tar(stream, where) as tar:
        for info in tar:
            name = info.name.removeprefix("./").strip("/")
            found[name] = summarize(tar, info)
    return found


def layer_entries(layers: Iterable[Layer]) -> dict[str, EntrySummary]:
    """Every entry of the image's layers; a directory that several layers carry counts
    once, as the last layer has it (as the layers apply)."""
    found: dict[str, EntrySummary] = {}
    for layer in layers:
        with layer.open() as stream:
            found.update(stream_entries(stream, f"layer {layer.digest}"))
    return found


@dataclass(frozen=True)
class EntryDifference:
    name: str
    what: tuple[str, ...]  # fields that differ, or ("only in the first",) and the like


def compare_entries(
    first: Mapping[str, EntrySummary], second: Mapping[str, EntrySummary]
) -> tuple[EntryDifference, ...]:
    """Every path the two differ in, sorted by name."""
    out = []
    for name in sorted(first.keys() | second.keys()):
        a, b = first.get(name), second.get(name)
        if a is None:
            out.append(EntryDifference(name, ("only in the second",)))
        elif b is None:
            out.append(EntryDifference(name, ("only in the first",)))
        elif a != b:
            out.append(EntryDifference(name, a.differences(b)))
    return tuple(out)
