"""``--check-reproducible``, a check of the built root: a second build from scratch must
give the same layers, or each differing file is named with its package."""

import uuid
from typing import Any

from oci.compare import compare_entries, layer_entries
from staves.build.root import BuiltRoot
from staves.errors import StavesError
from staves.gentoo.reproducible import by_package, describe
from staves.podman.builder_container import BINPKG_PATH
from staves.progress.reporter import current


def check_plan(plan: dict[str, Any]) -> dict[str, Any]:
    """The plan again, building from scratch: a new binary-package directory of its own in
    the cache volume, removed when the build ends."""
    fresh = f"{BINPKG_PATH}/check-{uuid.uuid4().hex[:12]}"
    # From scratch means compiled here: nothing fetched from binhosts either.
    return {**plan, "pkgdir": fresh, "discard_pkgdir": True, "getbinpkg": False}


def check_reproducible(first: BuiltRoot, second: BuiltRoot) -> None:
    """Fail, naming every differing file by package, unless both builds gave the same
    layers."""
    if [layer.digest for layer in first.packed.layers] == [
        layer.digest for layer in second.packed.layers
    ]:
        current().event("reproducible: a build from scratch gave the same layers")
        return
    differences = compare_entries(
        layer_entries(first.packed.layers), layer_entries(second.packed.layers)
    )
    groups = by_package(differences, first.packages, first.root_links)
    lines = describe(groups) or ["every entry is the same; the layers are split otherwise"]
    current().failure([f"staves: differs: {line}" for line in lines])
    where = ", ".join(group.package for group in groups) or "the layers"
    raise StavesError(
        f"not reproducible: a build from scratch differs in {len(differences)} paths ({where})",
        hint="the paths are listed above; no output was written",
        exit_code=1,
    )
