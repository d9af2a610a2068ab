"""Writing images into an OCI image layout directory (``oci:DIR[:TAG]``).

Several images and tags share one layout; blobs are stored once. ``index.json`` is
replaced atomically under a lock, and blobs added by a failed write are removed again.

What refers to an image (OCI 1.1 referrers such as SBOMs and provenance, cosign's tagged
signatures and attestations) goes into a layout of its own inside, ``DIR/artifacts``:
``DIR/index.json`` then lists images only, as scanners (syft, grype, trivy) and
``skopeo copy`` without a tag expect of a layout.
"""

import contextlib
import fcntl
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from oci.blob import Blob, canonical_json
from oci.descriptor import Descriptor
from oci.digest import hex_of
from oci.document import check, load_json
from oci.errors import OciError
from oci.files import atomic_write, place_blob
from oci.image import ANNOTATION_REF_NAME
from oci.index import Publishable
from oci.media import MediaType
from oci.shapes import INDEX

LAYOUT_FILE = "oci-layout"
INDEX_FILE = "index.json"
LAYOUT_VERSION = {"imageLayoutVersion": "1.0.0"}
_LOCK_FILE = ".staves.lock"
# The layout of what refers to the images, inside the images' layout.
ARTIFACTS_DIR = "artifacts"


def artifacts_layout(layout: Path) -> Path:
    """The layout holding the artifacts that refer to the images of ``layout``."""
    return layout / ARTIFACTS_DIR


def blob_path(layout: Path, digest: str) -> Path:
    return layout / "blobs" / "sha256" / hex_of(digest)


def read_index(layout: Path) -> dict[str, Any]:
    path = layout / INDEX_FILE
    if not path.exists():
        return {"schemaVersion": 2, "mediaType": MediaType.OCI_INDEX, "manifests": []}
    with path.open("rb") as data:
        return check(load_json(data, str(path)), INDEX, str(path))  # type: ignore[no-any-return]


def with_manifest(index: dict[str, Any], entry: Descriptor, tag: str | None) -> dict[str, Any]:
    """``index`` with ``entry`` added, replacing what held the same tag (or digest, untagged)."""

    def replaced(existing: dict[str, Any]) -> bool:
        name = (existing.get("annotations") or {}).get(ANNOTATION_REF_NAME)
        if tag is not None:
            return name == tag
        return name is None and existing.get("digest") == entry.digest

    kept = [m for m in index["manifests"] if not replaced(m)]
    return {**index, "manifests": [*kept, entry.to_dict()]}


@contextmanager
def _locked(layout: Path) -> Iterator[None]:
    with (layout / _LOCK_FILE).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _check_layout_dir(layout: Path, locked: bool) -> None:
    """Refuse a directory that holds something other than a layout. Without the lock, one
    holding the lock file is a layout another writer is creating; under the lock, its
    marker is there by then, or only the lock file of a write that failed."""
    if not layout.is_dir() or (layout / LAYOUT_FILE).exists():
        return
    names = {path.name for path in layout.iterdir()}
    if names - {_LOCK_FILE, ARTIFACTS_DIR} and (locked or _LOCK_FILE not in names):
        raise OciError(f"{layout}: directory is not empty and is not an OCI layout")


def check_layout_target(layout: Path) -> None:
    """A layout can be written at ``layout``: a layout, an empty directory, or a new
    directory in one that exists (none is made above it)."""
    if layout.exists() and not layout.is_dir():
        raise OciError(f"{layout}: exists and is not a directory")
    if not layout.exists() and not layout.parent.is_dir():
        raise OciError(
            f"{layout.parent} is not a directory; create it first, or give a path in one"
        )
    _check_layout_dir(layout, locked=False)


class LayoutWriter:
    """Adds images and artifacts to one layout: blobs as they come, ``index.json`` once,
    when the transaction ends (see ``layout_transaction``)."""

    def __init__(self, layout: Path) -> None:
        self.layout = layout
        self.added: list[Path] = []
        self.entries: list[tuple[Descriptor, str | None]] = []

    def add(self, blobs: Iterable[Blob], entry: Descriptor, tag: str | None = None) -> None:
        """Place ``blobs`` (the manifest among them); ``entry`` goes to the index under
        ``tag`` when the transaction commits."""
        for blob in blobs:
            target = blob_path(self.layout, blob.digest)
            if place_blob(blob, target):
                self.added.append(target)
        self.entries.append((entry, tag))


@contextmanager
def layout_transaction(layout: Path) -> Iterator[LayoutWriter]:
    """Hold the layout's lock while blobs are placed; when the block ends without an
    error, write the index with every entry added, else remove the blobs it added. The
    block may do other work (other destinations) before it ends: the index changes last."""
    check_layout_target(layout)
    created = not layout.exists()
    layout.mkdir(exist_ok=True)
    with _locked(layout):
        _check_layout_dir(layout, locked=True)
        writer = LayoutWriter(layout)
        try:
            if not (layout / LAYOUT_FILE).exists():
                atomic_write(layout / LAYOUT_FILE, canonical_json(LAYOUT_VERSION))
            yield writer
            index = read_index(layout)
            for entry, tag in writer.entries:
                index = with_manifest(index, entry, tag)
            atomic_write(layout / INDEX_FILE, canonical_json(index))
        except BaseException:
            for path in writer.added:
                path.unlink(missing_ok=True)
            if created and not (layout / INDEX_FILE).exists():
                _remove_unused(layout)
            raise


def _remove_unused(layout: Path) -> None:
    """Remove a layout this write created and that holds nothing (another writer's blobs
    keep it): a failed write leaves no directory behind."""
    for name in ("blobs/sha256", "blobs"):
        with contextlib.suppress(OSError):
            (layout / name).rmdir()
    if (layout / "blobs").exists():
        return
    for name in (LAYOUT_FILE, _LOCK_FILE):
        (layout / name).unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        layout.rmdir()


def add_to_layout(
    layout: Path, blobs: Iterable[Blob], entry: Descriptor, tag: str | None = None
) -> Descriptor:
    """Place ``blobs`` (the manifest among them) and add ``entry`` to the index under ``tag``."""
    with layout_transaction(layout) as writer:
        writer.add(blobs, entry, tag)
    return entry


def image_entry(image: Publishable, tag: str | None = None) -> Descriptor:
    """The index entry of ``image`` (an image or an index) under ``tag``."""
    return image.descriptor({ANNOTATION_REF_NAME: tag} if tag else None)


def write_layout(image: Publishable, layout: Path, tag: str | None = None) -> Descriptor:
    """Add ``image`` (an image or an index) to the layout at ``layout`` under ``tag``;
    return its index entry."""
    entry = image_entry(image, tag)
    return add_to_layout(layout, (*image.blobs(), image.manifest), entry, tag)
