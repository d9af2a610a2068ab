"""``containers-storage:NAME[:TAG]``: images into and out of local Podman storage via the API."""

import tempfile
from pathlib import Path
from urllib.parse import quote

import podman
from podman.errors import APIError

from oci.archive import write_docker_archive
from oci.image import Image
from staves.errors import StavesError

_CHUNK = 1 << 20


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


def export_image(client: podman.PodmanClient, name: str, archive: Path) -> None:
    """Stream image ``name`` out of Podman storage as a docker-archive into ``archive``."""
    try:
        response = client.api.get(
            f"/images/{quote(name)}/get", params={"format": "docker-archive"}, stream=True
        )
        response.raise_for_status()
        with archive.open("wb") as out:
            for chunk in response.iter_content(_CHUNK):
                out.write(chunk)
    except APIError as exc:
        raise StavesError(
            f"containers-storage:{name}: {exc.explanation or exc}", key="SOURCE"
        ) from None


def image_labels(client: podman.PodmanClient, name: str) -> dict[str, str] | None:
    """The config labels of image ``name`` in local storage; None when it is not there."""
    try:
        if not client.images.exists(name):
            return None
        attrs = client.images.get(name).attrs
    except APIError as exc:
        raise StavesError(f"containers-storage:{name}: {exc.explanation or exc}") from None
    labels = attrs.get("Labels") or (attrs.get("Config") or {}).get("Labels") or {}
    return {str(k): str(v) for k, v in labels.items()}


def image_id(client: podman.PodmanClient, reference: str) -> str:
    """The ID of a local image (its config's digest): what it holds, whatever its name."""
    try:
        return str(client.images.get(reference).id)
    except APIError as exc:
        raise StavesError(f"image {reference}: {exc.explanation or exc}") from None
