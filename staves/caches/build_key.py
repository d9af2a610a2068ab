"""The build key: one digest over everything that determines an image ``staves build`` makes.

Two builds with the same key give the same image (the builds being reproducible), so a
destination already holding an image with the key needs nothing written. The key covers
the rendered build plan, the builder's and the snapshot's image IDs, the layer split, the
package database mode, the compression, the platform, the image config and annotations,
the epoch and Staves' version. Not covered, because they do not change the image: the
make jobs (``--jobs``), the distcc helpers, the cache volumes, the credentials and the destinations.

A ``[[repositories]]`` entry is synced from a branch, whose head moves without the spec
changing: a plan with one has no key, and its builds are never skipped — unless a lock
pins it to a commit (the plan's ``pins``, which the key covers).
"""

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from oci.descriptor import Platform
from oci.image import ImageConfig
from staves import __version__

# Under the namespace of Staves' other annotations and labels (io.staves.packages, …).
BUILD_KEY = "io.staves.build-key"
# Bumped when what the key covers changes meaning.
_KEY_SCHEMA = 1
# Plan entries that do not shape the image: make's parallelism, and the distcc helpers
# (each runs the builder's compiler version, so the objects are the same; checked first).
_NOT_SHAPING = frozenset({"jobs", "distcc"})


@dataclass(frozen=True)
class KeyInputs:
    """What a build key is computed from, besides the plan."""

    builder_id: str  # the builder image's ID (its config digest) in local storage
    snapshot_id: str  # the Portage snapshot image's ID
    config: ImageConfig
    annotations: Mapping[str, str]
    layers: int
    vdb: str
    compression: str
    platform: Platform
    epoch: int | None


def unpinned_repositories(plan: Mapping[str, Any]) -> list[str]:
    """The repositories the plan syncs that no lock pins to a commit: each follows a
    branch."""
    pins = plan.get("pins") or {}
    return [str(name) for name in plan.get("sync", []) if name not in pins]


def build_key(plan: Mapping[str, Any], inputs: KeyInputs) -> str | None:
    """The key of the image this plan builds; None when a synced repository makes the
    result depend on when it is built."""
    if unpinned_repositories(plan):
        return None
    document = {
        "schema": _KEY_SCHEMA,
        "staves": __version__,
        "plan": {k: v for k, v in sorted(plan.items()) if k not in _NOT_SHAPING},
        "builder": inputs.builder_id,
        "snapshot": inputs.snapshot_id,
        "config": inputs.config.to_dict(),
        "annotations": dict(sorted(inputs.annotations.items())),
        "layers": inputs.layers,
        "vdb": inputs.vdb,
        "compression": inputs.compression,
        "platform": str(inputs.platform),
        "epoch": inputs.epoch,
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def with_build_key(config: ImageConfig, key: str) -> ImageConfig:
    """The config with the key as a label too: a docker-archive and Podman's storage keep
    the config but not the manifest's annotations."""
    return replace(config, labels={**config.labels, BUILD_KEY: key})
