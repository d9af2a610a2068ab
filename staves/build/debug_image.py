"""The debug image (``debug`` in the spec, ``--debug-image``): from the very build that made
the image, the image's layers — every one, so that every digest is shared — and then its
own: the debug information split out of the root (``/usr/lib/debug``, ``/usr/src/debug``)
and the debug packages (a shell, a debugger). Written beside the image to every
destination as ``TAG-debug``, with its own SBOM (listing the debug packages too) and
provenance, signed and attested like the image."""

import dataclasses
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from oci.descriptor import Platform
from oci.image import Image, build_image
from staves.build.debug_parts import wants_debug
from staves.build.provenance import provenance_of
from staves.build.request import BuildOutcome, BuildRequest
from staves.build.result import Result, assemble
from staves.build.root import BuiltRoot
from staves.build.sbom import sbom_of
from staves.caches.held import lacking
from staves.destinations.debug_names import debug_destinations, debug_image_name

# The debug image's manifest names the image it debugs.
DEBUG_OF = "io.staves.debug-of"


@dataclass(frozen=True)
class DebugBuild:
    """What the build publishes besides the image: the debug image (or index) and the
    request that writes it (the debug name and destinations)."""

    request: BuildRequest
    result: Result


def debug_request(request: BuildRequest) -> BuildRequest:
    """The image's request, turned to the debug image: its name, its destinations."""
    return dataclasses.replace(
        request,
        name=debug_image_name(request.name),
        destinations=debug_destinations(request.destinations, request.name),
        sbom_path=None,
    )


def debug_view(root: BuiltRoot) -> BuiltRoot:
    """The built root as the debug image holds it: every package (the debug packages'
    too), every file's digest (the debug layers' too), what they were made from."""
    assert root.debug is not None
    digests = dict(root.packed.file_digests)
    for layer in root.debug.layers:
        digests.update(layer.file_digests)
    packed = dataclasses.replace(root.packed, file_digests=digests)
    sources = root.sources if root.debug.sources is None else root.debug.sources
    return dataclasses.replace(root, packages=root.debug.packages, packed=packed, sources=sources)


def debug_image_of(request: BuildRequest, root: BuiltRoot, image: Image) -> Image:
    """The image's layers and history, then the debug image's own."""
    assert root.debug is not None
    return build_image(
        (*root.packed.layers, *(part.layer for part in root.debug.layers)),
        request.config,
        created=root.created,
        platform=image.platform,
        annotations={**request.annotations, DEBUG_OF: image.manifest.digest},
        history=(*root.packed.history, *root.debug.history),
    )


def debug_images(
    request: BuildRequest, roots: Mapping[Platform, BuiltRoot], images: Mapping[Platform, Image]
) -> DebugBuild | None:
    """Each platform's debug image with its SBOM and provenance, as the image's are made;
    None when the build makes no debug image."""
    if not wants_debug(request):
        return None
    debug = debug_request(request)
    views = {p: debug_view(roots[p]) for p in images}
    made = {p: debug_image_of(debug, roots[p], image) for p, image in images.items()}
    sboms = {p: sbom_of(debug, views[p], made[p]) for p in made}
    provenance = {p: provenance_of(debug, views[p], made[p]) for p in made}
    return DebugBuild(debug, assemble(debug, made, sboms, provenance))


def reuse_with_debug(
    client: Any, request: BuildRequest, key: str, platform: Platform
) -> BuildOutcome | BuildRequest:
    """An unchanged build is done when every destination holds both the image and its
    debug image; else everything is built again (from the binary packages) and written,
    so that the two always come from one build."""
    missing, digest = lacking(
        key, request.destinations, request.name, platform, client, request.registry
    )
    debug = debug_request(request)
    debug_missing, _ = lacking(
        key, debug.destinations, debug.name, platform, client, request.registry
    )
    if missing or debug_missing or request.sbom_path is not None:
        return request
    print(
        "staves: unchanged: every destination holds this build and its debug image "
        f"({key[:19]}); no container started (--no-cache builds anyway)",
        file=sys.stderr,
        flush=True,
    )
    return BuildOutcome(digest, None)
