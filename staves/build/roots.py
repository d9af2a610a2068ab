"""Step 2 for every platform: each service builds its platforms' roots one after another,
the services side by side."""

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from oci.descriptor import Platform
from staves.build.plans import PlatformPlan
from staves.build.reproducible import check_plan, check_reproducible
from staves.build.request import BuildRequest
from staves.build.root import BuiltRoot, run_builder
from staves.build.services import Services, on_each_service
from staves.caches.binpkg_cache import fetch_cache
from staves.podman.builder_container import BuilderSettings, ensure_volume, podman_step
from staves.progress.reporter import current


def build_roots(
    request: BuildRequest,
    plans: Mapping[Platform, PlatformPlan],
    services: Services,
    work: Path,
) -> dict[Platform, BuiltRoot]:
    """Every platform's built root, each in its own directory under ``work``."""
    return on_each_service(
        services,
        lambda client, platforms, first: build_on_service(
            client, request, [plans[p] for p in platforms], first, work
        ),
    )


def build_on_service(
    client: Any, request: BuildRequest, plans: Sequence[PlatformPlan], first: bool, work: Path
) -> dict[Platform, BuiltRoot]:
    """The roots one service builds, one after another, its cache volumes made first; the
    first service says what the builder may see."""
    with podman_step("preparing the builder"):
        ensure_volume(client, request.builder.cache_volume)
        ensure_volume(client, request.builder.distfiles_volume, "distfiles-cache")
    if first:
        announce_shared(request.builder)
    return {
        plan.platform: build_root(
            client, request, plan, work / str(plan.platform).replace("/", "-")
        )
        for plan in plans
    }


def announce_shared(settings: BuilderSettings) -> None:
    """Say which of the user's credentials the builder can use (paths only)."""
    shared = settings.credentials.shared
    current().event(
        "shared with the builder: " + (", ".join(shared) if shared else "no credentials")
    )


def build_root(client: Any, request: BuildRequest, plan: PlatformPlan, work: Path) -> BuiltRoot:
    """One platform's root, built in a builder created from the builder image's image for
    the platform: ``--cache-from``'s packages first, and with ``--check-reproducible`` a
    second build from scratch to compare."""
    platform, builder_plan = plan.platform, plan.plan
    progress = current().on(platform, several=len(request.platforms) > 1)
    request = replace(request, builder=replace(request.builder, image_id=plan.builder_id))
    work.mkdir(parents=True, exist_ok=True)
    cached = fetch_cached_packages(request, work / "cache.tar")
    if cached is not None:
        builder_plan = {**builder_plan, "reindex": True}  # Portage indexes what arrived first
    built = run_builder(client, request, builder_plan, work / "blobs", platform, progress, cached)
    if request.check:
        progress.event("building again from scratch, to compare")
        again = run_builder(
            client,
            request,
            check_plan(builder_plan),
            work / "check",
            platform,
            current().on(platform, len(request.platforms) > 1, "check"),
        )
        check_reproducible(built, again)
    return built


def fetch_cached_packages(request: BuildRequest, archive: Path) -> Path | None:
    """``--cache-from``: the registry's binary packages as a tar for the volume, if any."""
    if request.cache_from is None or not fetch_cache(request.cache_from, archive):
        return None
    return archive
