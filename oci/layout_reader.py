"""Reading images back from an OCI layout directory or an ``oci-archive`` tar.

Both are read in place: an archive's members are read straight from the tar. The
artifacts referring to an image are looked for in the layout's ``artifacts`` layout and,
as layouts written before it kept them, in its own index.
"""

import os
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from oci.descriptor import Descriptor, Platform
from oci.digest import hex_of
from oci.document import MAX_CONFIG, MAX_DOCUMENT, BadDocument, Shape, check, load_json
from oci.errors import InvalidContent, OciError, open_problem
from oci.image import ANNOTATION_REF_NAME
from oci.layer_reader import DEFAULT_LIMITS, LayerLimits
from oci.layout import ARTIFACTS_DIR, INDEX_FILE
from oci.media import INDEX_TYPES, MANIFEST_TYPES, MediaType
from oci.platforms import pick_platform, platform_names
from oci.shapes import CONFIG, INDEX, MANIFEST
from oci.sign.cosign import COSIGN_KINDS, KIND_ANNOTATION
from oci.source import SourceImage
from oci.verified import BlobMismatch, verified


def tar_member(tar: tarfile.TarFile, member: str, archive_name: str) -> BinaryIO:
    """A regular file of an archive; a one-line error naming both if it is missing."""
    try:
        data = tar.extractfile(member)
    except KeyError:
        data = None
    if data is None:
        raise OciError(f"{archive_name}: {member} is missing")
    return data  # type: ignore[return-value]


def blob_name(digest: str) -> str:
    """Where a layout keeps the blob ``digest``, relative to the layout."""
    return f"blobs/sha256/{hex_of(digest)}"


def _opened_blob(
    data: BinaryIO, actual: int, digest: str, size: int | None, where: str
) -> BinaryIO:
    if size is not None and size != actual:
        data.close()
        raise BlobMismatch(f"{where}: blob {digest} has {actual} bytes, not the {size} listed")
    return verified(data, digest, where, size=actual)


class BlobStore(Protocol):
    where: str  # the layout's path or the archive's name, for messages

    def index(self) -> dict[str, Any]: ...
    def open_blob(self, digest: str, size: int | None = None) -> BinaryIO: ...
    def artifacts(self) -> "BlobStore | None": ...


class DirLayout:
    def __init__(self, path: Path) -> None:
        if not (path / INDEX_FILE).is_file():
            raise OciError(f"{path}: not an OCI layout (no {INDEX_FILE})")
        self._path = path
        self.where = str(path)

    def index(self) -> dict[str, Any]:
        with (self._path / INDEX_FILE).open("rb") as data:
            return check_index(data, f"{self._path}/{INDEX_FILE}")

    def open_blob(self, digest: str, size: int | None = None) -> BinaryIO:
        path = self._path / blob_name(digest)
        try:
            data = path.open("rb")
        except FileNotFoundError as exc:
            raise OciError(f"{self._path}: blob {digest} is missing") from exc
        actual = os.fstat(data.fileno()).st_size
        return _opened_blob(data, actual, digest, size, self.where)  # type: ignore[arg-type]

    def artifacts(self) -> BlobStore | None:
        inner = self._path / ARTIFACTS_DIR
        return DirLayout(inner) if (inner / INDEX_FILE).is_file() else None


class ArchiveLayout:
    def __init__(self, tar: tarfile.TarFile, name: str, prefix: str = "") -> None:
        self._tar = tar
        self._name = name
        self._prefix = prefix  # of the members, for the artifacts layout inside
        self.where = f"{name}:{prefix.rstrip('/')}" if prefix else name

    def _member(self, member: str) -> BinaryIO:
        return tar_member(self._tar, self._prefix + member, self._name)

    def index(self) -> dict[str, Any]:
        return check_index(self._member(INDEX_FILE), f"{self.where}: {INDEX_FILE}")

    def open_blob(self, digest: str, size: int | None = None) -> BinaryIO:
        name = blob_name(digest)
        try:
            member = self._tar.getmember(self._prefix + name)
        except KeyError:
            raise OciError(f"{self.where}: blob {digest} is missing") from None
        return _opened_blob(self._member(name), member.size, digest, size, self.where)

    def artifacts(self) -> BlobStore | None:
        if self._prefix:
            return None
        try:
            self._tar.getmember(f"{ARTIFACTS_DIR}/{INDEX_FILE}")
        except KeyError:
            return None
        return ArchiveLayout(self._tar, self._name, f"{ARTIFACTS_DIR}/")


def check_index(data: BinaryIO, source: str) -> dict[str, Any]:
    """A layout's ``index.json``, its size, nesting and entries checked."""
    return check(load_json(data, source), INDEX, source)  # type: ignore[no-any-return]


@contextmanager
def open_layout(path: Path, archive: bool) -> Iterator[BlobStore]:
    """A layout directory, or (``archive``) an oci-archive tar, to read blobs from."""
    if not archive:
        yield DirLayout(path)
        return
    try:
        tar = tarfile.open(path)  # noqa: SIM115 - closed below
    except (OSError, tarfile.TarError) as exc:
        raise OciError(f"{path}: not a readable oci-archive: {open_problem(exc)}") from exc
    with tar:
        yield ArchiveLayout(tar, str(path))


