"""The no-op rebuild: skip the build when every destination already holds its image.

The build key (``staves.caches.build_key``) needs the builder's and the snapshot's image
IDs, which Podman answers from local storage: no container is created to decide.
"""

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oci.descriptor import Platform
from oci.files import atomic_write
from oci.image import ImageConfig
from oci.registry import RegistryOptions
from oci.transport import Destination
from staves.caches.build_key import KeyInputs, build_key, unpinned_repositories
from staves.caches.held import lacking
from staves.destinations.naming import ImageName
from staves.podman.storage import image_id
from staves.progress.reporter import current
from staves.sources.destination import attached_payload

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KeyRequest:
    """What the key and the destination check need from the build request."""

    plan: Mapping[str, Any]
    builder_image: str
    portage_image: str
    config: ImageConfig
    annotations: Mapping[str, str]
    layers: int
    vdb: str
    compression: str
    platform: Platform
    epoch: int | None


def key_of(client: Any, request: KeyRequest) -> str | None:
    """The build key, or None (and why, with --verbose) when builds are never skipped."""
    unpinned = unpinned_repositories(request.plan)
    if unpinned:
        log.info(
            "every build runs: repository %s is synced from a branch, not a pinned commit",
            ", ".join(unpinned),
        )
        return None
    inputs = KeyInputs(
        image_id(client, request.builder_image),
        image_id(client, request.portage_image),
        request.config,
        request.annotations,
        request.layers,
        request.vdb,
        request.compression,
        request.platform,
        request.epoch,
    )
    return build_key(request.plan, inputs)


@dataclass(frozen=True)
class Skip:
    """The outcome of the check: the destinations still to write, whether a build is
    needed at all, and the manifest digest a destination that holds the image reports."""

    missing: tuple[Destination, ...]
    build: bool
    digest: str | None
    holders: tuple[Destination, ...] = ()
    config: str | None = None  # the image ID a destination that holds it reports


@dataclass(frozen=True)
class SbomWanted:
    """``--sbom FILE``: each file to write, with the media type its SBOM is attached with
    (one per ``--sbom-format``)."""

    files: tuple[tuple[Path, str], ...]


def check_destinations(
    client: Any,
    key: str,
    destinations: Sequence[Destination],
    name: ImageName,
    platform: Platform,
    registry: Callable[[], RegistryOptions],
    sbom: SbomWanted | None = None,
) -> Skip:
    """Which destinations lack the image with ``key``; says on stderr when none does.
    With ``sbom``, an unchanged build still writes the SBOM file, from the SBOM attached
    in a destination, or builds when none holds it."""
    missing, digest, config = lacking(key, destinations, name, platform, client, registry)
    if missing:
        if len(missing) < len(destinations):
            say(
                f"{len(destinations) - len(missing)} of {len(destinations)} destinations "
                "hold this build already"
            )
        holders = tuple(d for d in destinations if d not in missing)
        return Skip(tuple(missing), True, digest, holders)
    if sbom is not None and not _copy_sbom(sbom, destinations, name, platform, registry, digest):
        say("unchanged, but no destination holds its SBOM: building for --sbom")
        return Skip((), True, digest)
    say(
        f"unchanged: every destination holds this build ({key[:19]}); "
        "no container started (--no-cache builds anyway)"
    )
    current().skipped("every destination holds this build")
    return Skip((), False, digest, config=config)


def _copy_sbom(
    sbom: SbomWanted,
    destinations: Sequence[Destination],
    name: ImageName,
    platform: Platform,
    registry: Callable[[], RegistryOptions],
    digest: str | None,
) -> bool:
    if digest is None:
        return False
    found = {}
    for path, artifact_type in sbom.files:
        data = attached_payload(destinations, name.tag, platform, registry, digest, artifact_type)
        if data is None:
            return False
        found[path] = data
    for path, data in found.items():
        atomic_write(path, data)
    return True


def say(message: str) -> None:
    current().event(message)
