"""Live packages (``PROPERTIES=live``) in a built image: their sources come from an
upstream branch that moves without the spec changing, so the image records them
(``io.staves.live``) and carries no build key — a destination holding it never makes the
next build a no-op."""

from collections.abc import Mapping
from dataclasses import replace

from oci.descriptor import Platform
from staves.build.request import BuildRequest
from staves.build.root import BuiltRoot
from staves.caches.build_key import BUILD_KEY
from staves.progress.reporter import current

# Manifest annotation and config label: the image's live packages, CATEGORY/PF, by spaces.
LIVE = "io.staves.live"


def live_packages(roots: Mapping[Platform, BuiltRoot]) -> list[str]:
    """CATEGORY/PF of every live package the roots hold."""
    return sorted({p.key for root in roots.values() for p in root.packages if p.live})


def mark_live(request: BuildRequest, roots: Mapping[Platform, BuiltRoot]) -> BuildRequest:
    """The request whose image names its live packages and has no build key; as it was
    when it holds none."""
    live = live_packages(roots)
    if not live:
        return request
    current().event(f"live packages, built anew by every build: {' '.join(live)}")
    named = " ".join(live)
    labels = {k: v for k, v in request.config.labels.items() if k != BUILD_KEY}
    annotations = {k: v for k, v in request.annotations.items() if k != BUILD_KEY}
    return replace(
        request,
        config=replace(request.config, labels={**labels, LIVE: named}),
        annotations={**annotations, LIVE: named},
    )
