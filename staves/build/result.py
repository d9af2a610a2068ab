"""Step 4, the result: the image, or the index of the platforms' images in the order asked
for, each image with what is attached to it (ko's ``Result``)."""

import json
from collections.abc import Mapping
from dataclasses import dataclass

from oci.artifact import Artifact
from oci.descriptor import Platform
from oci.image import ANNOTATION_CREATED, Image
from oci.index import ImageIndex, Publishable, build_index
from staves.build.request import BuildRequest
from staves.build.sbom import Sbom
from staves.destinations.signing import Attestation


@dataclass(frozen=True)
class PlatformImage:
    """One platform's image, its SBOMs and its provenance."""

    platform: Platform
    image: Image
    sbom: Sbom
    provenance: Attestation


@dataclass(frozen=True)
class Result:
    """What a build publishes: ``published`` (an image, or an index of ``images``)."""

    published: Publishable
    images: tuple[PlatformImage, ...]

    @property
    def is_index(self) -> bool:
        return isinstance(self.published, ImageIndex)

    @property
    def referrers(self) -> list[Artifact]:
        """What is attached to each image: its SBOMs and its provenance."""
        return [a for one in self.images for a in (*one.sbom.artifacts, one.provenance.referrer)]


def assemble(
    request: BuildRequest,
    images: Mapping[Platform, Image],
    sboms: Mapping[Platform, Sbom],
    provenance: Mapping[Platform, Attestation],
) -> Result:
    """One platform's image as it is; several in an index created when the first was."""
    ordered = tuple(PlatformImage(p, images[p], sboms[p], provenance[p]) for p in request.platforms)
    if len(ordered) == 1:
        return Result(ordered[0].image, ordered)
    created = json.loads(ordered[0].image.manifest.data)["annotations"][ANNOTATION_CREATED]
    annotations = {ANNOTATION_CREATED: created, **request.annotations}
    return Result(build_index([one.image for one in ordered], annotations), ordered)
