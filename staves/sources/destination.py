"""What a destination holds, opened for reading: a layout, an oci-archive or a registry
(these keep the manifest and what refers to it), under the tag the image would get there.
Used to ask whether a destination holds a build, and to copy it from one that does."""

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from oci.descriptor import Platform
from oci.errors import OciError
from oci.layout_reader import open_layout_source
from oci.registry import RegistryOptions, parse_reference
from oci.registry.pull import open_registry_source
from oci.source import ImageSource
from oci.transport import (
    Destination,
    OciArchiveDestination,
    OciLayoutDestination,
    RegistryDestination,
)
from staves.errors import StavesError

log = logging.getLogger(__name__)
# An SBOM is a JSON document; anything bigger than this is not the one Staves attached.
_MAX_ATTACHED = 256 << 20


@contextmanager
def manifest_source(
    dest: Destination, tag: str, platform: Platform, registry: Callable[[], RegistryOptions]
) -> Iterator[ImageSource | None]:
    """The image a layout, an oci-archive or a registry holds under ``tag`` (where the
    destination names none); None for the other destinations or no file."""
    if isinstance(dest, OciLayoutDestination | OciArchiveDestination):
        if not dest.path.exists():
            yield None
            return
        archive = isinstance(dest, OciArchiveDestination)
        with open_layout_source(dest.path, dest.tag or tag, archive, platform) as source:
            yield source
    elif isinstance(dest, RegistryDestination):
        reference = parse_reference(dest.reference, default_tag=tag)
        with open_registry_source(reference, registry(), platform) as source:
            yield source
    else:
        yield None


def attached_payload(
    destinations: Sequence[Destination],
    tag: str,
    platform: Platform,
    registry: Callable[[], RegistryOptions],
    subject: str,
    artifact_type: str,
) -> bytes | None:
    """The payload of an artifact of ``artifact_type`` attached to manifest ``subject`` in
    one of the destinations (an SBOM), or None if none holds one."""
    for dest in destinations:
        try:
            with manifest_source(dest, tag, platform, registry) as source:
                if source is None:
                    continue
                for manifest in source.referrers(subject, artifact_type):
                    for layer in manifest.get("layers") or []:
                        with source.open_blob(layer["digest"], layer["size"]) as data:
                            return data.read(_MAX_ATTACHED)
        except (OciError, StavesError, OSError, KeyError) as exc:
            log.info("%s: no attached %s: %s", describe(dest), artifact_type, exc)
    return None


def describe(dest: Destination) -> str:
    """The destination's kind, for log lines: OciLayout, Registry, …"""
    return type(dest).__name__.removesuffix("Destination")
