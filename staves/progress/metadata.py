"""What a build or a pack made, for machines: ``--metadata-file`` (buildx's keys for the
image, Staves' own for what it knows besides — each platform's packages and how each was
obtained, its layers with their packages and sizes, the phases' times) and ``--iidfile``
(podman's: the image ID, its config digest). Both written whole or not at all."""

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from oci.files import atomic_write
from oci.image import Image
from oci.index import ImageIndex, Publishable
from staves.gentoo.layering import ANNOTATION_LAYER, ANNOTATION_PACKAGES
from staves.progress.ledger import BuildLedger, ScopeLedger


def _layers(image: Image, part: ScopeLedger | None) -> list[dict[str, Any]]:
    """Each layer with the packages whose files it holds: those its annotation names, or
    every package for the one layer of the whole root."""
    everything = [p.cpv for p in (part.packages if part is not None else None) or ()]
    return [
        {
            "digest": layer.digest,
            "size": layer.size,
            "mediaType": layer.blob.media_type,
            "packages": (layer.annotations.get(ANNOTATION_PACKAGES) or "").split()
            or (everything if layer.annotations.get(ANNOTATION_LAYER) == "rootfs" else []),
        }
        for layer in image.layers
    ]


def _platform(image: Image | None, part: ScopeLedger | None) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if image is not None:
        found |= {
            "digest": image.manifest.digest,
            "config.digest": image.config.digest,
            "layers": _layers(image, part),
        }
    if part is not None:
        found |= {
            "packages": [p.to_json() for p in part.packages or ()],
            "counts": {
                **part.counts(),
                "layers": part.layers,
                "layers_repacked": part.layers_repacked,
            },
            "builder_merges": [
                {"cpv": m.cpv, "how": m.how, "seconds": m.seconds} for m in part.merged("builder")
            ],
            "other_merges": [
                {"cpv": m.cpv, "how": m.how, "seconds": m.seconds} for m in part.merged("other")
            ],
            "durations": dict(part.phases),
        }
    return found


def build_metadata(
    digest: str | None,
    published: Publishable | None,
    name: str | None,
    ledger: BuildLedger,
    log: Path | None = None,
) -> dict[str, Any]:
    """The metadata of a build (``published`` None: nothing was built, every destination
    held it or was given a copy)."""
    data: dict[str, Any] = {}
    if digest is not None:
        data["containerimage.digest"] = digest
    if published is not None:
        data["containerimage.descriptor"] = published.descriptor().to_dict()
        if isinstance(published, Image):
            data["containerimage.config.digest"] = published.config.digest
    if name:
        data["image.name"] = name
    images: Sequence[Image] = ()
    if isinstance(published, ImageIndex):
        images = published.images
    elif isinstance(published, Image):
        images = (published,)
    platforms = {str(i.platform): _platform(i, ledger.scopes.get(str(i.platform))) for i in images}
    data["staves.platforms"] = platforms
    data["staves.destinations"] = list(ledger.destinations)
    data["staves.durations"] = {**ledger.phases, "total": round(ledger.elapsed(), 3)}
    if ledger.skipped:
        data["staves.skipped"] = ledger.skipped
    if log is not None:
        data["staves.log"] = str(log)
    return data


def write_metadata(path: Path, data: dict[str, Any]) -> None:
    atomic_write(path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode())


def image_id(published: Publishable) -> str:
    """The image's ID as podman names it: its config digest; an index's own digest."""
    return published.config.digest if isinstance(published, Image) else published.manifest.digest


def write_iidfile(path: Path, identifier: str) -> None:
    atomic_write(path, identifier.encode())
