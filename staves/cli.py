"""Command line entry point: argv, environment and clock live here, nowhere else."""

import click

from staves import __version__
from staves.commands.build import build


@click.group()
@click.version_option(__version__, prog_name="staves")
def main() -> None:
    """Build tiny container images with Gentoo's Portage."""


main.add_command(build)
