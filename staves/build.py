"""``staves build`` as a flat list of steps: plan → builder → rootfs layer → image → outputs."""

import logging
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oci.compress import Compression
from oci.descriptor import Platform
from oci.image import Image, ImageConfig, build_image, created_time
from oci.layer import write_layer
from oci.tarball import retar_stream
from oci.transport import Destination
from staves.builder_container import (
    BuilderSettings,
    builder_container,
    ensure_image,
    ensure_volume,
    rootfs_stream,
    run_to_end,
)
from staves.errors import StavesError
from staves.outputs import ImageName, write_outputs
from staves.podman_service import podman_client
from staves.storage import load_image

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildRequest:
    """Everything a build needs, already validated."""

    plan: dict[str, Any]
    config: ImageConfig
    name: ImageName
    annotations: Mapping[str, str]
    builder: BuilderSettings
    destinations: Sequence[Destination]
    compression: Compression
    platform: Platform
    epoch: int | None
    url: str | None


def build(request: BuildRequest, environ: Mapping[str, str]) -> Image:
    with (
        podman_client(request.url, environ) as client,
        tempfile.TemporaryDirectory(prefix="staves-build-") as work,
    ):
        ensure_image(client, request.builder.builder_image)
        ensure_image(client, request.builder.portage_image)
        ensure_volume(client, request.builder.cache_volume)
        with builder_container(client, request.builder, request.plan) as container:
            code = run_to_end(container, sys.stderr)
            if code != 0:
                raise StavesError(
                    f"the build in the builder failed with exit code {code}",
                    exit_code=code if code < 126 else 1,
                )
            with rootfs_stream(client, container) as stream:
                layer = write_layer(
                    retar_stream(stream, strip_components=1, clamp_mtime=request.epoch),
                    Path(work) / "blobs",
                    request.compression,
                )
        image = build_image(
            [layer],
            request.config,
            created=created_time([layer], request.epoch),
            platform=request.platform,
            annotations=request.annotations,
            history=[f"staves build: emerge {' '.join(request.plan.get('packages', []))}"],
        )
        write_outputs(
            image,
            request.destinations,
            request.name,
            lambda img, name: load_image(client, img, name),
        )
    return image
