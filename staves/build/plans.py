"""Step 1, the plan per platform: the spec's plan with what the builder adds, locked to the
builder and snapshot images it builds from (apko's locked config)."""

import hashlib
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from oci.descriptor import Platform
from staves.build.request import BuildRequest
from staves.build.services import Services, on_each_service, output_for
from staves.gentoo.cpu_levels import builder_platform
from staves.podman.builder_container import (
    BINPKG_PATH,
    SNAPSHOT_MOUNT,
    ensure_image,
    podman_step,
    remove_dead_builders,
)
from staves.podman.platform_images import builder_image_id
from staves.podman.storage import image_id
from staves.spec.plan import platform_plan

# make.conf changes what every package build produces without Portage noticing: USE
# flags, keywords and licenses Portage checks itself, environments it does not.
_ENV_FILES = ("/etc/portage/make.conf",)


@dataclass(frozen=True)
class PlatformPlan:
    """What the builder of one platform runs: the plan, naming the images it runs from."""

    platform: Platform
    plan: dict[str, Any]

    @property
    def builder_id(self) -> str:
        """The local image the builder is created from: the builder image's for the platform."""
        return str(self.plan["inputs"]["builder"])


def binpkg_dir(plan: Mapping[str, Any]) -> str:
    """The image's binary-package directory for this make.conf and these user patches.

    Portage reuses a binary package whenever USE flags and dependencies match, even if
    it was built with other make.conf variables (or user patches, where Portage has no
    --binpkg-respect-user-patches).
    Builds with different make.conf variables or patches therefore keep their packages
    apart in the cache volume, so a patched build and an unpatched one never share a
    binary package (the debug flags are make.conf's too); the in-builder
    script puts the builder's key (CHOST, profile, compiler) above this directory and
    rebuilds a package whose ``[env.NAME]`` environment changed, that package alone.
    """
    parts = {**plan["files"], **plan["append"]}
    relevant: list[Any] = sorted((k, v) for k, v in parts.items() if k.startswith(_ENV_FILES))
    if plan.get("patches"):  # user patches change what a package builds, unseen by Portage
        relevant.append(sorted((p["directory"], p["name"], p["sha256"]) for p in plan["patches"]))
    key = hashlib.sha256(json.dumps(relevant).encode()).hexdigest()[:16]
    return f"{BINPKG_PATH}/env-{key}"


def unpatched_pkgdir(plan: Mapping[str, Any]) -> dict[str, str]:
    """With user patches, ``pkgdir_base``: the partition of the same build without them,
    whose packages no patch touches the patched partition takes (built identically)."""
    if not plan.get("patches"):
        return {}
    return {"pkgdir_base": binpkg_dir({**plan, "patches": []})}


def builder_plan(plan: Mapping[str, Any], epoch: int | None) -> dict[str, Any]:
    """The spec's plan with what the builder adds: the snapshot, the partition, the epoch
    (the host's platform; ``staves cache export``)."""
    partition = {"pkgdir": binpkg_dir(plan), **unpatched_pkgdir(plan)}
    return {**plan, "snapshot": SNAPSHOT_MOUNT, **partition, "epoch": epoch}


def platform_builder_plan(
    request: BuildRequest, platform: Platform, builder_id: str, snapshot_id: str
) -> dict[str, Any]:
    """The spec's plan for one platform (its CPU level's flags after make.conf) with what
    the builder adds: the snapshot, the partition, the epoch, the images it runs from, and
    the image whose last root the builder keeps in the cache volume to update next time."""
    plan = platform_plan(request.plan, platform)
    return {
        **plan,
        "snapshot": SNAPSHOT_MOUNT,
        "pkgdir": binpkg_dir(plan),
        **unpatched_pkgdir(plan),
        "epoch": request.epoch,
        "inputs": {"builder": builder_id, "snapshot": snapshot_id},
        "keep_root": kept_root_name(request),
    }


def kept_root_name(request: BuildRequest) -> str | None:
    """The image whose root the builder keeps to update on its next build. None with the
    whole package database in the image: it records the order packages were merged in
    (COUNTER), which an update changes, so that only a fresh root gives what a build from
    scratch gives."""
    return None if request.vdb == "full" else (request.name.name or "unnamed")


def plan_platforms(request: BuildRequest, services: Services) -> dict[Platform, PlatformPlan]:
    """Each platform's plan, every platform's builder image found (or pulled) first, so that
    a missing one fails before anything is built; the services side by side."""
    return on_each_service(
        services, lambda client, platforms, first: plan_on_service(client, request, platforms)
    )


def plan_on_service(
    client: Any, request: BuildRequest, platforms: Sequence[Platform]
) -> dict[Platform, PlatformPlan]:
    """The plans of the platforms one service builds: leftovers of dead builds removed,
    each platform's builder image and the snapshot image in local storage."""
    several = len(request.platforms) > 1
    settings = request.builder
    with podman_step("preparing the builder"):
        remove_dead_builders(client, sys.stderr)
        images = {
            platform: builder_image_id(
                client,
                settings.builder_image,
                builder_platform(platform),
                settings.pull,
                output_for(platform, several),
            )
            for platform in platforms
        }
        ensure_image(client, settings.portage_image, settings.pull, sys.stderr)
        snapshot_id = image_id(client, settings.portage_image)
    return {
        platform: PlatformPlan(
            platform, platform_builder_plan(request, platform, images[platform], snapshot_id)
        )
        for platform in platforms
    }
