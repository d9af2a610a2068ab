"""The name and tag an image gets where a destination does not say, and its annotations:
from ``--tag``, or from what the spec says about the image itself."""

from dataclasses import dataclass

from staves.spec.model import ImageSettings

TITLE = "org.opencontainers.image.title"
VERSION = "org.opencontainers.image.version"


@dataclass(frozen=True)
class ImageName:
    """The name and tag an image gets where a destination does not say."""

    name: str | None = None
    tag: str = "latest"

    @property
    def reference(self) -> str | None:
        return f"{self.name}:{self.tag}" if self.name else None


def image_name(settings: ImageSettings) -> ImageName:
    return ImageName(settings.name, settings.version)


def image_annotations(settings: ImageSettings) -> dict[str, str]:
    """Manifest annotations: the spec's own, over a title and version taken from the name."""
    return {TITLE: settings.name, VERSION: settings.version, **dict(settings.annotations)}
