"""``staves build`` as its list of steps, each taking and returning values (apko's options
→ locked config → layers → image → index; ko's Build → Result → Publish):

request → plan per platform (held to staves.lock) → reused, or → built root per platform
(checked against the lock, its live packages marked) → image, SBOM and provenance per
platform → result (the image, or the index of the images; and the debug image's, when
asked for) → published → signed. What varies lives in the step's own module: a new
attestation is a module beside ``sbom`` and ``provenance``, a new destination a writer in
``staves.destinations``.
"""

import tempfile
from collections.abc import Mapping
from pathlib import Path

from staves.build.debug_image import debug_images
from staves.build.image import image_of
from staves.build.live import mark_live
from staves.build.locked import check_built, hold_to_lock
from staves.build.plans import plan_platforms
from staves.build.provenance import provenance_of
from staves.build.publish import publish
from staves.build.request import BuildOutcome, BuildRequest
from staves.build.result import assemble
from staves.build.reuse import reuse
from staves.build.roots import build_roots
from staves.build.sbom import sbom_of, write_sbom_files
from staves.build.services import connect
from staves.build.sign import sign
from staves.destinations.registry import Pusher


def build(request: BuildRequest, environ: Mapping[str, str], push: Pusher | None) -> BuildOutcome:
    """Build every platform, each on its service, and write the image (one platform) or
    the index of the platforms' images to every destination; nothing when every
    destination holds this build already."""
    with (
        connect(request, environ) as services,
        tempfile.TemporaryDirectory(prefix="staves-build-") as tmp,
    ):
        work = Path(tmp)
        plans = plan_platforms(request, services)
        request, plans = hold_to_lock(request, plans, services)
        reused = reuse(request, plans, services, push, work)
        if isinstance(reused, BuildOutcome):
            return reused  # every destination holds this build, or was given a copy
        request = reused  # its image records its build key; for the destinations lacking it
        roots = build_roots(request, plans, services, work)
        check_built(request, roots)
        request = mark_live(request, roots)
        images = {p: image_of(request, root, p) for p, root in roots.items()}
        sboms = {p: sbom_of(request, roots[p], image) for p, image in images.items()}
        provenance = {p: provenance_of(request, roots[p], image) for p, image in images.items()}
        result = assemble(request, images, sboms, provenance)
        debug = debug_images(request, roots, images)  # None: no debug image asked for
        write_sbom_files(request, sboms)
        digest = publish(result, request, services.storage, push)
        sign(result, request)
        if debug is not None:
            publish(debug.result, debug.request, services.storage, push)
            sign(debug.result, debug.request)
    return BuildOutcome(digest, result.published)
