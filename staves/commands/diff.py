"""``staves diff A B``: what changed between two images, with diff(1)'s exit status."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from oci.errors import OciError
from staves.commands.registry_options import registry_options, source_access
from staves.commands.report_output import emit, output_option
from staves.errors import StavesError
from staves.images.diff import diff_images, render_diff_text
from staves.images.html import render_diff_html
from staves.images.listing import ImageContents, read_image_contents
from staves.images.sources import SourceAccess, open_source, parse_source_arg

# As diff(1): 0 the same, 1 different, 2 trouble (bad input and failures alike).
EXIT_SAME, EXIT_DIFFERENT, EXIT_TROUBLE = 0, 1, 2


def _read(text: str, key: str, access: SourceAccess) -> ImageContents:
    # The source is parsed inside _troubles: a bad one is trouble too.
    with (
        _troubles(f"reading {text}: "),
        open_source(parse_source_arg(text, key), access) as image,
    ):
        return read_image_contents(image)


@contextmanager
def _troubles(context: str) -> Iterator[None]:
    """Every failure as one line with exit status 2, as diff(1) has it."""
    try:
        yield
    except StavesError as exc:
        exc.exit_code = EXIT_TROUBLE
        raise
    except (OciError, OSError) as exc:
        where = f"{exc.filename}: " if isinstance(exc, OSError) and exc.filename else ""
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise StavesError(f"{context}{where}{detail}", exit_code=EXIT_TROUBLE) from exc


@click.command("diff")
@click.argument("a", metavar="A")
@click.argument("b", metavar="B")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "html"]),
    default="text",
    show_default=True,
    help="html: a self-contained page, B's treemap coloured by what changed.",
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

    A and B take the sources `staves inspect` reads. Exit status as diff(1): 0 if they are
    the same image, 1 if they differ, 2 on trouble.
    """
    with _troubles(""):
        access = source_access(platform, url, creds, authfile, tls_verify, cert_dir)
    old, new = _read(a, "A", access), _read(b, "B", access)
    result = diff_images(a, old, b, new)
    with _troubles(f"writing {output}: "):
        if output_format == "json":
            emit(json.dumps(result.to_dict(), indent=2, sort_keys=True) + "\n", output)
        elif output_format == "html":
            emit(render_diff_html(result, new), output)
        else:
            emit(render_diff_text(result), output)
    ctx.exit(EXIT_SAME if result.same else EXIT_DIFFERENT)
