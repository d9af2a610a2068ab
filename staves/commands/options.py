"""Options shared by the commands that write images."""

from collections.abc import Callable
from typing import Any

import click

from oci.compress import Compression
from oci.descriptor import Platform
from oci.errors import InvalidReference
from staves.errors import EXIT_USAGE, StavesError


def image_output_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--compression``, ``--platform`` and ``--url`` (for containers-storage)."""
    for option in reversed(
        [
            click.option(
                "--compression",
                type=click.Choice([c.value for c in Compression]),
                default=Compression.GZIP.value,
                show_default=True,
                help="Layer compression.",
            ),
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
        ]
    ):
        command = option(command)
    return command


def parse_platform(text: str | None) -> Platform | None:
    """``--platform OS/ARCH[/VARIANT]`` as given, or None when it was left out."""
    if not text:
        return None
    try:
        return Platform.parse(text)
    except InvalidReference as exc:
        raise StavesError(str(exc), key="--platform", exit_code=EXIT_USAGE) from exc
