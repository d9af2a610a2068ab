"""Turning a :class:`StavesError` into its message lines and exit code."""

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from staves.errors import StavesError


@contextmanager
def reported_errors() -> Iterator[None]:
    """Print a StavesError (one line per mistake) to stderr and exit with its code."""
    try:
        yield
    except StavesError as error:
        click.echo(str(error), err=True)
        sys.exit(error.exit_code)
