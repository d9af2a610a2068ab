"""The options every command takes (``--debug``, ``-v/--verbose``, ``-q/--quiet``,
``--progress``), before or after the command's name as podman's global options, and the one
wording of command-line mistakes."""

import logging
from collections.abc import Iterator
from typing import TypeVar

import click

from staves.progress.choice import CHOICE, MODES, reset

DEBUG_KEY = "staves.debug"
_C = TypeVar("_C", bound=click.Command)


def _debug(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        ctx.find_root().meta[DEBUG_KEY] = True
        logging.getLogger().setLevel(logging.DEBUG)


def _verbose(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        CHOICE.verbose = True
        if not ctx.find_root().meta.get(DEBUG_KEY):
            logging.getLogger().setLevel(logging.INFO)


def _quiet(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        CHOICE.quiet = True


def _progress(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        CHOICE.progress = value


def _options() -> list[click.Option]:
    # Not exposed to the commands' functions: they act on logging and on error display.
    return [
        click.Option(
            ["--debug"],
            is_flag=True,
            expose_value=False,
            callback=_debug,
            help="Show tracebacks and debug logs.",
        ),
        click.Option(
            ["-v", "--verbose"],
            is_flag=True,
            expose_value=False,
            callback=_verbose,
            help="Log what is written where; stream the builder's own output (emerge's).",
        ),
        click.Option(
            ["-q", "--quiet"],
            is_flag=True,
            expose_value=False,
            callback=_quiet,
            help="Print the result (the digest) and errors only; --progress quiet.",
        ),
        click.Option(
            ["--progress"],
            type=click.Choice(MODES),
            expose_value=False,
            callback=_progress,
            help="How to show progress on stderr: auto (tty on a terminal, else plain), "
            "tty (a live view), plain (a line per event, no escape codes), quiet.  [default: auto]",
        ),
    ]


def reset_global_options() -> None:
    """Forget what an earlier command line in this process asked for."""
    reset()


def global_options(command: _C) -> _C:
    """Give ``command`` the global options (those it does not have already)."""
    taken = {opt for param in command.params for opt in param.opts}
    command.params.extend(o for o in _options() if not taken & set(o.opts))
    return command


def leaf_commands(group: click.Group) -> Iterator[click.Command]:
    """Every command that runs something, below ``group`` (``cache export``, not ``cache``)."""
    for command in group.commands.values():
        if isinstance(command, click.Group):
            yield from leaf_commands(command)
        else:
            yield command


def usage_message(exc: click.ClickException) -> str:
    """A click usage error as Staves words every mistake: ``WHAT: WHY; WHAT IS ACCEPTED``,
    then where the help is."""
    ctx = getattr(exc, "ctx", None)
    see = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
    if isinstance(exc, click.NoSuchOption):
        hint = ""
        if exc.possibilities:
            hint = "; did you mean " + " or ".join(sorted(exc.possibilities)) + "?"
        return f"{exc.option_name}: no such option{hint}{see}"
    if isinstance(exc, click.MissingParameter) and exc.param is not None:
        return f"{_param_name(exc.param, ctx)}: missing; it is required{see}"
    if isinstance(exc, click.BadParameter) and exc.param is not None:
        return f"{_param_name(exc.param, ctx)}: {exc.message.rstrip('.')}{see}"
    if isinstance(exc, click.BadOptionUsage):
        return f"{exc.option_name}: {exc.message.rstrip('.')}{see}"
    if isinstance(exc, click.UsageError) and exc.message.startswith("No such command"):
        name = exc.message.split("'")[1] if "'" in exc.message else exc.message
        return f"{name}: no such command{see}"
    return f"{exc.format_message().rstrip('.')}{see}"


def _param_name(param: click.Parameter, ctx: click.Context | None) -> str:
    if isinstance(param, click.Option):
        return max(param.opts, key=len)
    return (param.human_readable_name or param.name or "").upper()
