"""Command line entry point: argv, environment and clock live here, nowhere else."""

import logging
import signal
import sys
from typing import Any

import click

from oci.errors import InvalidReference, OciError
from staves import __version__
from staves.commands.audit import audit
from staves.commands.build import build_command
from staves.commands.cache import cache
from staves.commands.diff import diff
from staves.commands.index import index
from staves.commands.inspect import inspect
from staves.commands.pack import pack
from staves.commands.signing import generate_key_pair_command, sign
from staves.errors import EXIT_FAILURE, EXIT_USAGE, StavesError

EXIT_INTERRUPTED = 130


class _Group(click.Group):
    """Turns Staves' errors into one line on stderr and an exit code."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        # Click's own usage errors would be three lines (usage, a hint, the error).
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except click.exceptions.Abort:  # Ctrl-C or end of input at a password prompt
            click.echo("staves: interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except click.ClickException as exc:
            ctx = getattr(exc, "ctx", None)
            see = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            click.echo(f"staves: error: {exc.format_message()}{see}", err=True)
            sys.exit(exc.exit_code)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        debug = bool(ctx.params.get("debug"))
        try:
            return super().invoke(ctx)
        except (StavesError, OciError) as exc:
            if debug:
                raise
            # Spec errors start with the file they are about; others say who speaks.
            located = isinstance(exc, StavesError) and exc.file
            click.echo(str(exc) if located else f"staves: error: {exc}", err=True)
            code = exc.exit_code if isinstance(exc, StavesError) else EXIT_FAILURE
            if isinstance(exc, InvalidReference):
                code = EXIT_USAGE
            sys.exit(code)
        except OSError as exc:
            # Where no step put it into words: a path that cannot be made, read or written.
            if debug:
                raise
            where = f"{exc.filename}: " if exc.filename else ""
            click.echo(f"staves: error: {where}{exc.strerror or exc}", err=True)
            sys.exit(EXIT_FAILURE)
        except KeyboardInterrupt:
            click.echo("staves: interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="staves")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs.")
@click.option("-v", "--verbose", is_flag=True, help="Log what is written where.")
def main(debug: bool, verbose: bool) -> None:
    """Build tiny container images with Gentoo's Portage."""
    # A terminated build, or one whose terminal went away, unwinds like Ctrl-C, so its
    # containers are removed.
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_interrupt)
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="staves: %(message)s", stream=sys.stderr)


main.add_command(pack)
main.add_command(build_command)
main.add_command(inspect)
main.add_command(diff)
main.add_command(audit)
main.add_command(cache)
main.add_command(index)
main.add_command(sign)
main.add_command(generate_key_pair_command)
