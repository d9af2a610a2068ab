"""Step 2, the built root: one run of the builder for one platform, its root packed into
layers as it streams out (never held whole), with what the image's SBOM and provenance
need from the builder."""

from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from oci.descriptor import Platform
from oci.image import created_time
from staves.build.accounts import check_user
from staves.build.advisories import refuse_advisories
from staves.build.debug_parts import DebugParts, read_debug_parts, wants_debug
from staves.build.records import (
    builder_inputs,
    failure_from,
    read_records,
    warn_without_epoch,
)
from staves.build.request import BuildRequest
from staves.caches.binpkg_cache import fill_cache, push_cache
from staves.gentoo.rootfs_layers import PackedRootfs, pack_rootfs
from staves.gentoo.sbom import ImageInput
from staves.gentoo.vdb import InstalledPackage
from staves.podman.builder_container import (
    ROOTFS_ARCHIVE,
    archived_file_stream,
    builder_container,
    podman_step,
)
from staves.podman.builder_output import run_to_end
from staves.progress.reporter import Progress, current


@dataclass(frozen=True)
class BuiltRoot:
    """One run of the builder: its packages, the layers packed from its root, its epoch."""

    packages: tuple[InstalledPackage, ...]
    packed: PackedRootfs
    epoch: int | None
    inputs: tuple[ImageInput, ...]
    root_links: Mapping[str, str] = field(default_factory=dict)
    # Gentoo license → SPDX from the snapshot's license-mapping.conf; None: the built-in table.
    license_table: Mapping[str, str] | None = None
    sources: Mapping[str, Any] = field(default_factory=dict)  # for the provenance
    debug: DebugParts | None = None  # a debug build's: what its debug image adds

    @property
    def created(self) -> datetime:
        """When the image was made: the epoch, else its newest file; never the clock."""
        return created_time(self.packed.layers, self.epoch)


def run_builder(
    client: Any,
    request: BuildRequest,
    plan: dict[str, Any],
    blob_dir: Path,
    platform: Platform,
    progress: Progress | None = None,
    cached: Path | None = None,
) -> BuiltRoot:
    """Run the plan in a new builder for ``platform`` and pack its root into layers in
    ``blob_dir``; with ``cached``, its packages go into the volume first; ``--cache-to``
    pushes them after. ``progress`` hears the builder's records and output."""
    progress = progress or current()
    with podman_step("running the builder"), ExitStack() as stack:
        with progress.phase("builder create", "creating the builder"):
            container = stack.enter_context(builder_container(client, request.builder, plan))
        if cached is not None:
            fill_cache(client, container, cached)
        with progress.phase("builder run", "starting the builder"):
            result = run_to_end(container, progress)
        if result.exit_code != 0:
            raise failure_from(result, str(progress.log_path) if progress.log_path else None)
        with progress.phase("read back", "reading the image root's package database"):
            records = read_records(client, container)
            check_user(records.accounts(), request.config.user, request.spec_file)
            epoch = records.epoch()
            if epoch is None:
                warn_without_epoch(request.builder)
            packages = records.packages
            if request.audit:
                refuse_advisories(client, container, packages, platform)
            license_table = records.license_table()
            root_links = records.root_links()
        progress.root_ready(packages)
        with (
            progress.phase("pack", "packing the layers"),
            archived_file_stream(client, container, ROOTFS_ARCHIVE) as stream,
        ):
            size = getattr(getattr(stream, "raw", None), "size", None)  # the tar member's
            reader = progress.reading(stream, "packing the layers", size)
            packed = pack_rootfs(
                reader,  # type: ignore[arg-type]
                packages,
                layers=request.layers,
                vdb=request.vdb,
                blob_dir=blob_dir,
                compression=request.compression,
                epoch=epoch,
                root_links=root_links,
                layer_cache=request.layer_cache,
                split_debug=wants_debug(request),
            )
            reader.finish()
        debug = None
        if wants_debug(request):
            with progress.phase("debug image layers", "packing the debug image's layers"):
                debug = read_debug_parts(
                    client, container, request, packed, packages, epoch, blob_dir
                )
        progress.packed(packed.repacked, len(packed.layers), sum(x.size for x in packed.layers))
        if request.cache_to is not None and not plan.get("discard_pkgdir"):
            push_cache(client, container, request.cache_to)
        inputs = builder_inputs(client, request.builder)
        sources = records.sources()
    return BuiltRoot(packages, packed, epoch, inputs, root_links, license_table, sources, debug)
