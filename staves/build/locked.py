"""A build held to ``staves.lock``: the lock's snapshot and builder images (found again
by ID or registry digest), its repositories at their commits, Portage held to exactly its
packages; with ``--locked``, first a resolution of the current inputs that must give the
lock again (cargo's meaning); and after the build, the image root checked against it."""

from collections.abc import Mapping
from dataclasses import replace

from oci.descriptor import Platform
from staves.build.locking import resolve_lock
from staves.build.plans import PlatformPlan
from staves.build.request import BuildRequest
from staves.build.root import BuiltRoot
from staves.build.services import Services
from staves.errors import StavesError
from staves.gentoo.vdb import InstalledPackage
from staves.lockfile.compare import lock_changes, package_changes
from staves.lockfile.holds import hold_files
from staves.lockfile.model import Lock, LockedPackage, LockedPlatform, image_id
from staves.podman.builder_container import podman_step
from staves.podman.locked_images import find_builder, find_snapshot
from staves.progress.reporter import current

_RUN_LOCK = "run staves lock (staves lock --check lists every change)"


def say(message: str) -> None:
    current().event(message)


def unchanged_inputs(lock: Lock, plans: Mapping[Platform, PlatformPlan]) -> bool:
    """Whether a resolution now is the lock's: the same snapshot and builders, and no
    repository to sync (whose branch may have moved)."""
    for platform, plan in plans.items():
        locked = lock.platform(str(platform))
        if locked is None or locked.builder_id != image_id(plan.builder_id):
            return False
        snapshot = image_id(str(plan.plan["inputs"]["snapshot"]))
        if snapshot != lock.snapshot.id or plan.plan["sync"]:
            return False
    return True


def check_locked(
    request: BuildRequest, lock: Lock, plans: Mapping[Platform, PlatformPlan], services: Services
) -> None:
    """``--locked``: fail, naming what changed, unless resolving the current inputs gives
    the lock again."""
    if unchanged_inputs(lock, plans):
        say("--locked: the snapshot and builders are the lock's; it is up to date")
        return
    say("--locked: resolving the current inputs to compare with the lock")
    now = resolve_lock(request, plans, services)
    changes = lock_changes(lock, replace(now, platforms=_only(now, lock)))
    if not changes.same:
        raise StavesError(
            f"the lock is out of date: {changes.summary()}", key="--locked", hint=_RUN_LOCK
        )


def _only(now: Lock, lock: Lock) -> tuple[LockedPlatform, ...]:
    """``now``'s platforms and the lock's others: a build of some platforms checks those."""
    built = {p.platform for p in now.platforms}
    return (*now.platforms, *(p for p in lock.platforms if p.platform not in built))


def locked_snapshot(request: BuildRequest, lock: Lock, client: object, current: str) -> str:
    """The reference the build mounts the snapshot by: the lock's snapshot."""
    settings = request.builder
    if lock.snapshot.id is None or image_id(current) == lock.snapshot.id:
        return settings.portage_image
    found = find_snapshot(
        client,  # type: ignore[arg-type]
        lock.snapshot.image,
        lock.snapshot.digest,
        lock.snapshot.id,
        settings.pull,
    )
    if found is None:
        raise StavesError(
            f"the lock's snapshot {lock.snapshot.image} ({lock.snapshot.id[:19]}) is not in "
            "local storage and cannot be pulled by its digest",
            key="--portage",
            hint="run staves lock to lock the snapshot you have",
        )
    say(
        f"building from the lock's snapshot {lock.snapshot.id[:19]} "
        f"({settings.portage_image} is {image_id(current)[:19]} now; staves lock moves the lock)"
    )
    return found


def locked_builder(
    request: BuildRequest, lock: Lock, locked: LockedPlatform, plan: PlatformPlan, client: object
) -> str:
    """The image ID the platform's builder is created from: the lock's."""
    if image_id(plan.builder_id) == locked.builder_id:
        return plan.builder_id
    settings = request.builder
    several = len(request.platforms) > 1
    found = find_builder(
        client,  # type: ignore[arg-type]
        lock.builder.image,
        locked.builder_digest,
        locked.builder_id,
        plan.platform,
        settings.pull,
        current().on(plan.platform, several).stream(),
    )
    if found is None:
        raise StavesError(
            f"the lock's builder for {plan.platform} ({locked.builder_id[:19]}) is not in "
            "local storage and cannot be pulled by its digest",
            key="--builder",
            hint="run staves lock to lock the builder you have",
        )
    say(f"building {plan.platform} in the lock's builder {locked.builder_id[:19]}")
    return found


def hold_to_lock(
    request: BuildRequest, plans: Mapping[Platform, PlatformPlan], services: Services
) -> tuple[BuildRequest, dict[Platform, PlatformPlan]]:
    """The request and plans of a build held to its lock (as they are without one)."""
    lock = request.lock
    if lock is None:
        return request, dict(plans)
    if request.locked:
        check_locked(request, lock, plans, services)
    first = request.platforms[0]
    with podman_step("finding the lock's images"):
        current = str(plans[first].plan["inputs"]["snapshot"])
        portage = locked_snapshot(request, lock, services.client_for(first), current)
        held = {}
        for platform, plan in plans.items():
            locked = lock.platform(str(platform))
            if locked is None:
                raise StavesError(f"the lock has no {platform}", key="--platform", hint=_RUN_LOCK)
            client = services.client_for(platform)
            builder = locked_builder(request, lock, locked, plan, client)
            inputs = {"builder": builder, "snapshot": lock.snapshot.id or current}
            files = {**plan.plan["files"], **hold_files(locked)}
            pins = lock.pins
            changed = {**plan.plan, "files": files, "inputs": inputs, "pins": pins}
            held[platform] = PlatformPlan(platform, changed)
    request = replace(request, builder=replace(request.builder, portage_image=portage))
    return request, held


def _as_locked(package: InstalledPackage) -> LockedPackage:
    flags = [*package.enabled_use, *(f"-{f}" for f in package.disabled_use)]
    use = tuple(sorted(flags, key=lambda flag: (flag.lstrip("-"), flag)))
    return LockedPackage(package.key, package.repository or "", package.slot, use)


def check_built(request: BuildRequest, roots: Mapping[Platform, BuiltRoot]) -> None:
    """Fail, naming the difference, when a root holds other packages than its lock (the
    compiler runtime the builder gives aside)."""
    if request.lock is None:
        return
    for platform, root in roots.items():
        locked = request.lock.platform(str(platform))
        if locked is None:
            continue
        given = set(root.sources.get("builder_packages") or ())
        built = [_as_locked(p) for p in root.packages if p.key not in given]
        changes = package_changes(str(platform), locked.packages, built, details=False)
        if changes:
            listed = "; ".join(c.describe() for c in changes[:3])
            more = f" and {len(changes) - 3} more" if len(changes) > 3 else ""
            raise StavesError(
                f"{platform}: the image differs from the lock: {listed}{more}", hint=_RUN_LOCK
            )
