"""Choosing the image for a platform out of an index: the same rule for every source."""

from collections.abc import Mapping
from typing import Any

from oci.descriptor import Platform
from oci.media import INDEX_TYPES


def pick_platform(index: Mapping[str, Any], wanted: Platform) -> Mapping[str, Any] | None:
    """The index entry for ``wanted``: same os and architecture; with a variant wanted,
    that variant, else one that names none."""
    matches = [
        entry
        for entry in index.get("manifests", [])
        if entry.get("mediaType") not in INDEX_TYPES
        and not entry.get("artifactType")
        and (
            (entry.get("platform") or {}).get("os"),
            (entry.get("platform") or {}).get("architecture"),
        )
        == (wanted.os, wanted.architecture)
    ]
    if wanted.variant is not None:
        exact = [e for e in matches if e["platform"].get("variant") == wanted.variant]
        matches = exact or [e for e in matches if not e["platform"].get("variant")]
    return matches[0] if matches else None


def platform_names(index: Mapping[str, Any]) -> str:
    """The platforms an index offers, for an error that says none matched."""
    names = []
    for entry in index.get("manifests", []):
        plat = entry.get("platform") or {}
        if plat.get("os") and plat.get("architecture"):
            names.append(
                "/".join(p for p in (plat["os"], plat["architecture"], plat.get("variant")) if p)
            )
    return ", ".join(sorted(set(names))) or "none"
