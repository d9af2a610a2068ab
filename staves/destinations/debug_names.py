"""Where a debug image goes: beside the image in each destination, tagged ``TAG-debug``
(ko's ``--debug``, Docker Hardened Images' ``-dev`` tags). A layout holds both under two
tags and shares their blobs; an archive holds one image, so the debug image's is a file of
its own beside it (``app.tar`` → ``app-debug.tar``)."""

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from oci.transport import (
    Destination,
    DockerArchiveDestination,
    OciArchiveDestination,
    OciLayoutDestination,
    RegistryDestination,
    StorageDestination,
)
from staves.destinations.naming import ImageName
from staves.destinations.registry import parse_registry_reference
from staves.errors import EXIT_USAGE, StavesError
from staves.podman.storage import storage_name

DEBUG_SUFFIX = "-debug"
MAX_TAG = 128


def debug_tag(tag: str) -> str:
    """The debug image's tag: the image's with ``-debug``."""
    if len(tag) + len(DEBUG_SUFFIX) > MAX_TAG:
        raise StavesError(
            f"tag {tag[:40]!r}… leaves no room for {DEBUG_SUFFIX!r}",
            key="--tag",
            hint=f"a debug image's tag is TAG{DEBUG_SUFFIX}: use a tag of at most "
            f"{MAX_TAG - len(DEBUG_SUFFIX)} characters",
            exit_code=EXIT_USAGE,
        )
    return tag + DEBUG_SUFFIX


def debug_image_name(name: ImageName) -> ImageName:
    return ImageName(name.name, debug_tag(name.tag))


def _sibling(path: Path) -> Path:
    """``app.tar`` → ``app-debug.tar``: the name up to its first dot, then the rest."""
    stem, dot, rest = path.name.partition(".")
    return path.with_name(f"{stem}{DEBUG_SUFFIX}{dot}{rest}")


def _debug_reference(reference: str) -> str:
    """``NAME[:TAG]`` → ``NAME:TAG-debug`` (a registry's port is no tag)."""
    last = reference.rsplit("/", 1)[-1]
    if "@" in last:
        raise StavesError(
            f"{reference} names a digest: there is no tag to put {DEBUG_SUFFIX} after",
            key="--output",
            hint="give the destination a tag, or build without a debug image",
            exit_code=EXIT_USAGE,
        )
    name, _, tag = reference.rpartition(":") if ":" in last else (reference, "", "latest")
    return f"{name}:{debug_tag(tag)}"


def debug_destination(dest: Destination, name: ImageName) -> Destination:
    """Where ``dest``'s debug image goes; the image's name and tag where ``dest`` gives
    none, as the image's own."""
    if isinstance(dest, OciLayoutDestination):
        return dataclasses.replace(dest, tag=debug_tag(dest.tag or name.tag))
    if isinstance(dest, OciArchiveDestination):
        return OciArchiveDestination(_sibling(dest.path), debug_tag(dest.tag or name.tag))
    if isinstance(dest, DockerArchiveDestination):
        reference = dest.name or name.reference
        debug = _debug_reference(reference) if reference else None
        return DockerArchiveDestination(_sibling(dest.path), debug)
    if isinstance(dest, StorageDestination):
        return StorageDestination(_debug_reference(storage_name(dest.name, name.tag)))
    reference = parse_registry_reference(dest.reference, name.tag)
    if reference.tag is None:
        return RegistryDestination(_debug_reference(str(reference)))  # refuses the digest
    return RegistryDestination(f"{reference.name}:{debug_tag(reference.tag)}")


def debug_destinations(
    destinations: Sequence[Destination], name: ImageName
) -> tuple[Destination, ...]:
    return tuple(debug_destination(dest, name) for dest in destinations)


def destination_text(dest: Destination) -> str:
    """A destination as skopeo writes it, with the tag or name it carries."""
    if isinstance(dest, OciLayoutDestination | OciArchiveDestination):
        kind = "oci" if isinstance(dest, OciLayoutDestination) else "oci-archive"
        return f"{kind}:{dest.path}" + (f":{dest.tag}" if dest.tag else "")
    if isinstance(dest, DockerArchiveDestination):
        return f"docker-archive:{dest.path}" + (f":{dest.name}" if dest.name else "")
    if isinstance(dest, StorageDestination):
        return f"containers-storage:{dest.name}"
    return f"docker://{dest.reference}"
