"""An image one destination holds, copied as it is to the destinations that lack it.

For an unchanged build whose image some destinations hold already: the image (manifest,
config, compressed layers) and the artifacts attached to it (the SBOM) are read from one
that keeps all of them — an OCI layout, an oci-archive, a registry — and written to the
others, byte for byte: same digests, no build. Staves writes its manifests and configs as
canonical JSON, so the documents read back give the same bytes again; anything else
(a manifest written by another tool) is not copied, and the build runs instead.
"""

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oci.artifact import Artifact
from oci.blob import BytesBlob, FileBlob, canonical_json
from oci.descriptor import Descriptor, Platform
from oci.digest import HashingWriter
from oci.errors import OciError
from oci.image import Image
from oci.layer import Layer
from oci.media import MediaType
from oci.registry import RegistryOptions
from oci.source import ImageSource
from oci.transport import Destination
from staves.destinations.naming import ImageName
from staves.errors import StavesError
from staves.sources.destination import manifest_source

log = logging.getLogger(__name__)
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Copied:
    image: Image
    referrers: tuple[Artifact, ...]


def _save_blob(source: ImageSource, descriptor: dict[str, Any], work: Path) -> FileBlob:
    """A blob of the source into ``work``, checked against its digest as it streams."""
    digest = str(descriptor["digest"])
    path = work / digest.replace(":", "-")
    with source.open_blob(digest, descriptor["size"]) as data, path.open("wb") as out:
        hashing = HashingWriter(out)  # type: ignore[arg-type]
        while chunk := data.read(_CHUNK):
            hashing.write(chunk)
    if hashing.digest != digest:
        raise OciError(f"blob {digest} read back as {hashing.digest}")
    return FileBlob(path, str(descriptor["mediaType"]), digest, hashing.size)


def _document(value: Any, media_type: str, digest: str) -> BytesBlob:
    blob = BytesBlob(canonical_json(value), media_type)
    if blob.digest != digest:
        raise OciError(f"{digest} is not canonical JSON; it cannot be copied byte for byte")
    return blob


def _image(source: ImageSource, work: Path) -> Image:
    found = source.image()
    if found.digest is None:
        raise OciError("the destination keeps no manifest")
    manifest = _document(found.manifest, MediaType.OCI_MANIFEST, found.digest)
    config = _document(found.config, MediaType.OCI_CONFIG, found.config_digest)
    diff_ids = found.config["rootfs"]["diff_ids"]
    layers = tuple(
        Layer(_save_blob(source, d, work), diff_ids[i], d.get("annotations") or {})
        for i, d in enumerate(found.layers)
    )
    platform = Platform(
        found.config["os"], found.config["architecture"], found.config.get("variant")
    )
    return Image(manifest, config, layers, platform)


def _artifact(source: ImageSource, raw: dict[str, Any], work: Path) -> Artifact:
    blob = BytesBlob(canonical_json(raw), MediaType.OCI_MANIFEST)
    payload = tuple(_save_blob(source, d, work) for d in raw.get("layers") or [])
    subject = Descriptor.from_dict(raw["subject"])
    annotations = dict(raw.get("annotations") or {})
    return Artifact(blob, payload, str(raw["artifactType"]), subject, annotations)


def copy_from(
    holders: Sequence[Destination],
    name: ImageName,
    platform: Platform,
    registry: Callable[[], RegistryOptions],
    work: Path,
) -> Copied | None:
    """The image (and what is attached to it) from the first of ``holders`` that keeps
    everything, downloaded into ``work``; None when none does."""
    for dest in holders:
        try:
            with manifest_source(dest, name.tag, platform, registry) as source:
                if source is None:
                    continue
                image = _image(source, work)
                refs = source.referrers(image.manifest.digest)
                return Copied(image, tuple(_artifact(source, raw, work) for raw in refs))
        except (OciError, StavesError, OSError, KeyError, TypeError) as exc:
            log.info("cannot copy the image from %s: %s", dest, exc)
    return None
