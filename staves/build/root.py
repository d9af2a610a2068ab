"""Step 2, the built root: one run of the builder for one platform, its root packed into
layers as it streams out (never held whole), with what the image's SBOM and provenance
need from the builder."""

import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from oci.descriptor import Platform
from oci.image import created_time
from staves.build.accounts import check_user
from staves.build.advisories import refuse_advisories
from staves.build.debug_parts import DebugParts, read_debug_parts, wants_debug
from staves.build.records import (
    builder_inputs,
    failure_from,
    read_epoch,
    read_root_links,
    read_sources,
    warn_without_epoch,
)
from staves.build.request import BuildRequest
from staves.caches.binpkg_cache import fill_cache, push_cache
from staves.gentoo.layering import VDB_DIR
from staves.gentoo.rootfs_layers import PackedRootfs, pack_rootfs
from staves.gentoo.sbom import ImageInput
from staves.gentoo.vdb import InstalledPackage, read_vdb_tar
from staves.podman.builder_container import (
    ROOTFS_ARCHIVE,
    archive_stream,
    archived_file_stream,
    builder_container,
    builder_root,
    podman_step,
)
from staves.podman.builder_output import run_to_end
from staves.sources.snapshot_data import license_table_in


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


@contextmanager
def phase(name: str, output: TextIO) -> Iterator[None]:
    """Say how long a fixed cost of the build took (``scripts/bench-*`` print them)."""
    start = time.monotonic()
    yield
    print(f"staves: phase {name}: {time.monotonic() - start:.2f} s", file=output, flush=True)


def run_builder(
    client: Any,
    request: BuildRequest,
    plan: dict[str, Any],
    blob_dir: Path,
    platform: Platform,
    output: TextIO = sys.stderr,
    cached: Path | None = None,
) -> BuiltRoot:
    """Run the plan in a new builder for ``platform`` and pack its root into layers in
    ``blob_dir``; with ``cached``, its packages go into the volume first; ``--cache-to``
    pushes them after."""
    with podman_step("running the builder"), ExitStack() as stack:
        # Timed from the moment the builder is left until it is gone.
        removal = stack.enter_context(ExitStack())
        with phase("builder create (program and plan copied in)", output):
            container = stack.enter_context(builder_container(client, request.builder, plan))
        stack.callback(lambda: removal.enter_context(phase("builder removal", output)))
        if cached is not None:
            fill_cache(client, container, cached)
        with phase("builder run (container start included)", output):
            result = run_to_end(container, output)
        if result.exit_code != 0:
            raise failure_from(result)
        with phase("read back (accounts, epoch, package database)", output):
            root = builder_root(client, container)
            check_user(client, container, request.config.user, request.spec_file, root)
            epoch = read_epoch(client, container)
            if epoch is None:
                warn_without_epoch(request.builder)
            with archive_stream(client, container, f"{root}/{VDB_DIR}") as stream:
                packages = read_vdb_tar(stream, strip_components=1)
            if request.audit:
                refuse_advisories(client, container, packages, platform)
            license_table = license_table_in(client, container)
            root_links = read_root_links(client, container)
        with (
            phase("stream out and pack", output),
            archived_file_stream(client, container, ROOTFS_ARCHIVE) as stream,
        ):
            packed = pack_rootfs(
                stream,
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
        debug = None
        if wants_debug(request):
            with phase("debug image layers", output):
                debug = read_debug_parts(
                    client, container, request, packed, packages, epoch, blob_dir
                )
        print(
            f"staves: layers repacked: {packed.repacked} of {len(packed.layers)}",
            file=output,
            flush=True,
        )
        if request.cache_to is not None and not plan.get("discard_pkgdir"):
            push_cache(client, container, request.cache_to)
        inputs = builder_inputs(client, request.builder)
        sources = read_sources(client, container)
    return BuiltRoot(packages, packed, epoch, inputs, root_links, license_table, sources, debug)
