"""Splitting one tar stream into several layers in one pass.

Every entry goes to one *group*, and each group becomes its own layer:

- A non-directory goes to ``assign(name)``, or to the ``fallback`` group when that is None.
- A hardlink goes to the group of its target, as a hardlink: the link keeps being one
  inode, and the data never has to be held back or read twice. (A layer holding a hardlink
  whose target is in another layer cannot be applied everywhere.)
- A directory goes to every group that gets an entry beneath it, just before that entry,
  so each layer carries the directories above its files with their real modes and owners
  and depends on nothing else. It also goes to ``assign(name)`` when that names a group;
  a directory that by the end of its subtree has gone nowhere (an empty one) goes to the
  fallback group.
- ``keep(name)`` False drops an entry (and a hardlink to it is refused).

Each group can set the mtime of all its entries (``GroupSpec.mtime``), so that its layer
depends only on what is in it; otherwise mtimes are clamped to ``clamp_mtime``. Groups that
receive no entry get no layer. Entry order within a layer is the order of the stream.
"""

import copy
import hashlib
import io
import logging
import tarfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol

from oci.compress import Compression
from oci.errors import InvalidContent
from oci.layer import Layer, LayerWriter
from oci.tarball import check_member_type, normalize_member, safe_member_name

log = logging.getLogger(__name__)

# Called for each regular file with its name and the hex digests asked for.
FileObserver = Callable[[str, Mapping[str, str]], None]


@dataclass(frozen=True)
class GroupSpec:
    """How one group's layer is written."""

    # When set, every entry of the layer gets this mtime (instead of clamp_mtime).
    mtime: int | None = None
    annotations: Mapping[str, str] = field(default_factory=dict)


class _HashingReader:
    """Reads through a member's data, hashing it on the way."""

    def __init__(self, source: BinaryIO, algorithms: Sequence[str]) -> None:
        self._source = source
        self.hashes = {name: hashlib.new(name) for name in algorithms}

    def read(self, size: int = -1) -> bytes:
        data = self._source.read(size)
        for h in self.hashes.values():
            h.update(data)
        return data

    def hexdigests(self) -> dict[str, str]:
        return {name: h.hexdigest() for name, h in self.hashes.items()}


class GroupWriter(Protocol):
    """What a group's entries are written to: a LayerWriter, or one that reuses a blob."""

    def add(self, info: tarfile.TarInfo, fileobj: BinaryIO | None = None) -> None: ...
    def finish(self) -> Layer: ...
    def abort(self) -> None: ...


# Makes the writer of one group's layer, from the group's name and spec.
WriterFactory = Callable[[str, GroupSpec], GroupWriter]

# Returns, for an entry name, a function that replaces that file's content, or None.
Rewriter = Callable[[str], Callable[[bytes], bytes] | None]


def _is_below(name: str, directory: str) -> bool:
    return name.startswith(directory + "/")


def _parents(name: str) -> list[str]:
    """Names of the directories above ``name``, outermost first."""
    parts = name.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


class _Splitter:
    def __init__(
        self,
        groups: Mapping[str, GroupSpec],
        fallback: str,
        blob_dir: Path,
        compression: Compression,
        clamp_mtime: int | None,
        new_writer: WriterFactory | None = None,
    ) -> None:
        if fallback not in groups:
            raise ValueError(f"fallback group {fallback!r} is not among the groups")
        self.groups = groups
        self.fallback = fallback
        self.blob_dir = blob_dir
        self.compression = compression
        self.clamp_mtime = clamp_mtime
        self.new_writer: WriterFactory = new_writer or (
            lambda name, spec: LayerWriter(blob_dir, compression, spec.annotations)
        )
        self.writers: dict[str, GroupWriter] = {}
        self.dirs: dict[str, tarfile.TarInfo] = {}
        self.dirs_in: dict[str, set[str]] = {}  # group -> directories it holds
        self.placed_dirs: set[str] = set()  # directories that went somewhere
        self.files: dict[str, str] = {}  # regular file -> group, for hardlinks
        self.dropped: set[str] = set()
        self.open_dirs: list[str] = []

    def writer(self, group: str) -> GroupWriter:
        if group not in self.groups:
            raise ValueError(f"entry assigned to unknown group {group!r}")
        if group not in self.writers:
            self.writers[group] = self.new_writer(group, self.groups[group])
            self.dirs_in[group] = set()
        return self.writers[group]

    def normalized(self, info: tarfile.TarInfo, group: str) -> tarfile.TarInfo:
        out = copy.copy(info)
        out.pax_headers = dict(info.pax_headers)
        override = self.groups[group].mtime
        normalize_member(out, self.clamp_mtime)
        if override is not None:
            out.mtime = override
        return out

    def emit_parents(self, name: str, group: str) -> None:
        writer = self.writer(group)
        held = self.dirs_in[group]
        for parent in _parents(name):
            if parent in self.dirs and parent not in held:
                held.add(parent)
                self.placed_dirs.add(parent)
                writer.add(self.normalized(self.dirs[parent], group))

    def emit_dir(self, name: str, group: str) -> None:
        self.emit_parents(name, group)
        if name not in self.dirs_in[group]:
            self.dirs_in[group].add(name)
            self.placed_dirs.add(name)
            self.writers[group].add(self.normalized(self.dirs[name], group))

    def close_dirs_before(self, name: str | None) -> None:
        """Directories whose subtree ended: one that went nowhere goes to the fallback."""
        while self.open_dirs and (name is None or not _is_below(name, self.open_dirs[-1])):
            done = self.open_dirs.pop()
            if done not in self.placed_dirs:
                self.emit_dir(done, self.fallback)

    def abort(self) -> None:
        for writer in self.writers.values():
            writer.abort()


