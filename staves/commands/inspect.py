"""``staves inspect SOURCE``: the packages and layers of an image, from any transport."""

import json
from pathlib import Path

import click

from staves.commands.registry_options import (
    layer_limit_options,
    registry_options,
    source_access,
)
from staves.commands.report_output import emit, output_option
from staves.gentoo.sbom import SbomFormat
from staves.reports.html import render_inspect_html
from staves.reports.inspect_text import render_text
from staves.sources.image_sbom import image_sbom_bytes, pretty
from staves.sources.listing import read_image_contents
from staves.sources.packages import image_report
from staves.sources.transports import open_source, parse_source_arg


@click.command("inspect")
@click.argument("source")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "html", *(f.value for f in SbomFormat)]),
    default="text",
    show_default=True,
    help="html: a self-contained page with a treemap of bytes by layer and package; "
    "spdx, cyclonedx: the image's SBOM (the one attached, else made from its layers).",
)
@output_option
@click.option(
    "--platform",
    metavar="OS/ARCH[/VARIANT]",
    help="Which image of a multi-platform index to read (default: this host's).",
)
@click.option(
    "--url", metavar="URL", help="Podman API URL, for containers-storage: (default: search)."
)
@registry_options
@layer_limit_options
def inspect(
    source: str,
    output_format: str,
    output: Path | None,
    platform: str | None,
    url: str | None,
    authfile: Path | None,
    creds: str | None,
    tls_verify: bool,
    cert_dir: Path | None,
) -> None:
    """List the packages (version, USE, license, size) and layers of the image SOURCE.

    SOURCE is oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:NAME:TAG],
    docker://[HOST/]REPO[:TAG|@DIGEST] or containers-storage:NAME[:TAG]. Packages come
    from the SBOM attached to the image, or else from the package database kept in its
    layers. Where SOURCE names a multi-platform index, the image for --platform is read.
    --format html reads every layer (headers only) for the files and their owners;
    --format spdx or cyclonedx writes the image's SBOM in that format: the one attached to
    it, else one made from the package database and the files in its layers.
    """
    parsed = parse_source_arg(source)
    access = source_access(platform, url, creds, authfile, tls_verify, cert_dir)
    with open_source(parsed, access) as image:
        if output_format == "html":
            emit(render_inspect_html(source, read_image_contents(image)), output)
            return
        if output_format in {f.value for f in SbomFormat}:
            data = image_sbom_bytes(image, source, SbomFormat(output_format), source)
            emit(pretty(data), output)
            return
        report = image_report(image)
    if output_format == "json":
        emit(json.dumps(report.to_dict(), indent=2, sort_keys=True) + "\n", output)
    else:
        emit(render_text(report), output)
