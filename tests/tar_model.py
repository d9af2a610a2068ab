"""A pure-Python model of a tree read from tars: applying layers in order, as a runtime does."""

import gzip
import io
import re
import tarfile
from pathlib import Path
from typing import BinaryIO

# path -> (kind, mode, uid, gid, data or link target, hardlink class or None, mtime)
Tree = dict[str, tuple[object, ...]]


def _open(data: bytes) -> tarfile.TarFile:
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return tarfile.open(fileobj=io.BytesIO(data), mode="r:")


def apply_tar(tree: Tree, data: bytes, strip: int = 0) -> Tree:
    """``tree`` with the entries of the tar ``data`` applied on top (no whiteouts)."""
    with _open(data) as tar:
        for info in tar:
            parts = [p for p in info.name.split("/") if p not in ("", ".")][strip:]
            if not parts:
                continue
            name = "/".join(parts)
            if info.islnk():
                target = "/".join([p for p in info.linkname.split("/") if p][strip:])
                kind, mode, uid, gid, content, cls, mtime = tree[target]
                cls = cls or target
                tree[target] = (kind, mode, uid, gid, content, cls, mtime)
                tree[name] = (kind, mode, uid, gid, content, cls, mtime)
                continue
            if info.isreg():
                content: object = tar.extractfile(info).read()  # type: ignore[union-attr]
            elif info.issym():
                content = info.linkname
            else:
                content = (info.devmajor, info.devminor) if info.ischr() or info.isblk() else None
            kind = "reg" if info.isreg() else info.type
            tree[name] = (kind, info.mode, info.uid, info.gid, content, None, int(info.mtime))
    return tree


def apply_layers(blobs: list[bytes]) -> Tree:
    tree: Tree = {}
    for blob in blobs:
        apply_tar(tree, blob)
    return tree


def without_mtimes(tree: Tree) -> dict[str, tuple[object, ...]]:
    """The tree with hardlink classes made comparable and mtimes dropped (also the
    times a package database records: CONTENTS mtimes, BUILD_TIME)."""
    out = {}
    for name, (kind, mode, uid, gid, content, cls, _mtime) in tree.items():
        if name.endswith("/CONTENTS") and isinstance(content, bytes):
            content = re.sub(rb"^((?:sym|obj) .*) \d+$", rb"\1", content, flags=re.M)
        if name.endswith("/BUILD_TIME"):
            content = None
        out[name] = (kind, mode, uid, gid, content, cls is not None)
    return out


def hardlink_classes(tree: Tree) -> set[frozenset[str]]:
    classes: dict[object, set[str]] = {}
    for name, entry in tree.items():
        if entry[5] is not None:
            classes.setdefault(entry[5], set()).add(name)
    return {frozenset(c) for c in classes.values()}


def read_blob(path: Path | BinaryIO) -> bytes:
    if isinstance(path, Path):
        return path.read_bytes()
    return path.read()


def tar_names(data: bytes) -> list[str]:
    with _open(data) as tar:
        return [info.name for info in tar]
