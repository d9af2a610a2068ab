"""Reuse, before anything is built: an unchanged build (same build key) that every
destination holds is done; one that some hold is copied to the others; else the request
goes on, its image recording its key, to build for the destinations that lack it."""

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from oci.descriptor import Platform
from oci.files import atomic_write
from staves.build.debug_image import reuse_with_debug
from staves.build.debug_parts import wants_debug
from staves.build.plans import PlatformPlan
from staves.build.publish import storage_loader
from staves.build.request import BuildOutcome, BuildRequest
from staves.build.sbom import sbom_paths
from staves.build.services import Services
from staves.caches.build_key import BUILD_KEY, with_build_key
from staves.caches.noop import KeyRequest, SbomWanted, Skip, check_destinations, key_of, say
from staves.destinations.copy import copy_from
from staves.destinations.outputs import write_outputs
from staves.destinations.registry import Pusher
from staves.podman.builder_container import podman_step


def reuse(
    request: BuildRequest,
    plans: Mapping[Platform, PlatformPlan],
    services: Services,
    push: Pusher | None,
    work: Path,
) -> BuildOutcome | BuildRequest:
    """One platform: the outcome when the destinations hold this build already, else the
    request whose image records its build key. Several platforms always build."""
    if len(plans) != 1:
        return request
    (plan,) = plans.values()
    client = services.client_for(plan.platform)
    with podman_step("preparing the builder"):
        key = key_of(client, key_request(request, plan))
    if key is None:
        return request
    request = with_key(request, key)
    if request.no_cache or request.check or request.audit or request.signing.key:
        return request
    if wants_debug(request):
        return reuse_with_debug(client, request, key, plan.platform)
    return reuse_held(client, request, key, plan.platform, push, work)


def key_request(request: BuildRequest, plan: PlatformPlan) -> KeyRequest:
    return KeyRequest(
        plan.plan,
        plan.builder_id,
        request.builder.portage_image,
        request.config,
        request.annotations,
        request.layers,
        request.vdb,
        str(request.compression),
        plan.platform,
        request.epoch,
    )


def with_key(request: BuildRequest, key: str) -> BuildRequest:
    """The request whose image records its build key (manifest annotation, config label)."""
    return replace(
        request,
        config=with_build_key(request.config, key),
        annotations={**request.annotations, BUILD_KEY: key},
    )


def reuse_held(
    client: Any,
    request: BuildRequest,
    key: str,
    platform: Platform,
    push: Pusher | None,
    work: Path,
) -> BuildOutcome | BuildRequest:
    """An unchanged build: done when every destination holds it, or when those lacking it
    can be given a copy from one that holds it; else the request for those lacking it."""
    sbom = sbom_wanted(request, platform)
    skip = check_destinations(
        client, key, request.destinations, request.name, platform, request.registry, sbom
    )
    if not skip.build:
        return BuildOutcome(skip.digest, None)
    if skip.holders and (copied := copy_to_missing(client, request, skip, platform, push, work)):
        return BuildOutcome(copied, None)
    return replace(request, destinations=skip.missing)


def sbom_wanted(request: BuildRequest, platform: Platform) -> SbomWanted | None:
    """``--sbom FILE``: each format's file, and the media type its SBOM is attached with."""
    if request.sbom_path is None:
        return None
    paths = sbom_paths(request.sbom_path, platform, False, request.sbom_formats)
    return SbomWanted(tuple((path, f.media_type) for f, path in paths.items()))


def copy_to_missing(
    client: Any,
    request: BuildRequest,
    skip: Skip,
    platform: Platform,
    push: Pusher | None,
    work: Path,
) -> str | None:
    """Copy the image from a destination that holds it to those that lack it; its manifest
    digest, or None when no holder keeps all of it (then the build runs)."""
    copied = copy_from(skip.holders, request.name, platform, request.registry, work)
    if copied is None:
        say("no destination that holds it keeps the whole image; building for the others")
        return None
    if (sbom := sbom_wanted(request, platform)) is not None:
        found = {}
        for path, artifact_type in sbom.files:
            attached = [a.payload[0] for a in copied.referrers if a.artifact_type == artifact_type]
            if not attached:
                return None
            with attached[0].open() as data:
                found[path] = data.read()
        for path, data in found.items():
            atomic_write(path, data)
    write_outputs(
        copied.image,
        skip.missing,
        request.name,
        storage_loader(client),
        push,
        referrers=copied.referrers,
    )
    say(f"copied this build to the {len(skip.missing)} that lacked it; no container started")
    return copied.image.manifest.digest
