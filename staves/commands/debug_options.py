"""``--debug-image``: a debug image beside the image, as the spec's ``debug`` asks for."""

import dataclasses
from collections.abc import Sequence
from typing import Any

import click

from oci.transport import Destination
from staves.destinations.debug_names import debug_destinations, destination_text
from staves.destinations.naming import image_name
from staves.spec import Spec
from staves.spec.model import Debug

debug_image_option = click.option(
    "--debug-image",
    is_flag=True,
    help="Also write a debug image, NAME:TAG-debug, to every destination: the image's "
    "layers and its packages' debug information (splitdebug) [spec: debug].",
)


def with_debug_image(spec: Spec, debug_image: bool) -> Spec:
    """The spec, with a debug image when ``--debug-image`` asks and the spec has none."""
    if debug_image and spec.debug is None:
        return dataclasses.replace(spec, debug=Debug())
    return spec


def debug_settings(spec: Spec, destinations: Sequence[Destination]) -> dict[str, Any]:
    """Where the debug image goes (checked now: a tag too long for ``-debug``, a
    destination naming a digest), for the dry run; nothing without one."""
    if spec.debug is None:
        return {}
    found = debug_destinations(destinations, image_name(spec.image))
    return {"debug_outputs": [destination_text(dest) for dest in found]}
