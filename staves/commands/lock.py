"""``staves lock``: resolve the spec in the builder, per platform, and write
``staves.lock`` beside it; ``--check`` says (exit 1) whether it is up to date. Also what
``staves build`` reads of the lock before it starts a container."""

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from oci.compress import Compression
from oci.descriptor import Platform
from oci.files import atomic_write
from staves.build.locking import disagreements, resolve_lock
from staves.build.plans import plan_platforms
from staves.build.request import BuildRequest
from staves.build.services import connect
from staves.commands.builder_options import builder_options, builder_settings, spec_option
from staves.commands.fleet_options import identity_option
from staves.commands.options import format_option, parse_platforms
from staves.commands.pack import source_date_epoch
from staves.destinations.naming import image_name
from staves.errors import EXIT_USAGE, StavesError
from staves.lockfile.compare import LockChanges, lock_changes
from staves.lockfile.inputs import spec_inputs, stale_problem
from staves.lockfile.model import Lock
from staves.lockfile.read import lock_path, read_lock
from staves.lockfile.toml_text import render_lock
from staves.podman.service_map import parse_service_urls
from staves.spec import build_plan, load_spec
from staves.spec.plan import built_image_config

EXIT_STALE = 1
_RUN_LOCK = "run staves lock"


@click.command("lock")
@spec_option("The spec file; the lock is written beside it (staves.toml → staves.lock).")
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing: exit 1 and print the difference unless the lock is what a lock "
    "now would write (for CI).",
)
@format_option(
    "How the outcome is printed on stdout (json: the lock's path, what changed, the "
    "packages whose versions differ between platforms)."
)
@click.option(
    "--platform",
    "platform_text",
    metavar="OS/ARCH[/VARIANT][,…]",
    help="Platforms to resolve for [spec: platforms, else this host's].",
)
@click.option(
    "--url",
    "urls",
    metavar="[PLATFORM=]URL",
    multiple=True,
    help="Podman API URL [CONTAINER_HOST, then the usual sockets]; PLATFORM=URL resolves "
    "that platform there. Repeatable.",
)
@builder_options
@identity_option
def lock_command(
    config_path: str,
    check: bool,
    output_format: str,
    platform_text: str | None,
    urls: tuple[str, ...],
    identity: str | None,
    **options: Any,
) -> None:
    """Resolve what the spec's image holds, on every platform, and pin it in staves.lock:
    the snapshot and builder images, each repository's commit, every package as
    =CATEGORY/PF::REPOSITORY with its SLOT, USE flags, whether it is live, and its
    distfiles with their Manifest digests. staves build then builds exactly that.

    Nothing is compiled: Portage resolves into an empty root in the builder.
    """
    spec = load_spec(config_path)
    path = lock_path(config_path)
    old = previous_lock(path, check)
    if check and old is None:
        raise StavesError("no lock to check", file=str(path), hint=_RUN_LOCK, exit_code=EXIT_STALE)
    environ = dict(os.environ)
    platforms = parse_platforms(platform_text) or spec.platforms or (Platform.host(),)
    request = BuildRequest(
        plan=build_plan(spec, os.cpu_count() or 1),
        config=built_image_config(spec),
        name=image_name(spec.image),
        annotations={},
        builder=builder_settings(spec, environ, **options),
        destinations=(),
        compression=Compression.GZIP,
        platforms=platforms,
        epoch=source_date_epoch(environ),
        services=parse_service_urls(urls, platforms),
        spec_file=config_path,
        identity=identity,
    )
    with connect(request, environ) as services:
        lock = resolve_lock(request, plan_platforms(request, services), services)
    changes = lock_changes(old, lock) if old is not None else None
    split = disagreements(lock)
    for line in split:
        click.echo(f"staves: warning: platforms disagree: {line}", err=True)
    if check:
        assert changes is not None
        _report(path, changes, split, output_format, written=False)
        if not changes.same:
            raise click.exceptions.Exit(EXIT_STALE)
        return
    atomic_write(path, render_lock(lock, Path(config_path).name).encode())
    _report(path, changes, split, output_format, written=True)
    live = sorted({p.atom for platform in lock.platforms for p in platform.live})
    counts = ", ".join(f"{len(p.packages)} packages on {p.platform}" for p in lock.platforms)
    said = f"; live: {' '.join(live)}" if live else ""
    click.echo(f"staves: wrote {path}: {counts}{said}", err=True)


def previous_lock(path: Path, check: bool) -> Lock | None:
    """The lock there is, to compare with; one that cannot be read is replaced (with
    ``--check``, it fails)."""
    try:
        return read_lock(path)
    except StavesError as exc:
        if check:
            raise
        click.echo(f"staves: warning: {exc}; replacing it", err=True)
        return None


def _report(
    path: Path,
    changes: LockChanges | None,
    split: Sequence[str],
    output_format: str,
    written: bool,
) -> None:
    """What changed from the lock there was (stdout)."""
    if output_format == "json":
        document = {
            "lock": str(path),
            "written": written,
            "changes": changes.to_dict() if changes is not None else None,
            "disagreements": list(split),
        }
        click.echo(json.dumps(document, indent=2, sort_keys=True))
    elif changes is None:
        click.echo(f"{path}: new")
    elif changes.same:
        click.echo(f"{path}: up to date")
    else:
        click.echo(f"{path}: {'updated' if written else 'out of date'}:")
        click.echo("\n".join(f"  {line}" for line in changes.lines()))


def lock_for_build(
    config_path: str, plan: Mapping[str, Any], platforms: Sequence[Platform], locked: bool
) -> Lock | None:
    """The lock a build is held to, checked against the spec before any container starts;
    None when the spec has none (``--locked`` then fails)."""
    path = lock_path(config_path)
    lock = read_lock(path)
    if lock is None:
        if locked:
            raise StavesError(
                "no lock beside the spec",
                file=str(path),
                key="--locked",
                hint=_RUN_LOCK,
                exit_code=EXIT_USAGE,
            )
        return None
    problem = stale_problem(lock, spec_inputs(plan), [str(p) for p in platforms])
    if problem is not None:
        raise StavesError(problem, file=str(path), hint=_RUN_LOCK, exit_code=EXIT_STALE)
    return lock


def lock_settings(config_path: str, lock: Lock | None, locked: bool) -> dict[str, Any]:
    """What ``--dry-run`` shows of the lock: which, the repositories it pins, and the live
    packages (built anew by every build)."""
    if lock is None:
        return {"lock": None, "locked": locked, "pinned_repositories": [], "live": []}
    live = [f"{p.platform} {pkg.atom}" for p in lock.platforms for pkg in p.live]
    return {
        "lock": str(lock_path(config_path)),
        "locked": locked,
        "pinned_repositories": sorted(lock.pins),
        "live": live,
    }
