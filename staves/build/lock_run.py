"""One platform's resolution for a lock: a builder runs the plan's "lock" task (sync, hold
pinned repositories, resolve into an empty root, merge nothing) and leaves what it
resolved for the host."""

import configparser
import dataclasses
from typing import Any

from oci.document import load_json
from staves.build.plans import PlatformPlan
from staves.build.records import failure_from
from staves.build.request import BuildRequest
from staves.builder.protocol import LOCK_FILE
from staves.errors import StavesError
from staves.lockfile.model import (
    Distfile,
    LockedPackage,
    LockedPlatform,
    LockedRepository,
    image_id,
)
from staves.podman.builder_container import (
    archived_file_stream,
    builder_container,
    ensure_volume,
    podman_step,
)
from staves.podman.builder_output import run_to_end
from staves.progress.reporter import Progress, current

REPOS_CONF = "/etc/portage/repos.conf/"
MAX_RECORD = 64 << 20


def lock_plan(plan: PlatformPlan, pins: dict[str, str]) -> dict[str, Any]:
    """The platform's plan as a lock run: nothing merged, no root kept."""
    return {**plan.plan, "task": "lock", "pins": pins, "keep_root": None}


def run_lock(
    client: Any,
    request: BuildRequest,
    plan: PlatformPlan,
    pins: dict[str, str],
    progress: Progress | None = None,
) -> dict[str, Any]:
    """What the builder of ``plan``'s platform resolved (its lock record); ``progress``
    hears the builder's records and output."""
    progress = progress or current()
    settings = dataclasses.replace(request.builder, image_id=plan.builder_id)
    with podman_step("preparing the builder"):
        ensure_volume(client, settings.cache_volume)
        ensure_volume(client, settings.distfiles_volume, "distfiles-cache")
    with (
        podman_step("resolving in the builder"),
        progress.phase(f"lock {plan.platform}", "resolving in the builder"),
        builder_container(client, settings, lock_plan(plan, pins)) as container,
    ):
        result = run_to_end(container, progress)
        if result.exit_code != 0:
            raise failure_from(result, str(progress.log_path) if progress.log_path else None)
        with archived_file_stream(client, container, LOCK_FILE) as stream:
            # Read as hostile input (a package's phases could rewrite it): bounded, and
            # a wrong one is one line naming it.
            record = load_json(stream, f"the builder's lock record {LOCK_FILE}", MAX_RECORD)
    if not isinstance(record, dict):
        raise StavesError("the builder's lock record is not a JSON object")
    return record


def _distfile(entry: dict[str, Any]) -> Distfile:
    digests = entry.get("digests") or {}
    return Distfile(
        str(entry["name"]), entry.get("size"), digests.get("BLAKE2B"), digests.get("SHA512")
    )


def locked_platform(
    plan: PlatformPlan, record: dict[str, Any], builder_digest: str | None = None
) -> LockedPlatform:
    """The lock's entry for one platform, from its builder's record."""
    try:
        packages = tuple(
            LockedPackage(
                str(p["cpv"]),
                str(p["repository"]),
                str(p["slot"]),
                tuple(str(flag) for flag in p["use"]),
                bool(p["live"]),
                tuple(_distfile(d) for d in p["distfiles"]),
            )
            for p in record["packages"]
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise StavesError(f"the builder's lock record lacks {exc}") from None
    return LockedPlatform(str(plan.platform), image_id(plan.builder_id), packages, builder_digest)


def repositories_of(plan: dict[str, Any], record: dict[str, Any]) -> tuple[LockedRepository, ...]:
    """Each repository with its revision (the builder's), sync type and URI (the spec's)."""
    synced: dict[str, tuple[str | None, str | None]] = {}
    for name, text in plan["files"].items():
        if name.startswith(REPOS_CONF):
            parser = configparser.ConfigParser(interpolation=None)
            parser.read_string(text)
            for section in parser.sections():
                entry = parser[section]
                synced[section] = (entry.get("sync-type"), entry.get("sync-uri"))
    found = []
    for entry in record.get("repositories", []):
        name = str(entry["name"])
        kind, uri = synced.get(name, (None, None))
        revision = entry.get("revision")
        found.append(LockedRepository(name, str(revision) if revision else None, kind, uri))
    return tuple(found)
