"""``staves build``: the spec's packages emerged in a builder container, packed as an image."""

import dataclasses
import os
import re
from pathlib import Path

import click

from oci.compress import Compression
from oci.descriptor import Platform
from staves.build import BuildRequest, build
from staves.commands.options import build_output_options, parse_platforms
from staves.commands.pack import source_date_epoch
from staves.commands.registry_options import pusher_from_cli, registry_options
from staves.dryrun import dry_run_json, dry_run_text
from staves.errors import EXIT_USAGE, StavesError
from staves.gentoo.layering import MAX_LAYERS
from staves.images.meta import image_annotations, image_name
from staves.images.outputs import parse_destinations
from staves.images.single_platform import check_single_platform_destinations
from staves.podman.builder_access import builder_credentials
from staves.podman.builder_container import BuilderSettings, PullPolicy
from staves.podman.service_map import parse_service_urls
from staves.spec import Spec, build_plan, load_spec
from staves.spec.names import IMAGE_TAG, TAG_HINT, reference_problem, split_reference
from staves.spec.plan import built_image_config
from staves.spec.secrets import keys_with_passwords

DEFAULT_BUILDER = "docker.io/gentoo/stage3:latest"
DEFAULT_PORTAGE = "docker.io/gentoo/portage:latest"
DEFAULT_CACHE = "staves-binpkgs"
DEFAULT_DISTFILES = "staves-distfiles"


