"""``staves build``: the spec's packages emerged in a builder container, packed as an image."""

import dataclasses
import functools
import os
from pathlib import Path

import click

from oci.compress import Compression
from oci.descriptor import Platform
from oci.registry import RegistryOptions
from staves.build.pipeline import build
from staves.build.request import BuildRequest
from staves.caches.layer_cache import layer_cache
from staves.commands.build_inputs import retag
from staves.commands.builder_options import builder_options, builder_settings, spec_option
from staves.commands.debug_options import debug_image_option, debug_settings, with_debug_image
from staves.commands.fleet_options import (
    cache_source,
    fleet_options,
    identity_option,
    with_binhosts,
    with_distcc,
)
from staves.commands.lock import lock_for_build, lock_settings
from staves.commands.options import build_output_options, format_option, parse_platforms
from staves.commands.pack import source_date_epoch
from staves.commands.registry_options import (
    build_registry_options,
    pusher_from_cli,
    pushes_to_registry,
    registry_options,
)
from staves.commands.result_options import (
    ResultFiles,
    check_targets,
    log_file_option,
    result_file_options,
)
from staves.commands.signing import check_key_file, sign_key_option, signing_from_cli
from staves.destinations.naming import image_annotations, image_name
from staves.destinations.outputs import parse_destinations
from staves.destinations.signing import check_signable
from staves.destinations.single_platform import check_single_platform_destinations
from staves.dryrun import dry_run_json, dry_run_text
from staves.errors import EXIT_USAGE, StavesError
from staves.gentoo.layering import MAX_LAYERS
from staves.gentoo.sbom import SbomFormat, parse_formats
from staves.podman.builder_container import PullPolicy
from staves.podman.service_map import parse_service_urls
from staves.spec import build_plan, load_spec
from staves.spec.plan import built_image_config
from staves.spec.secrets import keys_with_passwords


