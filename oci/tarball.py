"""Writing a root filesystem as a layer tar, from a directory or from another tar stream.

Entries keep everything a container needs (modes with setuid/setgid/sticky, uid/gid,
hardlinks, device nodes, fifos, extended attributes, any file name bytes) and nothing
that makes two packs of the same tree differ (user names, atime/ctime, later mtimes).
"""

import logging
import os
import stat
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from oci.errors import InvalidContent
from oci.layer import TarProducer, open_tar_writer

log = logging.getLogger(__name__)

_XATTR_PREFIX = "SCHILY.xattr."
_FILE_TYPES = {
    stat.S_IFREG: tarfile.REGTYPE,
    stat.S_IFDIR: tarfile.DIRTYPE,
    stat.S_IFLNK: tarfile.SYMTYPE,
    stat.S_IFCHR: tarfile.CHRTYPE,
    stat.S_IFBLK: tarfile.BLKTYPE,
    stat.S_IFIFO: tarfile.FIFOTYPE,
}


def safe_member_name(name: str, strip_components: int = 0) -> str | None:
    """The entry name inside the layer, or None for the root itself.

    Raises InvalidContent for names that would land outside the root.
    """
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if name.startswith("/") and strip_components == 0:
        raise InvalidContent(f"tar entry {name!r} has an absolute path")
    if ".." in parts:
        raise InvalidContent(f"tar entry {name!r} leaves the root through '..'")
    parts = parts[strip_components:]
    return "/".join(parts) or None


def normalize_member(info: tarfile.TarInfo, clamp_mtime: int | None) -> int:
    """Strip what varies between hosts and packs; return the entry's final mtime."""
    info.uname = ""
    info.gname = ""
    mtime = int(info.mtime)
    info.mtime = min(mtime, clamp_mtime) if clamp_mtime is not None else mtime
    info.pax_headers = {
        k: v for k, v in sorted(info.pax_headers.items()) if k.startswith(_XATTR_PREFIX)
    }
    return info.mtime


def check_member_type(info: tarfile.TarInfo) -> None:
    """Raise InvalidContent for entry types a layer cannot hold."""
    if info.type not in (*_FILE_TYPES.values(), tarfile.LNKTYPE, tarfile.AREGTYPE):
        raise InvalidContent(f"tar entry {info.name!r} has unsupported type {info.type!r}")


def _xattrs(path: str) -> dict[str, str]:
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return {}
    # Binary values (security.capability) round-trip through surrogateescape.
    return {
        _XATTR_PREFIX + name: os.getxattr(path, name, follow_symlinks=False).decode(
            "utf-8", "surrogateescape"
        )
        for name in sorted(names)
    }


def _sorted_entries(directory: str) -> list[os.DirEntry[str]]:
    with os.scandir(directory) as it:
        return sorted(it, key=lambda e: os.fsencode(e.name))


def _walk_sorted(root: str) -> Iterator[tuple[str, str]]:
    """Yield (absolute path, member name) depth-first, each directory before its content,
    siblings in byte order of their names (as ``tar --sort=name`` does)."""
    stack: list[tuple[Iterator[os.DirEntry[str]], str]] = [(iter(_sorted_entries(root)), "")]
    while stack:
        entries, prefix = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            continue
        name = f"{prefix}{entry.name}"
        yield entry.path, name
        if entry.is_dir(follow_symlinks=False):
            stack.append((iter(_sorted_entries(entry.path)), name + "/"))


def _tarinfo_for(path: str, name: str, st: os.stat_result) -> tarfile.TarInfo | None:
    kind = _FILE_TYPES.get(stat.S_IFMT(st.st_mode))
    if kind is None:
        log.warning("skipping %s: sockets cannot be stored in a layer", path)
        return None
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = stat.S_IMODE(st.st_mode)
    info.uid, info.gid = st.st_uid, st.st_gid
    info.mtime = int(st.st_mtime)
    if kind == tarfile.REGTYPE:
        info.size = st.st_size
    elif kind == tarfile.SYMTYPE:
        info.linkname = os.readlink(path)
    elif kind in (tarfile.CHRTYPE, tarfile.BLKTYPE):
        info.devmajor, info.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
    info.pax_headers = _xattrs(path)
    return info


