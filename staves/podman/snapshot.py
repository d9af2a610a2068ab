"""Files of the Portage snapshot, read through Podman.

Two ways in: a running builder, where the in-builder script has linked the mounted
snapshot to ``/var/db/repos/gentoo`` (the snapshot of that very build), and the snapshot
image itself, through a container that is created and never started, with the image's
``VOLUME /var/db/repos/gentoo`` left out so the tree is read from the image's layers.
"""

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO

import podman
from podman.errors import APIError, NotFound, PodmanError

from staves.builder.protocol import REPO_PATH
from staves.podman.builder_container import ROLE_LABEL, archive_stream
from staves.podman.owners import OWNER_LABEL, this_process

log = logging.getLogger(__name__)


@contextmanager
def snapshot_reader(client: podman.PodmanClient, image: str) -> Iterator[Any]:
    """A container of the snapshot ``image`` to read its tree from; never started, and
    removed afterwards."""
    name = f"staves-snapshot-{uuid.uuid4().hex[:12]}"
    try:
        yield client.containers.create(
            image,
            command=["/staves-never-runs"],
            name=name,
            image_volume_mode="ignore",  # the VOLUME would hide the tree behind an empty one
            labels={ROLE_LABEL: "snapshot-reader", OWNER_LABEL: this_process().label()},
        )
    finally:
        try:
            client.containers.remove(name, force=True)
        except NotFound:
            pass
        except (APIError, PodmanError) as exc:
            log.warning("could not remove %s: %s", name, exc)


def _exists(client: podman.PodmanClient, container: Any, path: str) -> bool:
    response = client.api.head(f"/containers/{container.id}/archive", params={"path": path})
    return response.status_code != 404


@contextmanager
def snapshot_tree(
    client: podman.PodmanClient, container: Any, relative: str
) -> Iterator[BinaryIO | None]:
    """``relative`` (e.g. ``metadata/glsa``) of the snapshot as a tar stream; None when
    the snapshot has none."""
    path = f"{REPO_PATH}/{relative}"
    if not _exists(client, container, path):
        yield None
        return
    with archive_stream(client, container, path) as stream:
        yield stream
