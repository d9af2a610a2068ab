"""What the spec says about the image itself: name, tag and annotations."""

from staves.destinations.outputs import ImageName
from staves.spec.model import ImageSettings

TITLE = "org.opencontainers.image.title"
VERSION = "org.opencontainers.image.version"


def image_name(settings: ImageSettings) -> ImageName:
    return ImageName(settings.name, settings.version)


def image_annotations(settings: ImageSettings) -> dict[str, str]:
    """Manifest annotations: the spec's own, over a title and version taken from the name."""
    return {TITLE: settings.name, VERSION: settings.version, **dict(settings.annotations)}
