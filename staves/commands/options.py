"""Options shared by the commands that write images."""

from collections.abc import Callable
from typing import Any

import click

from oci.compress import Compression
from oci.descriptor import Platform
from oci.platforms import PlatformError, check_platform
from staves.errors import EXIT_USAGE, StavesError
from staves.gentoo.cpu_levels import PlatformProblem, parse_build_platforms
from staves.spec.names import reference_problem, split_reference

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def with_options(options: list[Decorator], command: Callable[..., Any]) -> Callable[..., Any]:
    """``command`` with ``options``, listed in the order ``--help`` shows them (as they
    would be stacked as decorators above it)."""
    for option in reversed(options):
        command = option(command)
    return command


def format_option(
    help_text: str | None = None, formats: tuple[str, ...] = ("text", "json")
) -> Decorator:
    """``--format`` (``output_format``): how a command prints its outcome; text first."""
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(list(formats)),
        default=formats[0],
        show_default=True,
        help=help_text,
    )


_COMPRESSION = click.option(
    "--compression",
    type=click.Choice([c.value for c in Compression]),
    default=Compression.GZIP.value,
    show_default=True,
    help="Layer compression.",
)


def image_output_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--compression``, ``--platform`` and ``--url`` (for containers-storage)."""
    return with_options(
        [
            _COMPRESSION,
            click.option(
                "--platform",
                "platform_text",
                metavar="OS/ARCH[/VARIANT]",
                help="The image's platform [this host's].",
            ),
            click.option(
                "--url",
                metavar="URL",
                help="Podman API URL [CONTAINER_HOST, then the usual sockets].",
            ),
        ],
        command,
    )


def build_output_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``staves build``'s: ``--compression``, ``--platform P[,P…]`` and ``--url``,
    repeatable, a URL for every platform or ``PLATFORM=URL`` for one."""
    return with_options(
        [
            _COMPRESSION,
            click.option(
                "--platform",
                "platform_text",
                metavar="OS/ARCH[/VARIANT][,…]",
                help="Platforms to build, one image each in one index "
                "[spec: platforms, else this host's].",
            ),
            click.option(
                "--url",
                "urls",
                metavar="[PLATFORM=]URL",
                multiple=True,
                help="Podman API URL [CONTAINER_HOST, then the usual sockets]; "
                "PLATFORM=URL builds that platform there. Repeatable.",
            ),
        ],
        command,
    )


def parse_platforms(text: str | None) -> tuple[Platform, ...] | None:
    """``--platform P[,P…]`` as given, or None when it was left out."""
    if not text:
        return None
    try:
        return parse_build_platforms(text.split(","))
    except PlatformProblem as exc:
        raise StavesError(
            str(exc), key="--platform", hint=exc.accepted, exit_code=EXIT_USAGE
        ) from exc


def parse_platform(text: str | None) -> Platform | None:
    """``--platform OS/ARCH[/VARIANT]`` as given (one of the OCI/Go values), or None when it
    was left out."""
    if not text:
        return None
    try:
        return check_platform(text)
    except PlatformError as exc:
        raise StavesError(
            exc.problem, key="--platform", hint=exc.accepted, exit_code=EXIT_USAGE
        ) from None


def parse_tag_option(text: str) -> tuple[str, str | None]:
    """``-t/--tag NAME[:TAG]`` as podman takes it: (name, tag or None). A colon before the
    last slash is a port's. The one reading of the option for every command."""
    if (wrong := reference_problem(text)) is not None:
        problem, accepted = wrong
        raise StavesError(problem, key="--tag", hint=accepted, exit_code=EXIT_USAGE)
    return split_reference(text)
