"""Reading images back from an OCI layout directory or an ``oci-archive`` tar.

Both are read in place: an archive's members are read straight from the tar. The
artifacts referring to an image are looked for in the layout's ``artifacts`` layout and,
as layouts written before it kept them, in its own index.
"""

import json
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import zstandard

from oci.descriptor import Descriptor, Platform
from oci.digest import hex_of
from oci.errors import OciError, open_problem
from oci.image import ANNOTATION_REF_NAME
from oci.layout import ARTIFACTS_DIR, INDEX_FILE
from oci.media import INDEX_TYPES, MANIFEST_TYPES, MediaType
from oci.platforms import pick_platform, platform_names
from oci.sign.cosign import COSIGN_KINDS, KIND_ANNOTATION
from oci.source import SourceImage


def tar_member(tar: tarfile.TarFile, member: str, archive_name: str) -> BinaryIO:
    """A regular file of an archive; a one-line error naming both if it is missing."""
    try:
        data = tar.extractfile(member)
    except KeyError:
        data = None
    if data is None:
        raise OciError(f"{archive_name}: {member} is missing")
    return data  # type: ignore[return-value]


class BlobStore(Protocol):
    where: str  # the layout's path or the archive's name, for messages

    def index(self) -> dict[str, Any]: ...
    def open_blob(self, digest: str) -> BinaryIO: ...
    def artifacts(self) -> "BlobStore | None": ...


class DirLayout:
    def __init__(self, path: Path) -> None:
        if not (path / INDEX_FILE).is_file():
            raise OciError(f"{path}: not an OCI layout (no {INDEX_FILE})")
        self._path = path
        self.where = str(path)

    def index(self) -> dict[str, Any]:
        return json.loads((self._path / INDEX_FILE).read_bytes())

    def open_blob(self, digest: str) -> BinaryIO:
        path = self._path / "blobs" / digest.split(":", 1)[0] / hex_of(digest)
        try:
            return path.open("rb")
        except FileNotFoundError as exc:
            raise OciError(f"{self._path}: blob {digest} is missing") from exc

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
        return json.loads(self._member(INDEX_FILE).read())

    def open_blob(self, digest: str) -> BinaryIO:
        return self._member(f"blobs/{digest.split(':', 1)[0]}/{hex_of(digest)}")

    def artifacts(self) -> BlobStore | None:
        if self._prefix:
            return None
        try:
            self._tar.getmember(f"{ARTIFACTS_DIR}/{INDEX_FILE}")
        except KeyError:
            return None
        return ArchiveLayout(self._tar, self._name, f"{ARTIFACTS_DIR}/")


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


def read_json(store: BlobStore, digest: str) -> Any:
    with store.open_blob(digest) as data:
        return json.loads(data.read())


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
    manifest = read_json(store, entry.digest)
    config = read_json(store, manifest["config"]["digest"])
    return StoredImage(entry, manifest, config)


def find_entry(store: BlobStore, tag: str | None) -> Descriptor:
    """The index entry tagged ``tag`` (a manifest or an index), or the only image."""
    entries = [Descriptor.from_dict(m) for m in store.index().get("manifests", [])]
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


def _from_index(store: BlobStore, entry: Descriptor, platform: Platform) -> Descriptor:
    index = read_json(store, entry.digest)
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
        for raw in where.index().get("manifests", []):
            entry = Descriptor.from_dict(raw)
            if entry.digest == subject or entry.media_type != MediaType.OCI_MANIFEST:
                continue
            manifest = read_json(where, entry.digest)
            if (manifest.get("subject") or {}).get("digest") != subject:
                continue
            if artifact_type is None or manifest.get("artifactType") == artifact_type:
                found.append(manifest)
    return found


class LayoutSource:
    """``oci:DIR[:TAG]`` and ``oci-archive:FILE[:TAG]``: the image tagged ``tag`` (or the
    only one) and the artifacts listed next to it in the index."""

    def __init__(self, store: BlobStore, tag: str | None, platform: Platform | None = None) -> None:
        self._store = store
        self._tag = tag
        self._platform = platform

    def image(self) -> SourceImage:
        found = find_image(self._store, self._tag, self._platform)
        return SourceImage(found.descriptor.digest, found.manifest, found.config)

    def open_blob(self, digest: str) -> BinaryIO:
        """A blob of the image, or of an artifact referring to it."""
        *first, last = _stores(self._store)[::-1]
        for store in first:
            try:
                return store.open_blob(digest)
            except OciError:
                continue
        return last.open_blob(digest)

    def referrers(self, subject: str, artifact_type: str | None = None) -> list[Any]:
        return find_referrers(self._store, subject, artifact_type)


@contextmanager
def open_layout_source(
    path: Path, tag: str | None, archive: bool, platform: Platform | None = None
) -> Iterator[LayoutSource]:
    with open_layout(path, archive) as store:
        yield LayoutSource(store, tag, platform)


@contextmanager
def open_layer_tar(data: BinaryIO, media_type: str) -> Iterator[tarfile.TarFile]:
    """A streaming tar reader over a layer blob of any of the layer media types."""
    if media_type.endswith("+zstd") or media_type.endswith(".zstd"):
        with (
            zstandard.ZstdDecompressor().stream_reader(data) as plain,  # type: ignore[arg-type]
            tarfile.open(fileobj=plain, mode="r|") as tar,  # type: ignore[arg-type]
        ):
            yield tar
        return
    with tarfile.open(fileobj=data, mode="r|*") as tar:
        yield tar
