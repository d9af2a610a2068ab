"""The builder and snapshot images a lock names, found again in local storage (by ID, or
by the registry digest they were pulled by) or pulled by that digest."""

from typing import TextIO

import podman
from podman.errors import APIError, PodmanError

from oci.descriptor import Platform
from staves.errors import StavesError
from staves.podman.builder_container import PullPolicy, _pull
from staves.podman.platform_images import builder_image_id


def repo_digest(client: podman.PodmanClient, reference: str) -> str | None:
    """The registry digest of a local image or manifest list; None when it has none."""
    try:
        attrs = client.images.get(reference).attrs
    except (APIError, PodmanError):
        return None
    digest = attrs.get("Digest")
    return str(digest) if digest else None


def repository(reference: str) -> str:
    """``reference`` without its tag or digest (a registry's port is not a tag)."""
    name = reference.split("@", 1)[0]
    head, _, last = name.rpartition("/")
    return f"{head}/{last.split(':', 1)[0]}" if head else last.split(":", 1)[0]


def _id_of(client: podman.PodmanClient, reference: str) -> str | None:
    try:
        if not client.images.exists(reference):
            return None
        return str(client.images.get(reference).id)
    except (APIError, PodmanError):
        return None


def _bare(image_id: str) -> str:
    return image_id.removeprefix("sha256:")


def find_snapshot(
    client: podman.PodmanClient, image: str, digest: str | None, image_id: str, policy: PullPolicy
) -> str | None:
    """A reference to the locked snapshot in local storage — ``NAME@DIGEST`` where it was
    pulled by one, else its ID — pulled by its digest when missing; None when neither
    local storage nor its registry has it."""
    by_digest = f"{repository(image)}@{digest}" if digest else None
    for reference in (by_digest, image_id):
        if reference and _bare(_id_of(client, reference) or "") == _bare(image_id):
            return reference
    pulled = by_digest and policy != "never" and _pull(client, by_digest) is None
    if pulled and _bare(_id_of(client, by_digest or "") or "") == _bare(image_id):
        return by_digest
    return None


def find_builder(
    client: podman.PodmanClient,
    image: str,
    digest: str | None,
    image_id: str,
    platform: Platform,
    policy: PullPolicy,
    output: TextIO,
) -> str | None:
    """The locked builder image for ``platform`` (its ID) in local storage, pulled out of
    the index the lock names by digest when missing; None when it cannot be had."""
    if _id_of(client, image_id) is not None:
        return image_id
    if not digest or policy == "never":
        return None
    try:
        found = builder_image_id(
            client, f"{repository(image)}@{digest}", platform, "missing", output
        )
    except StavesError:
        return None
    return found if _bare(found) == _bare(image_id) else None
