"""What a debug build leaves for its debug image besides the image's layers: the debug
information split out of the root (packed with the root, ``PackedRootfs.debug``) and, with
``[debug] packages``, their layer and the package database of the root they were merged
into, read out of the builder."""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from staves.build.records import read_sources
from staves.build.request import BuildRequest
from staves.builder.protocol import DEBUG_PACKAGES_ARCHIVE, DEBUG_ROOT, DEBUG_SOURCES_FILE
from staves.gentoo.debug_split import DebugLayer, pack_debug_packages
from staves.gentoo.layering import VDB_DIR
from staves.gentoo.rootfs_layers import PackedRootfs
from staves.gentoo.vdb import InstalledPackage, read_vdb_tar
from staves.podman.builder_container import archive_stream, archived_file_stream


@dataclass(frozen=True)
class DebugParts:
    """The debug image's own layers, in order (the debug information, the debug packages;
    either may be missing), and every package it holds."""

    layers: tuple[DebugLayer, ...]
    history: tuple[str, ...]
    packages: tuple[InstalledPackage, ...]
    sources: Mapping[str, Any] | None = None  # of the debug packages' root; None: the image's


def wants_debug(request: BuildRequest) -> bool:
    """Whether the build makes a debug image (the spec's ``debug``, ``--debug-image``)."""
    return bool(request.plan.get("debug"))


def debug_packages_of(request: BuildRequest) -> list[str]:
    return list((request.plan.get("debug") or {}).get("packages") or [])


def read_debug_parts(
    client: Any,
    container: Any,
    request: BuildRequest,
    packed: PackedRootfs,
    packages: tuple[InstalledPackage, ...],
    epoch: int | None,
    blob_dir: Path,
) -> DebugParts:
    """The debug image's layers after the image's: ``packed``'s debug information, then
    the debug packages' layer packed from the builder's tar of what they added."""
    layers, history = [], []
    if packed.debug is not None:
        layers.append(packed.debug)
        history.append("staves: debug information (/usr/lib/debug, /usr/src/debug)")
    if not debug_packages_of(request):
        return DebugParts(tuple(layers), tuple(history), packages)
    with archive_stream(client, container, f"{DEBUG_ROOT}/{VDB_DIR}") as stream:
        everything = read_vdb_tar(stream, strip_components=1)
    image_keys = {p.key for p in packages}
    added = tuple(p for p in everything if p.key not in image_keys)
    with archived_file_stream(client, container, DEBUG_PACKAGES_ARCHIVE) as stream:
        layer = pack_debug_packages(
            stream,
            added,
            vdb=request.vdb,
            blob_dir=blob_dir,
            compression=request.compression,
            epoch=epoch,
        )
    if layer is not None:
        layers.append(layer)
        history.append("staves: debug image packages " + " ".join(p.key for p in added))
    sources = read_sources(client, container, DEBUG_SOURCES_FILE)
    return DebugParts(tuple(layers), tuple(history), everything, sources)
