"""Step 3, the image: a platform's built root as an image, assembled purely from its
layers, the spec's config and annotations, created at the build's epoch."""

from oci.descriptor import Platform
from oci.image import Image, build_image
from staves.build.request import BuildRequest
from staves.build.root import BuiltRoot


def image_of(request: BuildRequest, root: BuiltRoot, platform: Platform) -> Image:
    """The platform's image from its packed layers."""
    return build_image(
        root.packed.layers,
        request.config,
        created=root.created,
        platform=platform,
        annotations=request.annotations,
        history=root.packed.history,
    )
