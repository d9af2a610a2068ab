"""Writing a finished image to every destination the user named."""

import errno
import logging
from collections.abc import Callable, Sequence
from contextlib import ExitStack

from oci.archive import docker_archive_to, oci_archive_to
from oci.artifact import Artifact
from oci.descriptor import Platform
from oci.errors import InvalidReference, OciError
from oci.files import atomic_output, check_file_target
from oci.image import Image
from oci.index import Publishable
from oci.layout import artifacts_layout, check_layout_target, image_entry, layout_transaction
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
from staves.progress.reporter import current
from staves.spec.names import reference_problem

log = logging.getLogger(__name__)


def parse_destinations(texts: Sequence[str]) -> list[Destination]:
    """Parse every ``-o`` value up front, so a typo fails before any work."""
    try:
        destinations = [parse_destination(text) for text in texts]
    except InvalidReference as exc:
        raise StavesError(str(exc), key="--output", exit_code=EXIT_USAGE) from exc
    check_destinations(destinations)
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


def describe(dest: Destination) -> str:
    """A destination as the user writes it (without the name or tag it carries)."""
    if isinstance(dest, RegistryDestination):
        return f"docker://{dest.reference}"
    if isinstance(dest, StorageDestination):
        return f"containers-storage:{dest.name}"
    return f"{_TRANSPORTS[type(dest)]}:{dest.path}"


def check_destinations(destinations: Sequence[Destination]) -> None:
    """What can be known of every destination before the first is written: each file
    destination's directory exists (none is made), an archive is not a directory, a layout
    is a layout or a new or empty directory."""
    for dest in destinations:
        try:
            if isinstance(dest, OciLayoutDestination):
                check_layout_target(dest.path)
            elif isinstance(dest, OciArchiveDestination | DockerArchiveDestination):
                check_file_target(dest.path)
        except OciError as exc:
            problem = f"{describe(dest)}: {exc}"
            raise StavesError(problem, key="--output", exit_code=EXIT_USAGE) from None


# Loads an image into local container storage under a full NAME:TAG.
StorageLoader = Callable[[Image, str], None]

_TRANSPORTS = {
    OciLayoutDestination: "oci",
    OciArchiveDestination: "oci-archive",
    DockerArchiveDestination: "docker-archive",
}
# Errors of the destination's file system, worth naming the destination for.
_DISK_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO, errno.EFBIG}


def _stage(
    stack: ExitStack,
    image: Publishable,
    dest: Destination,
    name: ImageName,
    referrers: Sequence[Artifact],
) -> str:
    """Write a layout's blobs or an archive's temporary file; the index or the rename
    happens when ``stack`` closes without an error, and nothing is left when it closes
    with one."""
    if isinstance(dest, OciLayoutDestination):
        tag = dest.tag or name.tag
        writer = stack.enter_context(layout_transaction(dest.path))
        writer.add((*image.blobs(), image.manifest), image_entry(image, tag), tag)
        if referrers:
            # In the layout's artifacts layout, so that its own index lists images only.
            inner = stack.enter_context(layout_transaction(artifacts_layout(dest.path)))
            for artifact in referrers:
                inner.add((*artifact.blobs(), artifact.manifest), artifact.descriptor())
        return f"oci:{dest.path}:{tag}"
    out = stack.enter_context(atomic_output(dest.path))
    if isinstance(dest, OciArchiveDestination):
        tag = dest.tag or name.tag
        oci_archive_to(out, image, tag, referrers)
        return f"oci-archive:{dest.path}:{tag}"
    # The docker-archive format has no place for attached artifacts, nor for an index.
    assert isinstance(dest, DockerArchiveDestination)
    ref = dest.name or name.reference
    docker_archive_to(out, image_for_host(image, dest, Platform.host()), [ref] if ref else [])
    return f"docker-archive:{dest.path}" + (f":{ref}" if ref else "")


def _stage_file_destination(
    stack: ExitStack,
    image: Publishable,
    dest: Destination,
    name: ImageName,
    referrers: Sequence[Artifact],
) -> str:
    """Stage a layout or archive; a full or failing disk is one line naming the
    destination (the writers leave nothing half-written)."""
    try:
        return _stage(stack, image, dest, name, referrers)
    except OSError as exc:
        if exc.errno not in _DISK_ERRORS:
            raise
        raise StavesError(
            f"writing {describe(dest)}: {exc.strerror or exc}",
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
    """Write every destination, all or nothing as far as can be: everything is checked
    first; layouts and archives are staged (blobs placed, archives written under temporary
    names), then registries are pushed (all ``docker://`` ones in one push, so blobs sent
    to one repository are mounted into the next) and Podman's storage is loaded, and only
    then do the staged files take their names. A failure leaves every layout and archive as
    it was, and says which destinations were written before it."""
    check_destinations(destinations)
    written: list[str] = []
    with ExitStack() as stack:
        staged = [
            _stage_file_destination(stack, image, dest, name, referrers)
            for dest in destinations
            if not isinstance(dest, RegistryDestination | StorageDestination)
        ]
        try:
            written += _push(image, destinations, name, push, referrers)
            for dest in destinations:
                if isinstance(dest, StorageDestination):
                    full = storage_name(dest.name, name.tag)
                    if load_into_storage is None:
                        raise StavesError(
                            "containers-storage needs a Podman service", key="--output"
                        )
                    load_into_storage(image_for_host(image, dest, Platform.host()), full)
                    written.append(f"containers-storage:{full}")
        except (StavesError, OciError) as exc:
            if not written:
                raise
            raise StavesError(
                f"{exc}; written before the failure: {', '.join(written)}",
                hint="no layout or archive was written",
                exit_code=getattr(exc, "exit_code", 1),
            ) from exc
    for where in [*staged, *written]:
        log.info("wrote %s (%s)", where, image.manifest.digest)
        current().wrote(where)


def _push(
    image: Publishable,
    destinations: Sequence[Destination],
    name: ImageName,
    push: Pusher | None,
    referrers: Sequence[Artifact],
) -> list[str]:
    references = [
        parse_registry_reference(dest.reference, name.tag)
        for dest in destinations
        if isinstance(dest, RegistryDestination)
    ]
    if not references:
        return []
    if push is None:
        raise StavesError("docker:// destinations are not available here", key="--output")
    push(image, references, referrers)
    return [f"docker://{ref}" for ref in references]