def tar_directory(root: Path, clamp_mtime: int | None = None) -> TarProducer:
    """A producer writing the tree under ``root`` (not root itself) as a tar."""
    if not root.is_dir():
        raise InvalidContent(f"{root} is not a directory")

    def produce(sink: BinaryIO) -> int | None:
        seen: dict[tuple[int, int], str] = {}
        newest: int | None = None
        with open_tar_writer(sink) as out:
            for path, name in _walk_sorted(os.fspath(root)):
                st = os.lstat(path)
                info = _tarinfo_for(path, name, st)
                if info is None:
                    continue
                key = (st.st_dev, st.st_ino)
                if info.isreg() and st.st_nlink > 1 and key in seen:
                    info.type, info.linkname, info.size = tarfile.LNKTYPE, seen[key], 0
                elif info.isreg() and st.st_nlink > 1:
                    seen[key] = name
                newest = max(newest or 0, normalize_member(info, clamp_mtime))
                if info.isreg():
                    with open(path, "rb") as data:
                        out.addfile(info, data)
                else:
                    out.addfile(info)
        return newest

    return produce


class _TreeSoFar:
    """What the entries copied so far make of the tree: the symlinks (path → target) and
    the other entries that are not directories, so that an entry written through a
    symlink, or a hardlink to nothing, is refused before it reaches a layer."""

    def __init__(self) -> None:
        self.links: dict[str, str] = {}
        self.others: set[str] = set()

    def _through_link(self, entry: str, path: str) -> None:
        parts = path.split("/")
        for end in range(1, len(parts)):
            parent = "/".join(parts[:end])
            if parent in self.links:
                raise InvalidContent(
                    f"tar entry {entry!r} would be written through the symlink {parent!r} "
                    f"(-> {self.links[parent]!r}) an earlier entry made"
                )

    def check(self, info: tarfile.TarInfo, name: str, original: str) -> None:
        self._through_link(original, name)
        if not info.islnk():
            return
        target = info.linkname
        if target == name:
            raise InvalidContent(f"tar entry {original!r} is a hardlink to itself")
        self._through_link(original, target)
        if target not in self.others:
            raise InvalidContent(
                f"tar entry {original!r} is a hardlink to {target!r}, which no earlier "
                "entry holds (or which is a directory)"
            )

    def add(self, info: tarfile.TarInfo, name: str) -> None:
        self.links.pop(name, None)
        self.others.discard(name)
        if info.issym():
            self.links[name] = info.linkname
        if not info.isdir():
            self.others.add(name)


def retar_stream(
    source: BinaryIO, strip_components: int = 0, clamp_mtime: int | None = None
) -> TarProducer:
    """A producer re-writing the tar (optionally compressed) read from ``source``.

    Entries keep the order of the source: tars from Podman and from ``tar`` of a sorted
    tree are already in a stable order, and re-sorting would mean holding the rootfs.
    Entries that would leave the root, be written through a symlink of the layer, or
    link to nothing are refused, naming the entry.
    """

    def produce(sink: BinaryIO) -> int | None:
        newest: int | None = None
        tree = _TreeSoFar()
        try:
            reader = tarfile.open(fileobj=source, mode="r|*", encoding="utf-8")  # noqa: SIM115
        except tarfile.TarError as exc:
            raise InvalidContent(f"input is not a tar archive: {exc}") from exc
        with reader, open_tar_writer(sink) as out:
            try:
                for info in reader:
                    mtime = _copy_member(reader, out, info, strip_components, clamp_mtime, tree)
                    if mtime is not None:
                        newest = max(newest or 0, mtime)
            except tarfile.TarError as exc:
                raise InvalidContent(f"input tar is damaged: {exc}") from exc
        return newest

    return produce


def _copy_member(
    reader: tarfile.TarFile,
    out: tarfile.TarFile,
    info: tarfile.TarInfo,
    strip_components: int,
    clamp_mtime: int | None,
    tree: _TreeSoFar,
) -> int | None:
    name = safe_member_name(info.name, strip_components)
    if name is None:
        return None
    check_member_type(info)
    original = info.name
    if info.islnk():
        target = safe_member_name(info.linkname, strip_components)
        if target is None:
            raise InvalidContent(f"tar entry {info.name!r} is a hardlink to the root")
        info.linkname = target
    tree.check(info, name, original)
    tree.add(info, name)
    info.name = name
    if info.isdir():
        info.name = name + "/"
    mtime = normalize_member(info, clamp_mtime)
    out.addfile(info, reader.extractfile(info) if info.isreg() else None)
    return mtime
