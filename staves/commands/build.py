"""``staves build``: the spec's packages emerged in a builder container, packed as an image."""

import dataclasses
import functools
import os
import re
from pathlib import Path

import click

from oci.compress import Compression
from oci.descriptor import Platform
from oci.registry import RegistryOptions
from staves.build import BuildRequest, build
from staves.commands.caching import layer_cache
from staves.commands.fleet_options import (
    cache_source,
    fleet_options,
    identity_option,
    with_binhosts,
    with_distcc,
)
from staves.commands.options import build_output_options, parse_platforms
from staves.commands.pack import source_date_epoch
from staves.commands.registry_options import (
    build_registry_options,
    pusher_from_cli,
    registry_options,
)
from staves.commands.signing import sign_key_option, signing_from_cli
from staves.dryrun import dry_run_json, dry_run_text
from staves.errors import EXIT_USAGE, StavesError
from staves.gentoo.layering import MAX_LAYERS
from staves.images.meta import image_annotations, image_name
from staves.images.outputs import parse_destinations
from staves.images.signing import check_signable
from staves.images.single_platform import check_single_platform_destinations
from staves.podman.builder_access import builder_credentials
from staves.podman.builder_container import BuilderSettings, PullPolicy
from staves.podman.service import is_remote
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
@click.option(
    "--no-cache",
    is_flag=True,
    help="Build even when every destination already holds an image of this build "
    "(its build key), and repack every layer.",
)
@click.option(
    "--audit",
    is_flag=True,
    help="Fail, before any output is written, if a GLSA of the Portage snapshot affects "
    "a package the image would ship.",
)
@build_output_options
@sign_key_option
@registry_options
@fleet_options
@identity_option
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
    audit: bool,
    no_cache: bool,
    compression: str,
    platform_text: str | None,
    urls: tuple[str, ...],
    sign_key: Path | None,
    authfile: Path | None,
    creds: str | None,
    tls_verify: bool,
    cert_dir: Path | None,
    binhosts: tuple[str, ...],
    getbinpkg: bool | None,
    cache_to: str | None,
    cache_from: str | None,
    distcc_hosts: tuple[str, ...],
    no_distcc: bool,
    identity: str | None,
) -> None:
    """Build the image described by the spec."""
    spec = with_distcc(retag(load_spec(config_path), tag, version), distcc_hosts, no_distcc)
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
    destinations = parse_destinations(outputs)
    if sign_key is not None:
        check_signable(destinations)
    environ = dict(os.environ)
    check_single_platform_destinations(destinations, platforms, Platform.host())
    if len(platforms) > 1 and (cache_to or cache_from):
        raise StavesError(
            "--cache-to/--cache-from hold one platform's binary packages",
            key="--platform",
            hint="build one platform at a time with the registry cache, or use [[binhosts]]",
            exit_code=EXIT_USAGE,
        )
    service_urls = [services.url_for(p) or environ.get("CONTAINER_HOST") for p in platforms]
    if any(is_remote(u) for u in service_urls):  # their paths are the remote's: ask
        ssh, netrc = bool(ssh), bool(netrc)
    cache_registry = (
        build_registry_options(creds, authfile, tls_verify, cert_dir, environ)
        if cache_to or cache_from
        else RegistryOptions()
    )
    request = BuildRequest(
        plan=with_binhosts(build_plan(spec, jobs), binhosts, getbinpkg),
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
        audit=audit,
        identity=identity,
        cache_from=cache_source("--cache-from", cache_from, cache_registry),
        cache_to=cache_source("--cache-to", cache_to, cache_registry),
        signing=signing_from_cli(sign_key, creds, authfile, tls_verify, cert_dir),
        no_cache=no_cache,
        layer_cache=layer_cache(environ, no_cache),
        registry=functools.cache(
            lambda: build_registry_options(creds, authfile, tls_verify, cert_dir, environ)
        ),
    )
    push = pusher_from_cli(creds, authfile, tls_verify, cert_dir)
    outcome = build(request, environ, push)
    if outcome.digest is not None:
        click.echo(outcome.digest)


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