@click.command("build")
@spec_option()
@click.option("-t", "--tag", metavar="NAME[:TAG]", help="Image name and tag, overriding the spec.")
@click.option("--version", "version", metavar="V", help="Image tag, overriding the spec.")
@click.option("--dry-run", is_flag=True, help="Validate and show what would be done.")
@format_option("Dry-run output format.")
@click.option("--jobs", type=click.IntRange(min=1), help="Parallel make jobs [CPU count].")
@click.option(
    "-o",
    "--output",
    "outputs",
    multiple=True,
    metavar="DEST",
    help="Where to put the image [containers-storage:NAME:VERSION]; repeatable.",
)
@builder_options
@click.option(
    "--layers",
    type=click.IntRange(min=1, max=MAX_LAYERS),
    help="Layers to split the image into, one per package while they last [spec: layers].",
)
@click.option(
    "--sbom",
    "sbom_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the image's SBOM to this file (one file per --sbom-format when "
    "several: FILE.spdx.json, FILE.cdx.json).",
)
@click.option(
    "--sbom-format",
    "sbom_formats",
    type=click.Choice([f.value for f in SbomFormat]),
    multiple=True,
    help="SBOM format written with --sbom and attached to the image: spdx (SPDX 2.3 "
    "JSON) or cyclonedx (CycloneDX 1.6 JSON); repeat for both [default: spdx].",
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
@click.option(
    "--locked",
    is_flag=True,
    help="Fail unless staves.lock is up to date: resolving the current snapshot, builder "
    "and repositories must give it again (cargo's --locked; for CI).",
)
@debug_image_option
@log_file_option
@result_file_options
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
    ssh: str | None,
    no_ssh: bool,
    netrc: bool | None,
    layers: int | None,
    sbom_path: Path | None,
    sbom_formats: tuple[str, ...],
    check: bool,
    audit: bool,
    no_cache: bool,
    locked: bool,
    debug_image: bool,
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
    log_file: Path | None,
    metadata_file: Path | None,
    iidfile: Path | None,
) -> None:
    """Build the image described by the spec.

    --dry-run runs every check the build runs before it starts a container and prints
    the plan with the settings it would use.
    """
    spec = retag(load_spec(config_path), tag, version)
    spec = with_distcc(with_debug_image(spec, debug_image), distcc_hosts, no_distcc)
    for key in keys_with_passwords(spec):
        click.echo(
            f"staves: warning: {config_path}: {key} holds a password, which the build "
            "plan (a file in the builder) and the log show; use --netrc instead",
            err=True,
        )
    environ = dict(os.environ)
    jobs = jobs or os.cpu_count() or 1
    platforms = parse_platforms(platform_text) or spec.platforms or (Platform.host(),)
    services = parse_service_urls(urls, platforms)
    spec = dataclasses.replace(spec, platforms=platforms)
    outputs = outputs or (f"containers-storage:{spec.image.reference}",)
    destinations = parse_destinations(outputs)
    debug_used = debug_settings(spec, destinations)
    if sign_key is not None:
        check_signable(destinations)
        check_key_file(sign_key, environ)
    check_targets(sbom=sbom_path, metadata_file=metadata_file, iidfile=iidfile, log_file=log_file)
    epoch = source_date_epoch(environ)
    check_single_platform_destinations(destinations, platforms, Platform.host())
    if len(platforms) > 1 and (cache_to or cache_from):
        raise StavesError(
            "--cache-to/--cache-from hold one platform's binary packages",
            key="--platform",
            hint="build one platform at a time with the registry cache, or use [[binhosts]]",
            exit_code=EXIT_USAGE,
        )
    cache_registry = (
        build_registry_options(creds, authfile, tls_verify, cert_dir, environ)
        if cache_to or cache_from
        else RegistryOptions()
    )
    plan = with_binhosts(build_plan(spec, jobs), binhosts, getbinpkg)
    settings = builder_settings(
        spec,
        environ,
        builder=builder,
        portage=portage,
        pull=pull,
        build_cache=build_cache,
        network=network,
        distfiles_cache=distfiles_cache,
        ssh=ssh,
        no_ssh=no_ssh,
        netrc=netrc,
    )
    lock = lock_for_build(config_path, plan, platforms, locked)
    cache_from_source = cache_source("--cache-from", cache_from, cache_registry)
    cache_to_source = cache_source("--cache-to", cache_to, cache_registry)
    layers_cache = layer_cache(environ, no_cache)
    if dry_run:
        used = {
            "outputs": list(outputs),
            **debug_used,
            "builder": builder,
            "portage": portage,
            "pull": pull,
            "build_cache": build_cache,
            "distfiles_cache": distfiles_cache,
            "network": network or "podman's default",
            "compression": compression,
            "podman": [
                services.url_for(p)
                or environ.get("CONTAINER_HOST")
                or "CONTAINER_HOST, else the usual sockets"
                for p in platforms
            ],
            "shared_with_builder": list(settings.credentials.shared),
            "layer_cache": str(layers_cache.root) if layers_cache is not None else None,
            "epoch": epoch,
            "epoch_from": "SOURCE_DATE_EPOCH"
            if epoch is not None
            else "the snapshot's metadata/timestamp.chk",
            "binhosts": [host["uri"] for host in plan["binhosts"]],
            "getbinpkg": plan["getbinpkg"],
            "cache_from": cache_from,
            "cache_to": cache_to,
            "sign_key": str(sign_key) if sign_key is not None else None,
            "sbom_formats": [str(f) for f in parse_formats(sbom_formats)],
            **lock_settings(config_path, lock, locked),
        }
        render = dry_run_json if output_format == "json" else dry_run_text
        click.echo(render(spec, jobs, used), nl=False)
        return
    request = BuildRequest(
        plan=plan,
        config=built_image_config(spec),
        name=image_name(spec.image),
        annotations=image_annotations(spec.image),
        builder=settings,
        destinations=destinations,
        compression=Compression(compression),
        platforms=platforms,
        epoch=epoch,
        services=services,
        layers=layers or spec.layers,
        vdb=spec.vdb,
        sbom_path=sbom_path,
        sbom_formats=parse_formats(sbom_formats),
        check=check,
        spec_file=config_path,
        audit=audit,
        identity=identity,
        cache_from=cache_from_source,
        cache_to=cache_to_source,
        signing=signing_from_cli(sign_key, creds, authfile, tls_verify, cert_dir),
        no_cache=no_cache,
        layer_cache=layers_cache,
        lock=lock,
        locked=locked,
        registry=functools.cache(
            lambda: build_registry_options(creds, authfile, tls_verify, cert_dir, environ)
        ),
    )
    push = pusher_from_cli(
        creds, authfile, tls_verify, cert_dir, ask_now=pushes_to_registry(destinations)
    )
    results = ResultFiles(metadata_file, iidfile, log_file)
    outcome = results.run(environ, request.name.reference, lambda: build(request, environ, push))
    if outcome.digest is not None:
        click.echo(outcome.digest)
