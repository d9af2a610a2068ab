"""Building tar streams for tests from a compact description of a tree."""

import io
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    """One tar entry: kind is 'dir', 'file', 'sym' or 'link' (hardlink to ``target``)."""

    name: str
    kind: str = "file"
    data: bytes = b""
    target: str = ""
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    mtime: int = 1_600_000_000


def parents_first(entries: Iterable[Entry]) -> list[Entry]:
    """Entries with missing parent directories added, in depth-first lexical order."""
    by_name = {e.name: e for e in entries}
    for name in list(by_name):
        parts = name.split("/")
        for i in range(1, len(parts)):
            parent = "/".join(parts[:i])
            by_name.setdefault(parent, Entry(parent, "dir", mode=0o755))
    return sorted(by_name.values(), key=lambda e: tuple(e.name.split("/")))


def make_tar(entries: Iterable[Entry], top: str | None = "rootfs") -> bytes:
    """A tar of ``entries`` (parents added), under ``top/`` as Podman's archive API has it."""
    buf = io.BytesIO()
    prefix = f"{top}/" if top else ""
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        if top:
            info = tarfile.TarInfo(top)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        for e in parents_first(entries):
            info = tarfile.TarInfo(prefix + e.name)
            info.mode, info.uid, info.gid, info.mtime = e.mode, e.uid, e.gid, e.mtime
            data = None
            if e.kind == "dir":
                info.type = tarfile.DIRTYPE
            elif e.kind == "sym":
                info.type, info.linkname = tarfile.SYMTYPE, e.target
            elif e.kind == "link":
                info.type, info.linkname = tarfile.LNKTYPE, prefix + e.target
            else:
                info.size, data = len(e.data), io.BytesIO(e.data)
            tar.addfile(info, data)
    return buf.getvalue()
