"""Where ``inspect`` and ``diff`` put what they show: stdout, or a file written atomically."""

from pathlib import Path

import click

from oci.files import atomic_write
from staves.progress.reporter import current


def output_option(command: click.decorators.FC) -> click.decorators.FC:
    return click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Write to FILE (replaced atomically) instead of stdout.",
    )(command)


def emit(text: str, output: Path | None) -> None:
    """``text`` to ``output``, or to stdout; a page half written never replaces a file."""
    # File names that are not UTF-8 come from tar as surrogates: shown as U+FFFD.
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    if output is None:
        click.echo(text, nl=False)
        return
    atomic_write(output, text.encode("utf-8"))
    current().wrote(str(output))
