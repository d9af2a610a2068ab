"""Step 5, published: the result to every destination, with each image's SBOM and
provenance attached where the destination keeps referrers (ko's ``Publish``)."""

from typing import Any

from oci.image import Image
from staves.build.request import BuildRequest
from staves.build.result import Result
from staves.destinations.outputs import StorageLoader, write_outputs
from staves.destinations.registry import Pusher
from staves.podman.storage import load_image
from staves.progress.reporter import current


def publish(result: Result, request: BuildRequest, storage: Any | None, push: Pusher | None) -> str:
    """Write the result to every destination; its manifest digest. ``storage`` is the
    client of the service whose local storage ``containers-storage:`` means."""
    with current().phase("publish", "writing the destinations"):
        write_outputs(
            result.published,
            request.destinations,
            request.name,
            storage_loader(storage),
            push,
            referrers=result.referrers,
        )
    return result.published.manifest.digest


def storage_loader(client: Any | None) -> StorageLoader | None:
    """Loads images into the local storage of the service ``client`` talks to."""
    if client is None:
        return None

    def load(image: Image, name: str) -> None:
        load_image(client, image, name)

    return load
