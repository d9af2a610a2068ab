"""What the in-builder script leaves for the host in the builder: its last words when it
fails, the epoch it built with, the root's directory links, what the image was made from,
and the images the builder ran from.

Its files are read as hostile input: a package's install phases run as root in the builder
and could rewrite them. Each is read up to a bound and parsed by ``oci.document`` (size,
nesting), so that whatever they hold ends the build with one line naming the file."""

import tarfile
from typing import Any

from oci.document import load_json
from staves.builder.protocol import (
    EPOCH_FILE,
    ROOT_LINKS_FILE,
    SOURCES_FILE,
    TIMESTAMP_FILE,
)
from staves.errors import StavesError
from staves.gentoo.sbom import ImageInput
from staves.podman.builder_container import (
    BuilderSettings,
    archive_stream,
    archived_file_stream,
    image_digest,
)
from staves.podman.builder_output import RunResult
from staves.progress.reporter import current

# The most the host reads of each: the links are a few lines; the sources name every
# repository, package and distfile of the image.
MAX_ROOT_LINKS = 1 << 20
MAX_SOURCES = 64 << 20
MAX_EPOCH = 64  # digits


def failure_from(result: RunResult, log: str | None = None) -> StavesError:
    """One line naming what failed, from the in-builder program's last failure record, and
    where the whole of its output is (the build's log)."""
    what = result.failure.split(";")[0] if result.failure else None
    problem = what or "the build in the builder failed"
    hint = f"the whole log: {log}" if log else "-v shows the builder's output"
    return StavesError(f"{problem} (exit code {result.exit_code})", hint=hint, exit_code=1)


def read_epoch(client: Any, container: Any) -> int | None:
    """The epoch the in-builder script built with (SOURCE_DATE_EPOCH or the snapshot's
    timestamp.chk), from the builder."""
    with (
        archive_stream(client, container, EPOCH_FILE) as stream,
        tarfile.open(fileobj=stream, mode="r|") as tar,
    ):
        for info in tar:
            data = tar.extractfile(info)
            text = data.read(MAX_EPOCH + 1).decode(errors="replace").strip() if data else ""
            return int(text) if text.isdigit() and len(text) <= MAX_EPOCH else None
    return None


def warn_without_epoch(settings: BuilderSettings) -> None:
    current().warn(
        f"{settings.portage_image} has no {TIMESTAMP_FILE} and "
        "SOURCE_DATE_EPOCH is not set: two builds from scratch give different images"
    )


def read_root_links(client: Any, container: Any) -> dict[str, str]:
    """The root's directory symlinks no package lists (baselayout's ``/lib64``), which
    CONTENTS paths go through; none when the builder wrote no list."""
    try:
        with archived_file_stream(client, container, ROOT_LINKS_FILE) as stream:
            links = load_json(stream, f"the builder's {ROOT_LINKS_FILE}", MAX_ROOT_LINKS)
    except StavesError:  # not written
        return {}
    if not isinstance(links, dict):
        return {}
    return {str(k): str(v) for k, v in links.items() if isinstance(v, str)}


def read_sources(client: Any, container: Any, path: str = SOURCES_FILE) -> dict[str, Any]:
    """What the in-builder script recorded the image was made from (repositories,
    packages, distfiles); empty when it wrote nothing."""
    try:
        with archived_file_stream(client, container, path) as stream:
            sources = load_json(stream, f"the builder's {path}", MAX_SOURCES)
    except StavesError:  # not written
        return {}
    return sources if isinstance(sources, dict) else {}


def builder_inputs(client: Any, settings: BuilderSettings) -> tuple[ImageInput, ...]:
    """The builder and snapshot images the build ran from, with their repository digests,
    for the SBOM and the provenance."""
    builder = ImageInput(
        "builder",
        settings.builder_image,
        image_digest(client, settings.image_id or settings.builder_image),
    )
    snapshot = ImageInput(
        "snapshot", settings.portage_image, image_digest(client, settings.portage_image)
    )
    return builder, snapshot
