"""The binary-package cache volume through a builder container that mounts it (the Podman
API, never the volume's directory on disk): one cache partition indexed and streamed out,
or binary packages copied in before the builder starts.

A partition is what one builder and one make.conf build: ``KEY/builder`` and
``KEY/image-env-HASH`` under the volume, as the in-builder script lays them out.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

import podman

from oci.document import load_json
from staves.builder.protocol import PARTITION_FILE
from staves.errors import StavesError
from staves.podman.builder_container import (
    BINPKG_PATH,
    BuilderSettings,
    archive_stream,
    archived_file_stream,
    builder_container,
    podman_step,
)
from staves.podman.builder_output import BuilderListener, run_to_end

# The builder's record of its partition: the two directories, a few hundred bytes.
MAX_PARTITION_RECORD = 1 << 16
PARTS = ("builder", "image")


@dataclass(frozen=True)
class Partition:
    """The builder's and the image's binary-package directories of one build, in the
    volume (absolute paths in the builder)."""

    builder: str
    image: str

    @property
    def directories(self) -> tuple[str, str]:
        return self.builder, self.image


def relative_to_volume(path: str) -> str:
    """``KEY/builder`` for ``/var/cache/binpkgs/KEY/builder``."""
    prefix = BINPKG_PATH.rstrip("/") + "/"
    if not path.startswith(prefix):
        raise StavesError(f"the builder keeps binary packages in {path}, outside {BINPKG_PATH}")
    return path.removeprefix(prefix)


@contextmanager
def indexed_partition(
    client: podman.PodmanClient,
    settings: BuilderSettings,
    plan: dict[str, Any],
    listener: BuilderListener,
) -> Iterator[tuple[Partition, Any]]:
    """Index this plan's partition with Portage (``emaint binhost --fix``) in a builder, and
    hold that builder while the caller streams the directories out (``archive_stream``)."""
    with (
        podman_step("indexing the binary-package cache"),
        builder_container(client, settings, {**plan, "task": "index"}) as container,
    ):
        result = run_to_end(container, listener)
        if result.exit_code != 0:
            why = f": {result.failure.split(';')[0]}" if result.failure else ""
            raise StavesError(
                f"indexing the binary-package cache failed{why} (exit code {result.exit_code})",
                hint="-v shows the builder's output",
                exit_code=1,
            )
        yield read_partition(client, container), container


def stream_directory(client: podman.PodmanClient, container: Any, path: str) -> Any:
    """``path`` in the builder as a tar stream (its own name as the top entry)."""
    return archive_stream(client, container, path)


def read_partition(client: podman.PodmanClient, container: Any) -> Partition:
    """The partition the builder's script used (it records it before building)."""
    source = f"the builder's {PARTITION_FILE}"
    with archived_file_stream(client, container, PARTITION_FILE) as stream:
        dirs = load_json(stream, source, MAX_PARTITION_RECORD)  # hostile input: bounded
    if not isinstance(dirs, dict) or not all(isinstance(dirs.get(k), str) for k in PARTS):
        raise StavesError(f"{source}: not the two directories it names ({', '.join(PARTS)})")
    return Partition(dirs["builder"], dirs["image"])


def put_into_volume(client: podman.PodmanClient, container: Any, tar_data: IO[bytes]) -> None:
    """Unpack ``tar_data`` (paths relative to the volume) into the cache volume of a
    builder, created or running: Podman copies into a created container's volumes too."""
    response = client.api.put(
        f"/containers/{container.id}/archive", params={"path": BINPKG_PATH}, data=tar_data
    )
    response.raise_for_status()
