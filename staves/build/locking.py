"""``staves lock``'s resolution: every platform resolved in its builder against one
snapshot and the same commit of every repository, so that the platforms agree on what
they were resolved from (the first platform's sync decides the commits; the others are
held to them)."""

from collections.abc import Mapping, Sequence
from typing import Any

from oci.descriptor import Platform
from staves.build.lock_run import locked_platform, repositories_of, run_lock
from staves.build.plans import PlatformPlan
from staves.build.request import BuildRequest
from staves.build.services import Services, on_each_service
from staves.lockfile.inputs import spec_inputs
from staves.lockfile.model import Lock, LockedImage, LockedPlatform, image_id
from staves.podman.locked_images import repo_digest
from staves.progress.reporter import current


def resolve_lock(
    request: BuildRequest, plans: Mapping[Platform, PlatformPlan], services: Services
) -> Lock:
    """The lock of the request's spec on every platform it builds, resolved now."""
    several = len(request.platforms) > 1
    first = request.platforms[0]
    client = services.client_for(first)
    record = run_lock(client, request, plans[first], {}, current().on(first, several))
    repositories = repositories_of(plans[first].plan, record)
    pins = {r.name: r.commit for r in repositories if r.sync_type == "git" and r.commit}
    resolved = {first: locked_platform(plans[first], record, builder_digest(client, plans[first]))}

    def others(
        client: Any, platforms: Sequence[Platform], _: bool
    ) -> dict[Platform, LockedPlatform]:
        found = {}
        for p in platforms:
            if p != first:
                done = run_lock(client, request, plans[p], pins, current().on(p, several))
                found[p] = locked_platform(plans[p], done, builder_digest(client, plans[p]))
        return found

    resolved |= on_each_service(services, others)
    settings = request.builder
    snapshot = LockedImage(
        settings.portage_image,
        repo_digest(client, settings.portage_image),
        image_id(str(plans[first].plan["inputs"]["snapshot"])),
    )
    builder = LockedImage(settings.builder_image)
    timestamp = record.get("timestamp_commit")
    return Lock(
        spec_inputs(request.plan),
        snapshot,
        builder,
        repositories,
        tuple(resolved[p] for p in request.platforms),
        str(timestamp) if timestamp else None,
    )


def builder_digest(client: Any, plan: PlatformPlan) -> str | None:
    """The registry digest of the platform's builder image, to pull it again by."""
    return repo_digest(client, plan.builder_id)


def disagreements(lock: Lock) -> list[str]:
    """Packages the platforms hold at different versions (keywords differ by architecture):
    one line each, for a warning."""
    versions: dict[str, dict[str, set[str]]] = {}
    for platform in lock.platforms:
        for package in platform.packages:
            versions.setdefault(package.name, {}).setdefault(platform.platform, set()).add(
                package.version
            )
    found = []
    for name, by_platform in sorted(versions.items()):
        if len(by_platform) > 1 and len({frozenset(v) for v in by_platform.values()}) > 1:
            listed = ", ".join(
                f"{' '.join(sorted(v))} on {p}" for p, v in sorted(by_platform.items())
            )
            found.append(f"{name}: {listed}")
    return found


def say(message: str) -> None:
    current().event(message)
