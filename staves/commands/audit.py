"""``staves audit SOURCE``: the image's packages against Gentoo's security advisories."""

import json
import os
from pathlib import Path

import click

from staves.commands.options import format_option
from staves.commands.registry_options import (
    layer_limit_options,
    registry_options,
    source_access,
)
from staves.commands.report_output import emit, output_option
from staves.commands.troubles import troubles
from staves.errors import StavesError
from staves.gentoo.glsa import GLSA_DIR, Advisory
from staves.podman.builder_container import PullPolicy, ensure_image, podman_step
from staves.podman.service import podman_client
from staves.progress.reporter import current
from staves.reports.audit import (
    EXIT_AFFECTED,
    EXIT_CLEAN,
    EXIT_TROUBLE,
    audit_image,
    render_audit_text,
)
from staves.sources.snapshot_data import advisories_in_dir, advisories_in_image
from staves.sources.transports import open_source, parse_source_arg

DEFAULT_PORTAGE = "docker.io/gentoo/portage:latest"


def load_advisories(
    glsa_dir: Path | None, portage: str, pull: PullPolicy, url: str | None
) -> list[Advisory]:
    """The advisories of ``--glsa-dir``, else of the snapshot image's metadata/glsa."""
    if glsa_dir is not None:
        advisories, problems = advisories_in_dir(glsa_dir)
        where = str(glsa_dir)
    else:
        with podman_client(url, dict(os.environ)) as client, podman_step("reading " + portage):
            ensure_image(client, portage, pull, current().stream())
            advisories, problems = advisories_in_image(client, portage)
        where = f"{portage}'s {GLSA_DIR}"
    for problem in problems:
        current().warn(f"skipping advisory {problem}")
    if not advisories:
        raise StavesError(
            f"{where} holds no GLSA advisories",
            key="--glsa-dir" if glsa_dir is not None else "--portage",
            hint="a Gentoo snapshot carries them in metadata/glsa; --glsa-dir DIR reads a "
            "directory of glsa-*.xml files",
        )
    return advisories


@click.command("audit")
@click.argument("source")
@click.option(
    "--glsa-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Read the advisories from this directory of glsa-*.xml files instead.",
)
@click.option(
    "--portage",
    default=DEFAULT_PORTAGE,
    show_default=True,
    metavar="IMAGE",
    help="The Portage snapshot image whose metadata/glsa is read.",
)
@click.option(
    "--pull",
    type=click.Choice(["missing", "always", "never"]),
    default="missing",
    show_default=True,
    help="When to pull the snapshot image, as podman run --pull.",
)
@format_option()
@output_option
@click.option(
    "--platform",
    metavar="OS/ARCH[/VARIANT]",
    help="Which image of a multi-platform index to audit (default: this host's).",
)
@click.option(
    "--url", metavar="URL", help="Podman API URL, for the snapshot and containers-storage:."
)
@registry_options
@layer_limit_options
@click.pass_context
def audit(
    ctx: click.Context,
    source: str,
    glsa_dir: Path | None,
    portage: str,
    pull: PullPolicy,
    output_format: str,
    output: Path | None,
    platform: str | None,
    url: str | None,
    authfile: Path | None,
    creds: str | None,
    tls_verify: bool,
    cert_dir: Path | None,
) -> None:
    """Check the packages of the image SOURCE against Gentoo's security advisories (GLSAs).

    SOURCE takes the sources `staves inspect` reads. The advisories come from the
    Portage snapshot image (--portage) or from --glsa-dir. Prints each advisory that
    applies with the package, its installed version, the affected and the fixed
    versions. Exit status: 0 when none applies, 1 when one does, 2 on trouble.
    """
    with troubles("", EXIT_TROUBLE):
        parsed = parse_source_arg(source)
        access = source_access(platform, url, creds, authfile, tls_verify, cert_dir)
        advisories = load_advisories(glsa_dir, portage, pull, url)
    with troubles(f"reading {source}: ", EXIT_TROUBLE), open_source(parsed, access) as opened:
        report = audit_image(source, opened, opened.image(), advisories)
    with troubles(f"writing {output}: ", EXIT_TROUBLE):
        if output_format == "json":
            emit(json.dumps(report.to_dict(), indent=2, sort_keys=True) + "\n", output)
        else:
            emit(render_audit_text(report), output)
    ctx.exit(EXIT_AFFECTED if report.findings else EXIT_CLEAN)
