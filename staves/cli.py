"""Command line entry point: argv, environment and clock live here, nowhere else."""

import importlib
import logging
import os
import signal
import sys
from typing import Any

import click

from oci.errors import InvalidContent, InvalidReference, OciError
from staves import __version__
from staves.commands.completion import COMPLETE_VARIABLE
from staves.commands.global_options import (
    DEBUG_KEY,
    global_options,
    leaf_commands,
    reset_global_options,
    usage_message,
)
from staves.errors import EXIT_FAILURE, EXIT_USAGE, StavesError, error_line

EXIT_INTERRUPTED = 130

# Each command's module, imported when the command line names it: `staves build` does not
# load what audit, signing or the registry client need (a third of a second per run).
COMMANDS = {
    "pack": "staves.commands.pack:pack",
    "build": "staves.commands.build:build_command",
    "lock": "staves.commands.lock:lock_command",
    "inspect": "staves.commands.inspect:inspect",
    "diff": "staves.commands.diff:diff",
    "audit": "staves.commands.audit:audit",
    "cache": "staves.commands.cache:cache",
    "index": "staves.commands.index:index",
    "sign": "staves.commands.signing:sign",
    "generate-key-pair": "staves.commands.signing:generate_key_pair_command",
    "completion": "staves.commands.completion:completion",
}


def _load(where: str) -> click.Command:
    """The command at ``module:attribute``, with the global options on every leaf."""
    module, attribute = where.split(":")
    command: click.Command = getattr(importlib.import_module(module), attribute)
    leaves = leaf_commands(command) if isinstance(command, click.Group) else [command]
    for leaf in leaves:
        global_options(leaf)
    return command


class _Group(click.Group):
    """Turns Staves' errors into one line on stderr and an exit code; loads each command's
    module when it is first asked for (``COMMANDS``)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            self.add_command(_load(COMMANDS[cmd_name]), cmd_name)
        return self.commands.get(cmd_name)

    def main(self, *args: Any, **kwargs: Any) -> Any:
        argv = list(args[0] if args else kwargs.get("args") or sys.argv[1:])
        # Bare `staves`, as bare `podman`: the help, and success (unless a shell is asking
        # for completions, which come without arguments).
        if not argv and COMPLETE_VARIABLE not in os.environ:
            with click.Context(self, info_name="staves") as ctx:
                click.echo(ctx.get_help())
            sys.exit(0)
        # Click's own usage errors would be three lines (usage, a hint, the error).
        kwargs["standalone_mode"] = False
        kwargs.setdefault("prog_name", "staves")  # also when run as python -m staves
        reset_global_options()  # the options of this command line alone
        try:
            code = super().main(*args, **kwargs)
        except click.exceptions.Abort:  # Ctrl-C or end of input at a password prompt
            click.echo("staves: interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except click.ClickException as exc:
            click.echo(f"staves: error: {usage_message(exc)}", err=True)
            sys.exit(exc.exit_code)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (StavesError, OciError) as exc:
            if ctx.meta.get(DEBUG_KEY):
                raise
            click.echo(error_line(exc), err=True)
            code = exc.exit_code if isinstance(exc, StavesError) else EXIT_FAILURE
            if isinstance(exc, InvalidReference | InvalidContent):  # bad input, as usage
                code = EXIT_USAGE
            sys.exit(code)
        except OSError as exc:
            # Where no step put it into words: a path that cannot be made, read or written.
            if ctx.meta.get(DEBUG_KEY):
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
def main() -> None:
    """Build tiny container images with Gentoo's Portage."""
    # A terminated build, or one whose terminal went away, unwinds like Ctrl-C, so its
    # containers are removed.
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_interrupt)
    logging.basicConfig(level=logging.WARNING, format="staves: %(message)s", stream=sys.stderr)


# --debug and --verbose go before or after the command, as podman's global options do
# (on each command as it loads: ``_load``).
global_options(main)
