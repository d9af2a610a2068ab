"""``containers-storage:NAME[:TAG]``: loading an image into local Podman storage via the API."""

import tempfile
from pathlib import Path

import podman
from podman.errors import APIError

from oci.archive import write_docker_archive
from oci.image import Image
from staves.errors import StavesError


def storage_name(name: str, default_tag: str) -> str:
    """``NAME[:TAG]`` with the tag filled in; a registry port is not a tag."""
    last = name.rsplit("/", 1)[-1]
    return name if ":" in last or "@" in last else f"{name}:{default_tag}"


def load_image(client: podman.PodmanClient, image: Image, name: str) -> None:
    """Stream ``image`` as a docker-archive into Podman's ``/images/load``."""
    with tempfile.TemporaryDirectory(prefix="staves-load-") as tmp:
        archive = Path(tmp) / "image.tar"
        write_docker_archive(image, archive, [name])
        with archive.open("rb") as data:
            try:
                response = client.api.post(
                    "/images/load", data=data, headers={"Content-type": "application/x-tar"}
                )
                response.raise_for_status()
            except APIError as exc:
                raise StavesError(
                    f"loading {name} into Podman storage failed: {exc.explanation or exc}"
                ) from exc