def read_document(
    store: BlobStore, entry: Descriptor, shape: Shape, what: str, limit: int = MAX_DOCUMENT
) -> Any:
    """The JSON blob ``entry`` names (a ``what``), checked against its digest and size,
    and ``shape``."""
    source = f"{store.where}: {what} {entry.digest}"
    if entry.size > limit:
        raise BadDocument(source, f"is {entry.size} bytes; a {what} may have {limit >> 20} MiB")
    with store.open_blob(entry.digest, entry.size) as data:
        return check(load_json(data, source, limit), shape, source)


@dataclass(frozen=True)
class StoredImage:
    descriptor: Descriptor
    manifest: dict[str, Any]
    config: dict[str, Any]


def find_image(store: BlobStore, tag: str | None, platform: Platform | None = None) -> StoredImage:
    """The image tagged ``tag``, or the only image (not artifact) when no tag is given;
    where that names an index, its image for ``platform`` (default: this host's)."""
    entry = find_entry(store, tag)
    if entry.media_type in INDEX_TYPES:
        entry = _from_index(store, entry, platform or Platform.host())
    if entry.media_type not in MANIFEST_TYPES:
        raise OciError(f"{entry.digest} is a {entry.media_type}, not an image manifest")
    manifest = read_document(store, entry, MANIFEST, "manifest")
    config_entry = Descriptor.from_dict(manifest["config"])
    config = read_document(store, config_entry, CONFIG, "config", MAX_CONFIG)
    return StoredImage(entry, manifest, config)


def find_entry(store: BlobStore, tag: str | None) -> Descriptor:
    """The index entry tagged ``tag`` (a manifest or an index), or the only image."""
    entries = [Descriptor.from_dict(m) for m in store.index()["manifests"]]
    if tag is not None:
        chosen = [e for e in entries if e.annotations.get(ANNOTATION_REF_NAME) == tag]
        if not chosen:
            tags = sorted({t for e in entries if (t := e.annotations.get(ANNOTATION_REF_NAME))})
            raise OciError(
                f"{store.where}: no image tagged {tag!r} (tags: {', '.join(tags) or 'none'})"
            )
    else:
        chosen = [
            e
            for e in entries
            if e.artifact_type is None
            and e.media_type in (*MANIFEST_TYPES, *INDEX_TYPES)
            and e.annotations.get(KIND_ANNOTATION) not in COSIGN_KINDS
        ]
        if len(chosen) != 1:
            raise OciError(f"{store.where}: {len(chosen)} images found; name one with :TAG")
    return chosen[-1]


def checked_entry(store: BlobStore, tag: str | None) -> Descriptor:
    """``find_entry``'s entry, its document read and checked against its digest: what a
    signature of it may sign."""
    entry = find_entry(store, tag)
    if entry.media_type in INDEX_TYPES:
        read_document(store, entry, INDEX, "index")
    else:
        read_document(store, entry, MANIFEST, "manifest")
    return entry


def _from_index(store: BlobStore, entry: Descriptor, platform: Platform) -> Descriptor:
    index = read_document(store, entry, INDEX, "index")
    picked = pick_platform(index, platform)
    if picked is None:
        raise OciError(
            f"index {entry.digest} has no {platform} image (it has {platform_names(index)})"
        )
    return Descriptor.from_dict(dict(picked))


def _stores(store: BlobStore) -> list[BlobStore]:
    """The layout's artifacts layout, then the layout itself (as written before)."""
    inner = store.artifacts()
    return [inner, store] if inner is not None else [store]


def find_referrers(store: BlobStore, subject: str, artifact_type: str | None = None) -> list[Any]:
    """Manifests listed in the artifacts layout (or the layout's own index) whose
    ``subject`` is the manifest ``subject`` (digest)."""
    found = []
    for where in _stores(store):
        for raw in where.index()["manifests"]:
            entry = Descriptor.from_dict(raw)
            if entry.digest == subject or entry.media_type != MediaType.OCI_MANIFEST:
                continue
            manifest = read_document(where, entry, MANIFEST, "manifest")
            if (manifest.get("subject") or {}).get("digest") != subject:
                continue
            if artifact_type is None or manifest.get("artifactType") == artifact_type:
                found.append(manifest)
    return found


class LayoutSource:
    """``oci:DIR[:TAG]`` and ``oci-archive:FILE[:TAG]``: the image tagged ``tag`` (or the
    only one) and the artifacts listed next to it in the index."""

    def __init__(
        self,
        store: BlobStore,
        tag: str | None,
        platform: Platform | None = None,
        limits: LayerLimits = DEFAULT_LIMITS,
    ) -> None:
        self._store = store
        self._tag = tag
        self._platform = platform
        self.limits = limits

    def image(self) -> SourceImage:
        found = find_image(self._store, self._tag, self._platform)
        return SourceImage(found.descriptor.digest, found.manifest, found.config)

    def open_blob(self, digest: str, size: int | None = None) -> BinaryIO:
        """A blob of the image, or of an artifact referring to it (a blob that is there
        but wrong is refused, not looked for elsewhere)."""
        *first, last = _stores(self._store)[::-1]
        for store in first:
            try:
                return store.open_blob(digest, size)
            except InvalidContent:
                raise
            except OciError:
                continue
        return last.open_blob(digest, size)

    def referrers(self, subject: str, artifact_type: str | None = None) -> list[Any]:
        return find_referrers(self._store, subject, artifact_type)


@contextmanager
def open_layout_source(
    path: Path,
    tag: str | None,
    archive: bool,
    platform: Platform | None = None,
    limits: LayerLimits = DEFAULT_LIMITS,
) -> Iterator[LayoutSource]:
    with open_layout(path, archive) as store:
        yield LayoutSource(store, tag, platform, limits)
