"""``staves inspect SOURCE``: the packages and layers of an image."""

import json
from pathlib import Path

import click

from oci.errors import InvalidReference
from oci.layout_reader import find_image, open_layout
from oci.transport import OciArchiveDestination, OciLayoutDestination, parse_destination
from staves.errors import EXIT_USAGE, StavesError
from staves.image_report import image_report, render_text


def _source(text: str) -> tuple[Path, str | None, bool]:
    try:
        parsed = parse_destination(text)
    except InvalidReference as exc:
        raise StavesError(str(exc), key="SOURCE", exit_code=EXIT_USAGE) from exc
    if isinstance(parsed, OciLayoutDestination):
        return parsed.path, parsed.tag, False
    if isinstance(parsed, OciArchiveDestination):
        return parsed.path, parsed.tag, True
    raise StavesError(
        f"cannot inspect {text!r} yet",
        key="SOURCE",
        hint="give oci:DIR[:TAG] or oci-archive:FILE[:TAG]",
        exit_code=EXIT_USAGE,
    )


@click.command("inspect")
@click.argument("source")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
def inspect(source: str, output_format: str) -> None:
    """List the packages (version, USE, license, size) and layers of the image SOURCE.

    SOURCE is oci:DIR[:TAG] or oci-archive:FILE[:TAG]. Packages come from the SBOM
    attached to the image, or else from the package database kept in its layers.
    """
    path, tag, archive = _source(source)
    with open_layout(path, archive) as store:
        report = image_report(store, find_image(store, tag))
    if output_format == "json":
        click.echo(json.dumps(report.to_dict(), indent=2, sort_keys=True))
    else:
        click.echo(render_text(report), nl=False)
