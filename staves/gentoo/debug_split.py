"""The debug image's own layers, split from a debug build's root: pure but for the blobs.

A package built with ``FEATURES=splitdebug`` installs its ELF files stripped, each with a
debug link, and their debug information under ``/usr/lib/debug`` (``.build-id/XX/REST.debug``
names each file by build ID); with ``installsources``, the sources it names under
``/usr/src/debug``. The image gets neither: as the root's stream is split into the image's
layers, those two trees go to one more layer, the debug layer, which only the debug image
has. The image's package database lists only what the image holds (its CONTENTS lose the
debug files, as INSTALL_MASK would leave them out); the debug layer carries each such
package's whole CONTENTS, so that the debug image's database lists the debug files too.

The debug image's packages (``[debug] packages``) come as a tar of what merging them into
a copy of the image's root added or changed (the builder makes it); it becomes one layer,
the package database kept as the image's ``vdb`` mode keeps it.
"""

import io
import tarfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import BinaryIO

from oci.compress import Compression
from oci.layer import Layer, LayerWriter
from oci.split import GroupSpec, GroupWriter, WriterFactory, split_stream
from staves.gentoo.layering import (
    ANNOTATION_LAYER,
    ANNOTATION_PACKAGES,
    VDB_DIR,
    LayerGroup,
    LayerPlan,
    plan_layers,
)
from staves.gentoo.vdb import InstalledPackage

# Where splitdebug and installsources put what the debug image adds (no leading slash).
DEBUG_TREES = ("usr/lib/debug", "usr/src/debug")
DEBUG_GROUP = "debug"
DEBUG_PACKAGES_KIND = "debug-packages"
WHITEOUT = ".wh."  # an OCI whiteout: the entry of this name below is removed
_CONTENTS = "CONTENTS"


def is_debug_path(name: str) -> bool:
    """Whether a root entry (no leading slash) is debug information or debug sources."""
    return any(name == top or name.startswith(top + "/") for top in DEBUG_TREES)


# The directories above the debug trees, which a package may list only for them.
_ABOVE_DEBUG = frozenset({"usr", "usr/lib", "usr/src"})


def trim_contents(contents: bytes) -> bytes:
    """CONTENTS without the lines of the debug trees, nor those of the directories above
    them that nothing else of the package is in: what the image itself holds of it."""
    lines = contents.split(b"\n")
    paths = [_path(line) for line in lines]
    kept = [p for p in paths if p is not None and not is_debug_path(p)]
    out = []
    for line, path in zip(lines, paths, strict=True):
        if path is not None and is_debug_path(path):
            continue
        if path in _ABOVE_DEBUG and not any(k.startswith(path + "/") for k in kept):
            continue
        out.append(line)
    return b"\n".join(out)


def _path(line: bytes) -> str | None:
    """The path of a CONTENTS line, without its leading slash."""
    kind, _, rest = line.partition(b" ")
    if kind == b"obj":
        rest = rest.rsplit(b" ", 2)[0]  # PATH MD5 MTIME
    elif kind == b"sym":
        rest = rest.partition(b" -> ")[0]  # PATH -> TARGET MTIME
    elif kind not in (b"dir", b"fif", b"dev"):
        return None
    return rest.decode("utf-8", "surrogateescape").lstrip("/")


def _is_contents(name: str) -> bool:
    parts = name.split("/")
    return len(parts) == 6 and name.startswith(VDB_DIR + "/") and parts[5] == _CONTENTS


def _directory(name: str, mtime: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name + "/")
    info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, mtime
    return info


@dataclass
class DebugSplit:
    """The image's layer plan with the debug group beside it: entries of the debug trees
    go to the debug group, and each CONTENTS that lists some is trimmed for the image and
    kept whole for the debug layer."""

    plan: LayerPlan
    mtime: int | None
    whole_contents: dict[str, bytes] = field(default_factory=dict)

    @property
    def group(self) -> LayerGroup:
        return LayerGroup(DEBUG_GROUP, (), self.mtime, "debug")

    @property
    def fallback(self) -> str:
        return self.plan.fallback

    def group_specs(self) -> dict[str, GroupSpec]:
        return {**self.plan.group_specs(), DEBUG_GROUP: self.group.spec()}

    def assign(self, name: str) -> str | None:
        return DEBUG_GROUP if is_debug_path(name) else self.plan.assign(name)

    def keep(self, name: str) -> bool:
        return self.plan.keep(name)

    def rewrite(self, name: str) -> Callable[[bytes], bytes] | None:
        stamp = self.plan.rewrite(name)
        if not _is_contents(name):
            return stamp

        def split(data: bytes) -> bytes:
            whole = stamp(data) if stamp is not None else data
            trimmed = trim_contents(whole)
            if trimmed != whole:
                self.whole_contents[name] = whole
            return trimmed

        return split

    def writer(self, blob_dir: Path, compression: Compression) -> GroupWriter:
        return _DebugWriter(LayerWriter(blob_dir, compression, self.group.annotations), self)


