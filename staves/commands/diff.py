"""``staves diff A B``: what changed between two images, with diff(1)'s exit status."""

import json
from pathlib import Path

import click

from staves.commands.lock_diff import diff_with_lock, is_lock_argument, render
from staves.commands.options import format_option
from staves.commands.registry_options import (
    layer_limit_options,
    registry_options,
    source_access,
)
from staves.commands.report_output import emit, output_option
from staves.commands.troubles import troubles
from staves.reports.diff import diff_images, render_diff_text
from staves.reports.diff_html import render_diff_html
from staves.sources.listing import ImageContents, read_image_contents
from staves.sources.transports import SourceAccess, open_source, parse_source_arg

# As diff(1): 0 the same, 1 different, 2 trouble (bad input and failures alike).
EXIT_SAME, EXIT_DIFFERENT, EXIT_TROUBLE = 0, 1, 2


def _read(text: str, key: str, access: SourceAccess) -> ImageContents:
    # The source is parsed inside troubles: a bad one is trouble too.
    with (
        troubles(f"reading {text}: ", EXIT_TROUBLE),
        open_source(parse_source_arg(text, key), access) as image,
    ):
        return read_image_contents(image)


@click.command("diff")
@click.argument("a", metavar="A")
@click.argument("b", metavar="B")
@format_option(
    "html: a self-contained page, B's treemap coloured by what changed.",
    formats=("text", "json", "html"),
)
@output_option
@click.option(
    "--platform",
    metavar="OS/ARCH[/VARIANT]",
    help="Which image of multi-platform indexes to compare (default: this host's).",
)
@click.option(
    "--url", metavar="URL", help="Podman API URL, for containers-storage: (default: search)."
)
@registry_options
@layer_limit_options
@click.pass_context
def diff(
    ctx: click.Context,
    a: str,
    b: str,
    output_format: str,
    output: Path | None,
    platform: str | None,
    url: str | None,
    authfile: Path | None,
    creds: str | None,
    tls_verify: bool,
    cert_dir: Path | None,
) -> None:
    """Show what changed from image A to image B: packages added, removed and changed
    (version, USE, license, size), layers shared and not, and the size change.

    A and B take the sources `staves inspect` reads, or a lock file (NAME.lock): two locks
    compare their inputs and each platform's packages, a lock and an image the packages
    of the image's platform. Exit status as diff(1): 0 if they are the same, 1 if they
    differ, 2 on trouble.
    """
    with troubles("", EXIT_TROUBLE):
        access = source_access(platform, url, creds, authfile, tls_verify, cert_dir)
    if is_lock_argument(a) or is_lock_argument(b):
        with troubles("", EXIT_TROUBLE):
            changes = diff_with_lock(a, b, lambda text, key: _read(text, key, access))
            emit(render(changes, output_format), output)
        ctx.exit(EXIT_SAME if changes.same else EXIT_DIFFERENT)
    old, new = _read(a, "A", access), _read(b, "B", access)
    result = diff_images(a, old, b, new)
    with troubles(f"writing {output}: ", EXIT_TROUBLE):
        if output_format == "json":
            emit(json.dumps(result.to_dict(), indent=2, sort_keys=True) + "\n", output)
        elif output_format == "html":
            emit(render_diff_html(result, new), output)
        else:
            emit(render_diff_text(result), output)
    ctx.exit(EXIT_SAME if result.same else EXIT_DIFFERENT)
