"""One cache partition out of the volume and back: as a binhost directory
(``staves cache export DIR``), and as an OCI artifact in a registry (``--cache-to``,
``--cache-from``), one blob per binary package so that unchanged ones are never sent again.
"""

import tarfile
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from oci.bundle import BundleFile, build_bundle, bundle_layers, file_blob_from_stream
from oci.errors import OciError
from oci.registry import PushResult, Reference, RegistryError, RegistryOptions, push_image
from oci.registry.pull import open_registry_source
from staves.errors import EXIT_USAGE, StavesError
from staves.gentoo.binpkgs import ARTIFACT_TYPE, cache_file, is_binary_package
from staves.podman.archive_tar import drop_padding
from staves.podman.builder_container import (
    BuilderSettings,
    ensure_image,
    ensure_volume,
    podman_step,
)
from staves.podman.cache_volume import (
    Partition,
    indexed_partition,
    put_into_volume,
    read_partition,
    relative_to_volume,
    stream_directory,
)
from staves.podman.service import podman_client
from staves.progress.reporter import current

ANNOTATION_TITLE = "org.opencontainers.image.title"


@dataclass(frozen=True)
class CacheSource:
    """Where a build's binary packages go to or come from: a registry reference and its
    options."""

    reference: Reference
    options: RegistryOptions


def _extract_into(stream: IO[bytes], parent: Path, name: str) -> None:
    """Unpack a Podman archive of one directory (top entry ``name``) as ``parent/name``,
    replacing what was there only once the whole directory has arrived."""
    parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".staves-export-", dir=parent) as tmp:
        with tarfile.open(fileobj=stream, mode="r|") as tar:
            tar.extractall(tmp, filter="data")
        fresh, target = Path(tmp) / name, parent / name
        if not fresh.is_dir():
            fresh.mkdir()
        old = Path(tmp) / ".old"
        if target.exists():
            target.rename(old)
        fresh.rename(target)


def export_partition(
    client: Any, settings: BuilderSettings, plan: dict[str, Any], directory: Path
) -> Partition:
    """Write the plan's partition to ``directory`` as a binhost: ``KEY/builder`` and
    ``KEY/image-env-HASH``, each with Portage's ``Packages`` index."""
    with indexed_partition(client, settings, plan, current()) as (partition, container):
        for path in partition.directories:
            relative = Path(relative_to_volume(path))
            with stream_directory(client, container, path) as stream:
                _extract_into(stream, directory / relative.parent, relative.name)
    return partition


def export_to_directory(
    url: str | None,
    identity: str | None,
    environ: Mapping[str, str],
    settings: BuilderSettings,
    plan: dict[str, Any],
    directory: Path,
) -> list[tuple[str, int]]:
    """``staves cache export``: the partition into ``directory``; each directory written,
    relative to it, with the number of binary packages in it."""
    with podman_client(url, environ, identity) as client:
        with podman_step("preparing the builder"):
            for image in (settings.builder_image, settings.portage_image):
                ensure_image(client, image, settings.pull, current().stream())
            ensure_volume(client, settings.cache_volume)
            ensure_volume(client, settings.distfiles_volume, "distfiles-cache")
        partition = export_partition(client, settings, plan, directory)
    written = []
    for path in partition.directories:
        relative = relative_to_volume(path)
        count = sum(1 for p in (directory / relative).rglob("*") if is_binary_package(p.name))
        written.append((relative, count))
    return written


def _partition_files(
    client: Any, container: Any, partition: Partition, work: Path
) -> Iterator[BundleFile]:
    """The partition's binary packages (and environment records) as blobs in ``work``,
    each hashed while it streams out of the builder."""
    for path in partition.directories:
        relative = relative_to_volume(path)
        top = relative.rsplit("/", 1)[0]
        with (
            stream_directory(client, container, path) as stream,
            tarfile.open(fileobj=stream, mode="r|") as tar,
        ):
            for member in tar:
                kind = cache_file(f"{top}/{member.name}") if member.isreg() else None
                data = tar.extractfile(member) if kind is not None else None
                if kind is None or data is None:
                    continue
                blob = file_blob_from_stream(data, work / kind.path, kind.media_type)
                yield BundleFile(blob, kind.path, kind.annotations)


def push_cache(client: Any, container: Any, target: CacheSource) -> PushResult:
    """Push the partition of a finished builder to the registry as one artifact; blobs
    the registry has are not sent again."""
    partition = read_partition(client, container)
    with tempfile.TemporaryDirectory(prefix="staves-cache-to-") as work:
        files = list(_partition_files(client, container, partition, Path(work)))
        bundle = build_bundle(ARTIFACT_TYPE, files)
        try:
            result = push_image(bundle, [target.reference], target.options)
        except OciError as exc:
            raise StavesError(f"--cache-to docker://{target.reference}: {exc}") from exc
    current().event(
        f"cache pushed to docker://{target.reference}: {len(files)} files, "
        f"{result.uploaded_blobs} blobs uploaded ({result.uploaded_bytes} bytes), "
        f"{result.present_blobs} already there"
    )
    return result


def _cache_tar(source: Any, layers: Sequence[dict[str, Any]], archive: Path) -> int:
    """Write the pulled packages as a tar, paths relative to the volume; how many."""
    count = 0
    with tarfile.open(archive, "w") as tar:
        for layer in layers:
            title = str((layer.get("annotations") or {}).get(ANNOTATION_TITLE, ""))
            if cache_file(title) is None:
                continue  # not a path a partition holds: never written into the volume
            info = tarfile.TarInfo(title)
            info.size, info.mode, info.mtime = int(layer.get("size", 0)), 0o644, 0
            with source.open_blob(str(layer["digest"]), info.size) as data:
                tar.addfile(info, data)
            count += 1
    drop_padding(archive, tar)  # for Podman's archive PUT (staves.podman.archive_tar)
    return count


def fetch_cache(origin: CacheSource, archive: Path) -> int:
    """Pull the artifact's binary packages into the tar ``archive``; how many. A cache not
    pushed yet (the first run) is no error: this build fills it."""
    where = f"--cache-from docker://{origin.reference}"
    try:
        with open_registry_source(origin.reference, origin.options) as source:
            try:
                manifest, _ = source.manifest()
            except RegistryError as exc:
                if exc.status != 404:
                    raise
                current().event(f"{where}: no cache there yet")
                return 0
            try:
                layers = bundle_layers(manifest, ARTIFACT_TYPE)
            except ValueError as exc:
                raise StavesError(
                    f"{where}: {exc}",
                    key="--cache-from",
                    hint="name a cache --cache-to wrote",
                    exit_code=EXIT_USAGE,
                ) from None
            count = _cache_tar(source, layers, archive)
    except OciError as exc:
        raise StavesError(f"{where}: {exc}") from exc
    current().event(f"{where}: {count} files")
    return count


def fill_cache(client: Any, container: Any, archive: Path) -> None:
    """Copy the fetched packages into the volume of a builder not started yet."""
    with archive.open("rb") as data:
        put_into_volume(client, container, data)
