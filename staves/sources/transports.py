"""Opening an image to read, from any transport: the reading twin of
``staves.destinations.outputs``."""

import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from oci.archive_reader import open_docker_archive
from oci.descriptor import Platform
from oci.errors import InvalidReference
from oci.layer_reader import DEFAULT_LIMITS, LayerLimits
from oci.layout_reader import open_layout_source
from oci.registry import Reference, RegistryOptions, parse_reference
from oci.registry.pull import open_registry_source
from oci.source import ImageSource
from oci.transport import (
    DockerArchiveDestination,
    OciArchiveDestination,
    OciLayoutDestination,
    RegistryDestination,
    Source,
    StorageDestination,
    parse_source,
)
from staves.errors import EXIT_USAGE, StavesError
from staves.podman.service import podman_client
from staves.podman.storage import export_image


@dataclass(frozen=True)
class SourceAccess:
    """What reading may need: registry options (built, and a password asked for, only for
    ``docker://``), and the Podman API for ``containers-storage:``."""

    registry: Callable[[], RegistryOptions] = RegistryOptions
    podman_url: str | None = None
    environ: Mapping[str, str] = field(default_factory=dict)
    platform: Platform | None = None  # which image of an index; None: this host's
    limits: LayerLimits = DEFAULT_LIMITS  # what reading one layer may cost


def parse_source_arg(text: str, key: str = "SOURCE") -> Source:
    try:
        source = parse_source(text)
    except InvalidReference as exc:
        raise StavesError(str(exc), key=key, exit_code=EXIT_USAGE) from exc
    if isinstance(source, RegistryDestination):
        _reference(source, key)
    return source


def _reference(source: RegistryDestination, key: str = "SOURCE") -> Reference:
    try:
        return parse_reference(source.reference)
    except InvalidReference as exc:
        raise StavesError(str(exc), key=key, exit_code=EXIT_USAGE) from exc


@contextmanager
def _from_storage(name: str, access: SourceAccess) -> Iterator[ImageSource]:
    with (
        podman_client(access.podman_url, access.environ) as client,
        tempfile.TemporaryDirectory(prefix="staves-inspect-") as tmp,
    ):
        archive = Path(tmp) / "image.tar"
        export_image(client, name, archive)
        with open_docker_archive(archive, limits=access.limits) as source:
            yield source


def open_source(source: Source, access: SourceAccess) -> AbstractContextManager[ImageSource]:
    """The image ``source`` names, to read while the context lasts."""
    if isinstance(source, OciLayoutDestination | OciArchiveDestination):
        archive = isinstance(source, OciArchiveDestination)
        return open_layout_source(source.path, source.tag, archive, access.platform, access.limits)
    if isinstance(source, DockerArchiveDestination):
        return open_docker_archive(source.path, source.name, access.limits)
    if isinstance(source, RegistryDestination):
        reference = _reference(source)
        return open_registry_source(reference, access.registry(), access.platform, access.limits)
    if isinstance(source, StorageDestination):
        return _from_storage(source.name, access)
    raise AssertionError(f"unknown source {source!r}")
