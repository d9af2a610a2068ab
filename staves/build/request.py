"""What a build is asked for, already validated (the pipeline's first value), and what it
ends with."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oci.compress import Compression
from oci.descriptor import Platform
from oci.image import ImageConfig
from oci.index import Publishable
from oci.layer_cache import LayerCache
from oci.registry import RegistryOptions
from oci.transport import Destination
from staves.caches.binpkg_cache import CacheSource
from staves.destinations.naming import ImageName
from staves.destinations.signing import Signing
from staves.gentoo.sbom import SbomFormat
from staves.lockfile.model import Lock
from staves.podman.builder_container import BuilderSettings
from staves.podman.service_map import PlatformServices


@dataclass(frozen=True)
class BuildRequest:
    """Everything a build needs, already validated."""

    plan: dict[str, Any]
    config: ImageConfig
    name: ImageName
    annotations: Mapping[str, str]
    builder: BuilderSettings
    destinations: Sequence[Destination]
    compression: Compression
    platforms: tuple[Platform, ...]  # one image each; several make an index
    epoch: int | None
    services: PlatformServices  # the Podman service of each platform (--url)
    layers: int = 1
    vdb: str = "trim"
    sbom_path: Path | None = None
    sbom_formats: tuple[SbomFormat, ...] = (SbomFormat.SPDX,)  # written and attached
    check: bool = False  # build again from scratch and fail unless the layers are the same
    spec_file: str | None = None
    audit: bool = False  # fail if the snapshot's GLSAs affect a package the image would ship
    identity: str | None = None  # the SSH key for an ssh:// --url
    cache_from: CacheSource | None = None  # binary packages pulled into the volume first
    cache_to: CacheSource | None = None  # the partition pushed after the build
    signing: Signing = field(default_factory=Signing)
    no_cache: bool = False  # build even when every destination holds this build
    layer_cache: LayerCache | None = None  # compressed layers of earlier builds
    registry: Callable[[], RegistryOptions] = RegistryOptions  # for reading docker://
    lock: Lock | None = None  # staves.lock: what the build is held to
    locked: bool = False  # --locked: fail unless a lock of the current inputs is the same


@dataclass(frozen=True)
class BuildOutcome:
    """The manifest digest (None when only destinations that keep none hold the image), and
    the image (or index) when it was built; else the image ID a destination holding it
    reports."""

    digest: str | None
    image: Publishable | None
    image_id: str | None = None