def split_stream(
    source: BinaryIO,
    assign: Callable[[str], str | None],
    groups: Mapping[str, GroupSpec],
    blob_dir: Path,
    compression: Compression = Compression.GZIP,
    strip_components: int = 0,
    clamp_mtime: int | None = None,
    *,
    fallback: str,
    keep: Callable[[str], bool] | None = None,
    file_hashes: Sequence[str] = (),
    on_file: FileObserver | None = None,
    rewrite: Rewriter | None = None,
    new_writer: WriterFactory | None = None,
) -> dict[str, Layer]:
    """Read the tar (optionally compressed) from ``source`` once; write one layer per group.

    Names given to ``assign`` and ``keep`` are entry names after ``strip_components``,
    without leading or trailing slashes. ``on_file`` hears of every regular file written,
    with the hex digests named in ``file_hashes`` (hashlib names). ``rewrite(name)`` may
    return a function that replaces a small file's content (it is read whole).
    ``new_writer`` makes each group's writer (default: a LayerWriter in ``blob_dir``).
    """
    splitter = _Splitter(groups, fallback, blob_dir, compression, clamp_mtime, new_writer)
    observe = (tuple(file_hashes), on_file) if on_file is not None else None
    try:
        try:
            reader = tarfile.open(fileobj=source, mode="r|*", encoding="utf-8")  # noqa: SIM115
        except tarfile.TarError as exc:
            raise InvalidContent(f"input is not a tar archive: {exc}") from exc
        with reader:
            try:
                for info in reader:
                    _route(splitter, reader, info, assign, keep, strip_components, observe, rewrite)
            except tarfile.TarError as exc:
                raise InvalidContent(f"input tar is damaged: {exc}") from exc
        splitter.close_dirs_before(None)
        return {group: writer.finish() for group, writer in splitter.writers.items()}
    except BaseException:
        splitter.abort()
        raise


def _route(
    splitter: _Splitter,
    reader: tarfile.TarFile,
    info: tarfile.TarInfo,
    assign: Callable[[str], str | None],
    keep: Callable[[str], bool] | None,
    strip_components: int,
    observe: tuple[tuple[str, ...], FileObserver] | None,
    rewrite: Rewriter | None = None,
) -> None:
    name = safe_member_name(info.name, strip_components)
    if name is None:
        return
    check_member_type(info)
    splitter.close_dirs_before(name)
    if keep is not None and not keep(name):
        splitter.dropped.add(name)
        return
    if info.isdir():
        info.name = name + "/"
        splitter.dirs[name] = info
        splitter.open_dirs.append(name)
        group = assign(name)
        if group is not None:
            splitter.emit_dir(name, group)
        return
    if info.islnk():
        target = safe_member_name(info.linkname, strip_components)
        if target in splitter.dropped:
            raise InvalidContent(f"tar entry {info.name!r} is a hardlink to a dropped entry")
        if target is None or target not in splitter.files:
            raise InvalidContent(f"tar entry {info.name!r} is a hardlink to no earlier file")
        group = splitter.files[target]
        info.linkname = target
    else:
        group = assign(name) or splitter.fallback
    splitter.emit_parents(name, group)
    info.name = name
    out = splitter.normalized(info, group)
    if not info.isreg():
        splitter.writers[group].add(out)
        return
    splitter.files[name] = group
    data = reader.extractfile(info)
    change = rewrite(name) if rewrite is not None and data is not None else None
    if change is not None:
        content = change(data.read())  # type: ignore[union-attr]
        out.size = len(content)
        data = io.BytesIO(content)  # type: ignore[assignment]
    if observe is None:
        splitter.writers[group].add(out, data)
        return
    hashing = _HashingReader(data, observe[0])  # type: ignore[arg-type]
    splitter.writers[group].add(out, hashing)  # type: ignore[arg-type]
    observe[1](name, hashing.hexdigests())
