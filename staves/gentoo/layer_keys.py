"""What each planned layer is expected to hold, as a key for the layer cache: pure.

A package's layer is made of its binary package alone (see ``staves.gentoo.layering``), so
its key is the binary package's identity as the package database records it — CPV, the
``BUILD_ID`` binpkg-multi-instance gives every binary package, and the files CONTENTS
lists with their MD5s (the same whether the package was just compiled or merged from the
binary package; ``BINPKGMD5`` is recorded only in the second case) — and the layer
settings: compression, the layer's time, the vdb mode, the root's directory links. The
other layers (what no package owns, or several packages share) are keyed by their kind,
the settings and the packages' names: the cache checks every prediction against the tar
itself (``oci.layer_cache``), so a key only has to be right most of the time.
"""

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from staves.gentoo.layering import LayerGroup, LayerPlan
from staves.gentoo.vdb import InstalledPackage

_SCHEMA = 1


def package_identity(package: InstalledPackage) -> dict[str, Any]:
    """The binary package a database entry was merged from, as far as the entry says."""
    contents = hashlib.sha256()
    for entry in package.contents:
        line = f"{entry.kind} {entry.path} {entry.md5 or ''} {entry.target or ''}\n"
        contents.update(line.encode())
    return {
        "cpv": package.key,
        "build_id": package.build_id,
        "slot": package.slot,
        "use": list(package.use),
        "size": package.size,
        "contents": contents.hexdigest(),
    }


def layer_keys(
    plan: LayerPlan,
    packages: Sequence[InstalledPackage],
    compression: str,
    root_links: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Group name → cache key, for every group of the plan."""
    by_key = {p.key: p for p in packages}
    settings = {
        "schema": _SCHEMA,
        "compression": compression,
        "vdb": str(plan.vdb),
        "root_links": dict(sorted((root_links or {}).items())),
    }
    return {group.name: _key(group, by_key, settings) for group in plan.groups}


def _key(
    group: LayerGroup, packages: Mapping[str, InstalledPackage], settings: Mapping[str, Any]
) -> str:
    if group.kind == "package":
        members: list[Any] = [package_identity(packages[k]) for k in group.packages]
    else:
        members = sorted(group.packages) or sorted(packages)
    document = {**settings, "kind": group.kind, "mtime": group.mtime, "members": members}
    return "layer:" + json.dumps(document, sort_keys=True, separators=(",", ":"))
