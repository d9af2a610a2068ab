"""An image index: one name for the same image built for several platforms.

Pure, like ``oci.image``: the same images in the same order always give the same index
digest. Every destination that takes an ``Image`` takes an ``ImageIndex`` the same way:
``manifest`` is the document to tag, ``blobs()`` everything it refers to.
"""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from oci.blob import Blob, BytesBlob, describe, json_blob
from oci.descriptor import Descriptor, Platform
from oci.errors import OciError
from oci.image import Image
from oci.media import MediaType


@dataclass(frozen=True)
class ImageIndex:
    """An OCI image index over single-platform images, one per platform."""

    manifest: BytesBlob
    images: tuple[Image, ...]
    platform: None = None  # an index is for every platform its images are for

    def blobs(self) -> Iterator[Blob]:
        """Every image's manifest, config and layers; a blob two images share comes once."""
        seen: set[str] = set()
        for image in self.images:
            for blob in (*image.blobs(), image.manifest):
                if blob.digest not in seen:
                    seen.add(blob.digest)
                    yield blob

    def descriptor(self, annotations: Mapping[str, str] | None = None) -> Descriptor:
        return Descriptor(
            self.manifest.media_type, self.manifest.digest, self.manifest.size, annotations or {}
        )

    @property
    def platforms(self) -> tuple[Platform, ...]:
        return tuple(image.platform for image in self.images)


# What a destination writes: one image, or an index of images for several platforms.
Publishable = Image | ImageIndex


def build_index(
    images: Sequence[Image], annotations: Mapping[str, str] | None = None
) -> ImageIndex:
    """The index of ``images``, in their order; two images for one platform are refused,
    since a runtime could not choose between them."""
    document = index_document([image.descriptor() for image in images], annotations)
    return ImageIndex(document, tuple(images))


def index_document(
    entries: Sequence[Descriptor], annotations: Mapping[str, str] | None = None
) -> BytesBlob:
    """The index listing ``entries`` (image manifests, each with its platform), in their
    order: the same entries and annotations always give the same digest."""
    platforms = [entry.platform for entry in entries]
    twice = sorted({str(p) for p in platforms if platforms.count(p) > 1})
    if twice:
        raise OciError(f"an image index holds one image per platform; {', '.join(twice)} twice")
    if any(platform is None for platform in platforms):
        raise OciError("an image index names the platform of each of its images")
    document = {
        "schemaVersion": 2,
        "mediaType": MediaType.OCI_INDEX,
        "manifests": [entry.to_dict() for entry in entries],
        **({"annotations": dict(sorted(annotations.items()))} if annotations else {}),
    }
    return json_blob(document, MediaType.OCI_INDEX)


@dataclass(frozen=True)
class JoinedIndex:
    """An index over images already in the registry it is pushed to: only the document
    itself is sent (their manifests, blobs and referrers stay where they are)."""

    manifest: BytesBlob

    def blobs(self) -> Iterator[Blob]:
        return iter(())

    def descriptor(self) -> Descriptor:
        return describe(self.manifest)
