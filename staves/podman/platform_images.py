"""The builder image for one platform, out of local storage or pulled for it.

A builder image is an index (``docker.io/gentoo/stage3`` is one; the test builder is a
local manifest list): the builder for linux/arm64 is its arm64 image, found as ``podman
create --platform linux/arm64`` finds it, and the builder is created from that image's ID,
so two platforms built at once never race over which image a tag names. A builder image
that has no image for the platform is one line, never a build labelled with a platform
its binaries are not for.
"""

from collections.abc import Mapping
from typing import Any, TextIO

import podman

from oci.descriptor import Platform
from oci.platforms import pick_platform, platform_names
from staves.errors import StavesError
from staves.podman.builder_container import PullPolicy, PullProgress, _pull


def builder_image_id(
    client: podman.PodmanClient,
    reference: str,
    platform: Platform,
    policy: PullPolicy,
    output: TextIO,
    on_progress: PullProgress | None = None,
) -> str:
    """The ID of the local image of ``reference`` for ``platform``, pulled as ``policy``
    says (``missing``: when local storage has none for the platform)."""
    if policy != "always" and (found := local_image_id(client, reference, platform)):
        return found
    if policy == "never":
        if not (client.images.exists(reference) or _local_list(client, reference)):
            raise StavesError(
                f"image {reference} is not in local storage and --pull is never",
                key="--builder/--portage",
                hint="pull it with podman, or use --pull missing",
            )
        raise _lacking(client, reference, platform, "and --pull is never")
    named = "" if platform == Platform.host() else f" for {platform}"
    print(f"staves: pulling {reference}{named}", file=output, flush=True)
    problem = _pull(client, reference, platform, on_progress)
    if problem is None:
        print(f"staves: pulled {reference}{named}", file=output, flush=True)
    # --pull always fails with the pull, as podman's does, whatever local storage holds.
    found = local_image_id(client, reference, platform)
    if found is not None and (problem is None or policy != "always"):
        return found
    if problem is not None and (policy == "always" or not client.images.exists(reference)):
        raise StavesError(
            f"image {reference} could not be pulled: {problem}",
            key="--builder/--portage",
            hint="check the name, the registry and Podman's registries.conf",
        )
    raise _lacking(client, reference, platform, f"(pulling it: {problem or 'no such image'})")


def local_image_id(client: podman.PodmanClient, reference: str, platform: Platform) -> str | None:
    """The image ``reference`` names for ``platform`` in local storage: out of its manifest
    list, or the image itself when it is for that platform."""
    listed = _local_list(client, reference)
    if listed is not None:
        entry = pick_platform(listed, platform)
        return _image_id(client, f"{_repository(reference)}@{entry['digest']}") if entry else None
    if not client.images.exists(reference):
        return None
    attrs = client.images.get(reference).attrs
    return str(attrs["Id"]) if image_platform_fits(attrs, platform) else None


def image_platform_fits(attrs: Mapping[str, Any], platform: Platform) -> bool:
    """Whether an image's config says it is for ``platform``; an image naming no variant
    fits a wanted variant (arm64 images rarely name v8), as Podman's own matching does."""
    if (attrs.get("Os"), attrs.get("Architecture")) != (platform.os, platform.architecture):
        return False
    variant = attrs.get("Variant") or None
    return platform.variant is None or variant in (None, platform.variant)


def _local_list(client: podman.PodmanClient, reference: str) -> Mapping[str, Any] | None:
    """The manifest list ``reference`` names in local storage, or None. Asked only once
    Podman says it is a local list: its list endpoint would otherwise ask the registry."""
    if client.api.get(f"/manifests/{reference}/exists").status_code != 204:
        return None
    response = client.api.get(f"/manifests/{reference}/json")
    return response.json() if response.ok else None


def _image_id(client: podman.PodmanClient, name: str) -> str | None:
    return str(client.images.get(name).attrs["Id"]) if client.images.exists(name) else None


def _repository(reference: str) -> str:
    """``reference`` without its tag or digest (a registry's port is not a tag)."""
    name = reference.split("@", 1)[0]
    head, _, last = name.rpartition("/")
    return f"{head}/{last.split(':', 1)[0]}" if head else last.split(":", 1)[0]


def _lacking(
    client: podman.PodmanClient, reference: str, platform: Platform, why: str
) -> StavesError:
    return StavesError(
        f"builder image {reference} has no image for {platform} {why}; "
        f"it offers {_offered(client, reference)}",
        key="--platform",
        hint="name a builder image that is built for it (an index holding it), "
        "or pull one with podman pull --platform",
    )


def _offered(client: podman.PodmanClient, reference: str) -> str:
    """The platforms local storage holds ``reference`` for, to say what would work."""
    listed = _local_list(client, reference)
    if listed is not None:
        return platform_names(listed)
    if not client.images.exists(reference):
        return "nothing in local storage"
    attrs = client.images.get(reference).attrs
    variant = attrs.get("Variant")
    return "/".join(str(p) for p in (attrs.get("Os"), attrs.get("Architecture"), variant) if p)
