"""Destinations that hold one platform's image: ``docker-archive:`` and
``containers-storage:``. Given an index, they get the image for this host's platform
(the one ``podman run`` there would choose) and a note says so; a build none of whose
platforms is the host's is refused before it starts."""

import logging
from collections.abc import Sequence

from oci.descriptor import Platform
from oci.image import Image
from oci.index import ImageIndex, Publishable
from oci.transport import Destination, DockerArchiveDestination, StorageDestination
from staves.errors import EXIT_USAGE, StavesError

log = logging.getLogger(__name__)
SINGLE_PLATFORM = (DockerArchiveDestination, StorageDestination)
_HINT = "write the index to oci:, oci-archive: or docker://, or build this host's platform too"


def host_choice(platforms: Sequence[Platform], host: Platform) -> Platform | None:
    """The platform a runtime on ``host`` picks: its os and architecture, the baseline
    (no variant) before a CPU level, since the host may not have that level."""
    same = [p for p in platforms if (p.os, p.architecture) == (host.os, host.architecture)]
    return next((p for p in same if not p.variant), same[0] if same else None)


def check_single_platform_destinations(
    destinations: Sequence[Destination], platforms: Sequence[Platform], host: Platform
) -> None:
    """Refuse, before building, a one-platform destination none of the platforms fits."""
    if len(platforms) < 2 or host_choice(platforms, host) is not None:
        return
    for dest in destinations:
        if isinstance(dest, SINGLE_PLATFORM):
            raise StavesError(
                f"{_name(dest)}: holds one platform's image, and none of "
                f"{', '.join(map(str, platforms))} is this host's ({host})",
                key="--output",
                hint=_HINT,
                exit_code=EXIT_USAGE,
            )


def image_for_host(published: Publishable, dest: Destination, host: Platform) -> Image:
    """The image a one-platform destination gets: the image itself, or the index's image
    for this host, with a note naming what was left out."""
    if not isinstance(published, ImageIndex):
        return published
    chosen = host_choice(published.platforms, host)
    if chosen is None:
        raise StavesError(f"{_name(dest)}: none of the index's platforms is {host}", hint=_HINT)
    left = [str(p) for p in published.platforms if p != chosen]
    log.warning(
        "note: %s holds one platform's image: %s (not %s)", _name(dest), chosen, ", ".join(left)
    )
    return next(image for image in published.images if image.platform == chosen)


def _name(dest: Destination) -> str:
    return (
        "docker-archive:" if isinstance(dest, DockerArchiveDestination) else "containers-storage:"
    )
