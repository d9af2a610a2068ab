"""Options shared by the commands that write images."""

from collections.abc import Callable
from typing import Any

import click

from oci.compress import Compression


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
