"""Writing a finished image to every destination the user named."""

import errno
import logging
from collections.abc import Callable, Sequence

from oci.archive import write_docker_archive, write_oci_archive
from oci.artifact import Artifact, write_artifact_layout
from oci.descriptor import Platform
from oci.errors import InvalidReference
from oci.image import Image
from oci.index import Publishable
from oci.layout import write_layout
from oci.transport import (
    Destination,
    DockerArchiveDestination,
    OciArchiveDestination,
    OciLayoutDestination,
    RegistryDestination,
    StorageDestination,
    parse_destination,
)
from staves.destinations.naming import ImageName
from staves.destinations.registry import Pusher, parse_registry_reference
from staves.destinations.single_platform import image_for_host
from staves.errors import EXIT_USAGE, StavesError
from staves.podman.storage import storage_name
from staves.spec.names import reference_problem

log = logging.getLogger(__name__)


def parse_destinations(texts: Sequence[str]) -> list[Destination]:
    """Parse every ``-o`` value up front, so a typo fails before any work."""
    try:
        destinations = [parse_destination(text) for text in texts]
    except InvalidReference as exc:
        raise StavesError(str(exc), key="--output", exit_code=EXIT_USAGE) from exc
    for dest in destinations:
        if isinstance(dest, RegistryDestination):
            parse_registry_reference(dest.reference, "latest")
        named = (
            dest.name if isinstance(dest, StorageDestination | DockerArchiveDestination) else None
        )
        if named and (wrong := reference_problem(named)) is not None:
            problem, accepted = wrong
            raise StavesError(problem, key="--output", hint=accepted, exit_code=EXIT_USAGE)
    return destinations


# Loads an image into local container storage under a full NAME:TAG.
StorageLoader = Callable[[Image, str], None]
Writer = Callable[[Publishable, Destination, ImageName, Sequence[Artifact]], str]


def _to_layout(
    image: Publishable, dest: Destination, name: ImageName, referrers: Sequence[Artifact]
) -> str:
    assert isinstance(dest, OciLayoutDestination)
    tag = dest.tag or name.tag
    write_layout(image, dest.path, tag)
    for artifact in referrers:
        write_artifact_layout(artifact, dest.path)
    return f"oci:{dest.path}:{tag}"


def _to_oci_archive(
    image: Publishable, dest: Destination, name: ImageName, referrers: Sequence[Artifact]
) -> str:
    assert isinstance(dest, OciArchiveDestination)
    tag = dest.tag or name.tag
    write_oci_archive(image, dest.path, tag, referrers)
    return f"oci-archive:{dest.path}:{tag}"


def _to_docker_archive(
    image: Publishable, dest: Destination, name: ImageName, referrers: Sequence[Artifact]
) -> str:
    # The docker-archive format has no place for attached artifacts, nor for an index.
    assert isinstance(dest, DockerArchiveDestination)
    ref = dest.name or name.reference
    write_docker_archive(
        image_for_host(image, dest, Platform.host()), dest.path, [ref] if ref else []
    )
    return f"docker-archive:{dest.path}" + (f":{ref}" if ref else "")


_WRITERS: dict[type, Writer] = {
    OciLayoutDestination: _to_layout,
    OciArchiveDestination: _to_oci_archive,
    DockerArchiveDestination: _to_docker_archive,
}


_TRANSPORTS = {
    OciLayoutDestination: "oci",
    OciArchiveDestination: "oci-archive",
    DockerArchiveDestination: "docker-archive",
}
# Errors of the destination's file system, worth naming the destination for.
_DISK_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO, errno.EFBIG}


def _write_file_destination(
    image: Publishable, dest: Destination, name: ImageName, referrers: Sequence[Artifact]
) -> str:
    """Write a layout or archive; a full or failing disk is one line naming the destination
    (the writers leave nothing half-written)."""
    try:
        return _WRITERS[type(dest)](image, dest, name, referrers)
    except OSError as exc:
        if exc.errno not in _DISK_ERRORS:
            raise
        path = getattr(dest, "path", "")
        raise StavesError(
            f"writing {_TRANSPORTS[type(dest)]}:{path}: {exc.strerror or exc}",
            hint="it is as it was before; free some space or choose another destination",
        ) from exc


def write_outputs(
    image: Publishable,
    destinations: Sequence[Destination],
    name: ImageName,
    load_into_storage: StorageLoader | None = None,
    push: Pusher | None = None,
    referrers: Sequence[Artifact] = (),
) -> None:
    """Write every destination; all ``docker://`` ones go in one push, so blobs
    already sent to one repository are mounted into the next."""
    for dest in destinations:
        if isinstance(dest, RegistryDestination):
            continue
        if isinstance(dest, StorageDestination):
            full = storage_name(dest.name, name.tag)
            if load_into_storage is None:
                raise StavesError("containers-storage needs a Podman service", key="--output")
            load_into_storage(image_for_host(image, dest, Platform.host()), full)
            where = f"containers-storage:{full}"
        else:
            where = _write_file_destination(image, dest, name, referrers)
        log.info("wrote %s (%s)", where, image.manifest.digest)
    _push(image, destinations, name, push, referrers)


def _push(
    image: Publishable,
    destinations: Sequence[Destination],
    name: ImageName,
    push: Pusher | None,
    referrers: Sequence[Artifact],
) -> None:
    references = [
        parse_registry_reference(dest.reference, name.tag)
        for dest in destinations
        if isinstance(dest, RegistryDestination)
    ]
    if not references:
        return
    if push is None:
        raise StavesError("docker:// destinations are not available here", key="--output")
    result = push(image, references, referrers)
    for ref in references:
        log.info("wrote docker://%s (%s)", ref, result.digest)
