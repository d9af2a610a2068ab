"""What the spec says about the image itself: name, tag, config and annotations."""

from oci.image import ImageConfig
from staves.outputs import ImageName
from staves.spec.model import ImageSettings
from staves.spec.plan import oci_image_config

TITLE = "org.opencontainers.image.title"
VERSION = "org.opencontainers.image.version"


def image_name(settings: ImageSettings) -> ImageName:
    return ImageName(settings.name, settings.version)


def image_annotations(settings: ImageSettings) -> dict[str, str]:
    """Manifest annotations: the spec's own, over a title and version taken from the name."""
    return {TITLE: settings.name, VERSION: settings.version, **dict(settings.annotations)}


def image_config(settings: ImageSettings) -> ImageConfig:
    return oci_image_config(settings)
