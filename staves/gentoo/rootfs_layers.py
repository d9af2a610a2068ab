"""The builder's root filesystem into the image's layers, as the installed packages say.

The one entry point the build calls: it plans the layers from the package database read
beforehand, then reads the root filesystem stream once and writes every layer.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from oci.compress import Compression
from oci.layer import Layer
from oci.layer_cache import LayerCache
from oci.split import GroupSpec, GroupWriter, split_stream
from staves.gentoo.debug_split import (
    DEBUG_GROUP,
    DebugLayer,
    DebugSplit,
    debug_writers,
    split_digests,
)
from staves.gentoo.layer_keys import layer_keys
from staves.gentoo.layering import DEFAULT_LAYERS, LayerGroup, LayerPlan, VdbMode, plan_layers
from staves.gentoo.vdb import InstalledPackage

# Digests of every regular file, for the SBOM (SPDX requires SHA-1 per file).
FILE_HASHES = ("sha1", "sha256")


@dataclass(frozen=True)
class PackedRootfs:
    layers: tuple[Layer, ...]  # in image order
    groups: tuple[LayerGroup, ...]  # the group of each layer
    plan: LayerPlan
    # Path (no leading slash) → {"sha1": hex, "sha256": hex}, when asked for.
    file_digests: Mapping[str, Mapping[str, str]]
    repacked: int = 0  # layers compressed anew (the others came from the layer cache)
    # A debug build's debug information, split out of the image (split_debug).
    debug: DebugLayer | None = None

    @property
    def history(self) -> tuple[str, ...]:
        """One ``created_by`` per layer, for build_image's ``history``."""
        return tuple(group.history for group in self.groups)


def pack_rootfs(
    stream: BinaryIO,
    packages: Sequence[InstalledPackage],
    *,
    layers: int = DEFAULT_LAYERS,
    vdb: VdbMode | str = VdbMode.TRIM,
    blob_dir: Path,
    compression: Compression = Compression.GZIP,
    epoch: int | None = None,
    strip_components: int = 1,
    digest_files: bool = True,
    root_links: Mapping[str, str] | None = None,
    layer_cache: LayerCache | None = None,
    split_debug: bool = False,
) -> PackedRootfs:
    """Split the root filesystem tar ``stream`` (Podman's archive: top directory stripped)
    into at most ``layers`` layers in ``blob_dir``; with a ``layer_cache``, layers whose
    content it holds are not compressed again. With ``split_debug``, the debug trees go to
    a debug layer of their own (``PackedRootfs.debug``), not the image's layers."""
    plan = plan_layers(packages, layers, VdbMode(vdb), epoch, root_links)
    digests: dict[str, Mapping[str, str]] = {}
    routing: LayerPlan | DebugSplit = DebugSplit(plan, epoch) if split_debug else plan
    new_writer = None
    if layer_cache is not None:
        keys = layer_keys(plan, packages, str(compression), root_links)
        repacked_before = layer_cache.repacked

        def new_writer(name: str, spec: GroupSpec) -> GroupWriter:
            return layer_cache.writer(keys[name], blob_dir, compression, spec.annotations)

    if isinstance(routing, DebugSplit):
        new_writer = debug_writers(routing, new_writer, blob_dir, compression)
    written = split_stream(
        stream,
        routing.assign,
        routing.group_specs(),
        blob_dir,
        compression,
        strip_components=strip_components,
        clamp_mtime=epoch,
        fallback=routing.fallback,
        keep=routing.keep,
        rewrite=routing.rewrite,
        file_hashes=FILE_HASHES if digest_files else (),
        on_file=(lambda name, found: digests.__setitem__(name, found)) if digest_files else None,
        new_writer=new_writer,
    )
    groups = tuple(g for g in plan.groups if g.name in written)
    repacked = len(groups)
    if layer_cache is not None:
        repacked = layer_cache.repacked - repacked_before
    image_digests, debug_digests = split_digests(digests)
    debug = None
    if DEBUG_GROUP in written:
        debug = DebugLayer(written[DEBUG_GROUP], debug_digests)
    layers_written = tuple(written[g.name] for g in groups)
    return PackedRootfs(layers_written, groups, plan, image_digests, repacked, debug)