@click.command("build")
@click.option(
    "-c",
    "--config",
    "config_path",
    default="staves.toml",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="The spec file.",
)
@click.option("--tag", metavar="NAME[:TAG]", help="Image name and tag, overriding the spec.")
@click.option("--version", "version", metavar="V", help="Image tag, overriding the spec.")
@click.option("--dry-run", is_flag=True, help="Validate and show what would be done.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Dry-run output format.",
)
@click.option("--jobs", type=click.IntRange(min=1), help="Parallel make jobs [CPU count].")
@click.option(
    "-o",
    "--output",
    "outputs",
    multiple=True,
    metavar="DEST",
    help="Where to put the image [containers-storage:NAME:VERSION]; repeatable.",
)
@click.option(
    "--builder", metavar="IMAGE", default=DEFAULT_BUILDER, show_default=True, help="Builder image."
)
@click.option(
    "--portage",
    metavar="IMAGE",
    default=DEFAULT_PORTAGE,
    show_default=True,
    help="Portage snapshot image.",
)
@click.option(
    "--pull",
    type=click.Choice(["missing", "always", "never"]),
    default="missing",
    show_default=True,
    help="When to pull the builder and Portage images, as podman run --pull "
    "(always: a fresh Portage snapshot every build).",
)
@click.option(
    "--build-cache",
    metavar="VOLUME",
    callback=lambda ctx, param, value: volume_name(param.opts[0], value),
    default=DEFAULT_CACHE,
    show_default=True,
    help="Named volume holding binary packages between builds.",
)
@click.option(
    "--network",
    metavar="MODE",
    help="Network of the builder, as podman run --network takes it (e.g. host, none).",
)
@click.option(
    "--distfiles-cache",
    metavar="VOLUME",
    callback=lambda ctx, param, value: volume_name(param.opts[0], value),
    default=DEFAULT_DISTFILES,
    show_default=True,
    help="Named volume holding downloaded sources (distfiles) between builds.",
)
@click.option(
    "--ssh/--no-ssh",
    default=None,
    help="Share the SSH agent (else ~/.ssh, read-only) with the builder [when present].",
)
@click.option(
    "--netrc/--no-netrc",
    default=None,
    help="Share ~/.netrc (read-only) with the builder [when present].",
)
@click.option(
    "--layers",
    type=click.IntRange(min=1, max=MAX_LAYERS),
    help="Layers to split the image into, one per package while they last [spec: layers].",
)
@click.option(
    "--sbom",
    "sbom_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the image's SPDX SBOM to this file.",
)
@click.option(
    "--check-reproducible",
    "check",
    is_flag=True,
    help="Build a second time from scratch (a fresh binary-package directory) and fail, "
    "naming each differing file by package, unless both give the same layers.",
)
@build_output_options
@registry_options
def build_command(
    config_path: str,
    tag: str | None,
    version: str | None,
    dry_run: bool,
    output_format: str,
    jobs: int | None,
    outputs: tuple[str, ...],
    builder: str,
    portage: str,
    pull: PullPolicy,
    build_cache: str,
    network: str | None,
    distfiles_cache: str,
    ssh: bool | None,
    netrc: bool | None,
    layers: int | None,
    sbom_path: Path | None,
    check: bool,
    compression: str,
    platform_text: str | None,
    urls: tuple[str, ...],
    authfile: Path | None,
    creds: str | None,
    tls_verify: bool,
    cert_dir: Path | None,
) -> None:
    """Build the image described by the spec."""
    spec = retag(load_spec(config_path), tag, version)
    for key in keys_with_passwords(spec):
        click.echo(
            f"staves: warning: {config_path}: {key} holds a password, which the build "
            "plan, the builder's command line and the log show; use --netrc instead",
            err=True,
        )
    jobs = jobs or os.cpu_count() or 1
    platforms = parse_platforms(platform_text) or spec.platforms or (Platform.host(),)
    services = parse_service_urls(urls, platforms)
    spec = dataclasses.replace(spec, platforms=platforms)
    if dry_run:
        render = dry_run_json if output_format == "json" else dry_run_text
        click.echo(render(spec, jobs, outputs), nl=False)
        return
    outputs = outputs or (f"containers-storage:{spec.image.reference}",)
    environ = dict(os.environ)
    destinations = parse_destinations(outputs)
    check_single_platform_destinations(destinations, platforms, Platform.host())
    request = BuildRequest(
        plan=build_plan(spec, jobs),
        config=built_image_config(spec),
        name=image_name(spec.image),
        annotations=image_annotations(spec.image),
        builder=BuilderSettings(
            builder,
            portage,
            build_cache,
            network,
            pull=pull,
            distfiles_volume=distfiles_cache,
            credentials=builder_credentials(environ, ssh, netrc),
        ),
        destinations=destinations,
        compression=Compression(compression),
        platforms=platforms,
        epoch=source_date_epoch(environ),
        services=services,
        layers=layers or spec.layers,
        vdb=spec.vdb,
        sbom_path=sbom_path,
        check=check,
        spec_file=config_path,
    )
    push = pusher_from_cli(creds, authfile, tls_verify, cert_dir)
    image = build(request, environ, push)
    click.echo(image.manifest.digest)


# Podman's rule for volume names.
_VOLUME_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")


def volume_name(option: str, value: str) -> str:
    if not _VOLUME_NAME.fullmatch(value):
        raise _usage(
            option,
            f"{value!r} is not a volume name",
            "letters, digits, '_', '.' and '-', starting with a letter or digit",
        )
    return value


def retag(spec: Spec, tag: str | None, version: str | None) -> Spec:
    """Apply ``--tag NAME[:TAG]`` and ``--version V`` to the spec's image reference."""
    if version is not None and not IMAGE_TAG.fullmatch(version):
        raise _usage("--version", f"{version!r} is not an image tag", TAG_HINT)
    name = None
    if tag is not None:
        if (wrong := reference_problem(tag)) is not None:
            raise _usage("--tag", *wrong)
        name, tag_version = split_reference(tag)
        if tag_version is not None:
            if version is not None and version != tag_version:
                raise _usage("--tag", "gives a tag and so does --version", "give the tag once")
            version = tag_version
    return spec.retagged(name=name, version=version)


def _usage(key: str, problem: str, hint: str) -> StavesError:
    return StavesError(problem, key=key, hint=hint, exit_code=EXIT_USAGE)