class _DebugWriter:
    """The debug layer's writer: the debug trees as they stream by, then the whole CONTENTS
    of every package that has debug files (known only once the stream is read)."""

    def __init__(self, inner: LayerWriter, split: DebugSplit) -> None:
        self.inner = inner
        self.split = split
        self.names: set[str] = set()

    def add(self, info: tarfile.TarInfo, fileobj: BinaryIO | None = None) -> None:
        self.names.add(info.name.rstrip("/"))
        self.inner.add(info, fileobj)

    def finish(self) -> Layer:
        mtime = self.split.mtime or 0
        for name, data in sorted(self.split.whole_contents.items()):
            parts = name.split("/")
            for depth in range(1, len(parts)):
                parent = "/".join(parts[:depth])
                if parent not in self.names:
                    self.names.add(parent)
                    self.inner.add(_directory(parent, mtime))
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, mtime
            self.inner.add(info, io.BytesIO(data))
        return self.inner.finish()

    def abort(self) -> None:
        self.inner.abort()


def debug_writers(
    split: DebugSplit, others: WriterFactory | None, blob_dir: Path, compression: Compression
) -> WriterFactory:
    """The writer of each group: the debug layer's own, ``others`` (else a plain
    LayerWriter) for the image's."""

    def new_writer(name: str, spec: GroupSpec) -> GroupWriter:
        if name == DEBUG_GROUP:
            return split.writer(blob_dir, compression)
        if others is not None:
            return others(name, spec)
        return LayerWriter(blob_dir, compression, spec.annotations)

    return new_writer


@dataclass(frozen=True)
class DebugLayer:
    """One of the debug image's own layers (the debug information split out of the root,
    or the debug packages), and the digests of its regular files."""

    layer: Layer
    file_digests: Mapping[str, Mapping[str, str]]


def pack_debug_packages(
    stream: BinaryIO,
    packages: Sequence[InstalledPackage],
    *,
    vdb: str,
    blob_dir: Path,
    compression: Compression,
    epoch: int | None,
    file_hashes: Sequence[str] = ("sha1", "sha256"),
) -> DebugLayer | None:
    """The tar of what the debug packages added to the root (``stream``, names relative to
    the root) as one layer; None when they added nothing. ``packages`` are the debug
    packages' database entries; the database is kept as ``vdb`` says, its times stamped."""
    plan = plan_layers(packages, 1, vdb, epoch)  # type: ignore[arg-type]
    annotations = {ANNOTATION_LAYER: DEBUG_PACKAGES_KIND}
    if packages:
        annotations[ANNOTATION_PACKAGES] = " ".join(sorted(p.key for p in packages))
    spec = GroupSpec(epoch, MappingProxyType(annotations))
    digests: dict[str, Mapping[str, str]] = {}
    written = split_stream(
        stream,
        lambda name: DEBUG_PACKAGES_KIND,
        {DEBUG_PACKAGES_KIND: spec},
        blob_dir,
        compression,
        clamp_mtime=epoch,
        fallback=DEBUG_PACKAGES_KIND,
        keep=lambda name: name.rpartition("/")[2].startswith(WHITEOUT) or plan.keep(name),
        rewrite=plan.rewrite,
        file_hashes=file_hashes,
        on_file=lambda name, found: digests.__setitem__(name, found),
    )
    layer = written.get(DEBUG_PACKAGES_KIND)
    return None if layer is None else DebugLayer(layer, MappingProxyType(digests))


def split_digests(
    digests: Mapping[str, Mapping[str, str]],
) -> tuple[Mapping[str, Mapping[str, str]], Mapping[str, Mapping[str, str]]]:
    """The file digests of a split root: the image's, and the debug layer's."""
    image = {k: v for k, v in digests.items() if not is_debug_path(k)}
    debug = {k: v for k, v in digests.items() if is_debug_path(k)}
    return MappingProxyType(image), MappingProxyType(debug)
