"""``staves cache export DIR``: one cache partition as a binhost directory."""

import os
from pathlib import Path

import click

from staves.build.plans import builder_plan
from staves.caches.binpkg_cache import export_to_directory
from staves.commands.build_inputs import volume_option
from staves.commands.builder_options import (
    DEFAULT_BUILDER,
    DEFAULT_CACHE,
    DEFAULT_PORTAGE,
    spec_option,
)
from staves.commands.fleet_options import identity_option
from staves.commands.pack import source_date_epoch
from staves.podman.builder_container import BuilderSettings, PullPolicy
from staves.spec import build_plan, load_spec


@click.group("cache")
def cache() -> None:
    """The binary-package cache volume."""


@cache.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@spec_option("The spec whose partition (its make.conf) to export.")
@click.option("--builder", metavar="IMAGE", default=DEFAULT_BUILDER, show_default=True)
@click.option("--portage", metavar="IMAGE", default=DEFAULT_PORTAGE, show_default=True)
@click.option(
    "--pull",
    type=click.Choice(["missing", "always", "never"]),
    default="missing",
    show_default=True,
    help="When to pull the builder and Portage images.",
)
@click.option(
    "--build-cache",
    metavar="VOLUME",
    callback=volume_option,
    default=DEFAULT_CACHE,
    show_default=True,
    help="The binary-package cache volume.",
)
@click.option("--url", metavar="URL", help="Podman API URL (default: search, as for builds).")
@identity_option
def export(
    directory: Path,
    config_path: str,
    builder: str,
    portage: str,
    pull: PullPolicy,
    build_cache: str,
    url: str | None,
    identity: str | None,
) -> None:
    """Write the spec's cache partition to DIRECTORY as a binhost (Packages index included)
    that any HTTP server can serve; use it with [[binhosts]] or --binhost."""
    spec = load_spec(config_path)
    environ = dict(os.environ)
    plan = builder_plan(build_plan(spec, 1), source_date_epoch(environ))
    settings = BuilderSettings(builder, portage, build_cache, network="none", pull=pull)
    for path, count in export_to_directory(url, identity, environ, settings, plan, directory):
        click.echo(f"{directory / path}: {count} binary packages")
