"""Which destinations already hold the image with a given build key: the no-op check.

Each destination is asked the cheapest way it can answer, without reading any layer:
an OCI layout or archive for its tag's manifest (annotation), a docker-archive for its
config (label: the format keeps no manifest), Podman's storage for the image's labels
through the API, a registry for the tag's manifest. A destination that cannot answer
(missing, unreadable, unreachable) does not hold it.
"""

import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from oci.archive_reader import open_docker_archive
from oci.descriptor import Platform
from oci.errors import OciError
from oci.registry import RegistryOptions
from oci.source import SourceImage
from oci.transport import Destination, DockerArchiveDestination, StorageDestination
from staves.caches.build_key import BUILD_KEY
from staves.destinations.naming import ImageName
from staves.errors import StavesError
from staves.podman.storage import image_id, image_labels, storage_name
from staves.sources.destination import describe, manifest_source

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Held:
    """What a destination holds under its name: the build key, the manifest digest (None
    where the format keeps no manifest) and the image ID (its config digest)."""

    key: str | None
    digest: str | None
    config: str | None = None


def _from_manifest(image: SourceImage) -> Held:
    key = image.manifest.get("annotations", {}).get(BUILD_KEY)
    return Held(key, image.digest, image.config_digest)


def _from_config(image: SourceImage) -> Held:
    labels = (image.config.get("config") or {}).get("Labels") or {}
    return Held(labels.get(BUILD_KEY), image.digest, image.config_digest)


def held_by(
    dest: Destination,
    name: ImageName,
    platform: Platform,
    client: Any,
    registry: Callable[[], RegistryOptions],
) -> Held | None:
    """What ``dest`` holds under the name the image would get there; None if nothing.
    One attempt: a registry that does not answer holds nothing worth waiting for, and the
    push that follows retries (and reports) for itself."""

    def once() -> RegistryOptions:
        return dataclasses.replace(registry(), retries=0)

    try:
        return _held_by(dest, name, platform, client, once)
    except (OciError, StavesError, OSError) as exc:
        log.info("%s holds no earlier build: %s", describe(dest), exc)
        return None


def _held_by(
    dest: Destination,
    name: ImageName,
    platform: Platform,
    client: Any,
    registry: Callable[[], RegistryOptions],
) -> Held | None:
    if isinstance(dest, DockerArchiveDestination):
        if not dest.path.exists():
            return None
        with open_docker_archive(dest.path, dest.name or name.reference) as source:
            return _from_config(source.image())
    if isinstance(dest, StorageDestination):
        stored = storage_name(dest.name, name.tag)
        labels = image_labels(client, stored)
        if labels is None:
            return None
        found = image_id(client, stored)
        return Held(labels.get(BUILD_KEY), None, found if ":" in found else f"sha256:{found}")
    with manifest_source(dest, name.tag, platform, registry) as found:
        return None if found is None else _from_manifest(found.image())


def lacking(
    key: str,
    destinations: Sequence[Destination],
    name: ImageName,
    platform: Platform,
    client: Any,
    registry: Callable[[], RegistryOptions],
) -> tuple[list[Destination], str | None, str | None]:
    """The destinations that do not hold an image with ``key``, and the manifest digest
    and image ID those that hold it report."""
    missing, digest, config = [], None, None
    for dest in destinations:
        held = held_by(dest, name, platform, client, registry)
        if held is None or held.key != key:
            missing.append(dest)
        else:
            digest, config = digest or held.digest, config or held.config
    return missing, digest, config
