"""Single-file image archives: ``oci-archive`` (a tarred OCI layout) and ``docker-archive``
(the format of ``docker save``, loadable by ``podman load`` and ``docker load``).

The archive is written to a temporary file and renamed, so a failure leaves nothing behind.
"""

import tarfile
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from oci.artifact import Artifact
from oci.blob import Blob, BytesBlob, canonical_json
from oci.descriptor import Descriptor
from oci.digest import hex_of
from oci.files import atomic_output
from oci.image import ANNOTATION_REF_NAME, Image
from oci.index import Publishable
from oci.layout import ARTIFACTS_DIR, INDEX_FILE, LAYOUT_FILE, LAYOUT_VERSION, with_manifest
from oci.media import MediaType

_COPY_BUFSIZE = 1 << 20


def _add_bytes(out: tarfile.TarFile, name: str, data: bytes) -> None:
    _add_blob(out, name, BytesBlob(data, "application/octet-stream"))


def _add_blob(out: tarfile.TarFile, name: str, blob: Blob) -> None:
    # Fixed owner, mode and time: the archive depends only on the image.
    info = tarfile.TarInfo(name)
    info.size = blob.size
    info.mode = 0o644
    with blob.open() as data:
        out.addfile(info, data)


def _add_dir(out: tarfile.TarFile, name: str) -> None:
    # Readers that unpack the archive (syft's) create no parent directories themselves.
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    out.addfile(info)


def _tar_writer(out: BinaryIO) -> tarfile.TarFile:
    tar = tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT)  # noqa: SIM115
    tar.copybufsize = _COPY_BUFSIZE
    return tar


def write_oci_archive(
    image: Publishable, path: Path, tag: str | None = None, referrers: Sequence[Artifact] = ()
) -> Descriptor:
    """Write ``image`` (an image or an index) as a tar of an OCI layout; the artifacts
    attached to it go into the layout's ``artifacts`` layout, as ``oci:`` keeps them."""
    with atomic_output(path) as out:
        return oci_archive_to(out, image, tag, referrers)


def oci_archive_to(
    out: BinaryIO, image: Publishable, tag: str | None = None, referrers: Sequence[Artifact] = ()
) -> Descriptor:
    """Write the oci-archive of ``image`` (its artifacts in the ``artifacts`` layout) to
    ``out``."""
    entry = image.descriptor({ANNOTATION_REF_NAME: tag} if tag else None)
    empty = {"schemaVersion": 2, "mediaType": MediaType.OCI_INDEX, "manifests": []}
    index = with_manifest(empty, entry, tag)
    listed = empty
    for artifact in referrers:
        listed = with_manifest(listed, artifact.descriptor(), None)
    blobs: dict[str, Blob] = {}
    for blob in (image.manifest, *image.blobs()):
        blobs.setdefault(blob.digest, blob)
    attached: dict[str, Blob] = {}
    for artifact in referrers:
        for blob in (artifact.manifest, *artifact.blobs()):
            attached.setdefault(blob.digest, blob)
    with _tar_writer(out) as tar:
        _add_layout(tar, "", index, blobs)
        if referrers:
            _add_layout(tar, f"{ARTIFACTS_DIR}/", listed, attached)
    return entry


def _add_layout(
    tar: tarfile.TarFile, prefix: str, index: dict[str, object], blobs: dict[str, Blob]
) -> None:
    if prefix:
        _add_dir(tar, prefix)
    _add_bytes(tar, prefix + LAYOUT_FILE, canonical_json(LAYOUT_VERSION))
    _add_bytes(tar, prefix + INDEX_FILE, canonical_json(index))
    _add_dir(tar, f"{prefix}blobs/")
    _add_dir(tar, f"{prefix}blobs/sha256/")
    for digest, blob in blobs.items():
        _add_blob(tar, f"{prefix}blobs/sha256/{hex_of(digest)}", blob)


def docker_manifest(image: Image, repo_tags: Sequence[str]) -> list[dict[str, object]]:
    """The ``manifest.json`` of a docker-archive holding ``image``."""
    return [
        {
            "Config": f"{hex_of(image.config.digest)}.json",
            "RepoTags": list(repo_tags),
            "Layers": [f"{hex_of(layer.digest)}/layer.tar" for layer in image.layers],
        }
    ]


def write_docker_archive(image: Image, path: Path, repo_tags: Sequence[str] = ()) -> None:
    """Write ``image`` in the ``docker save`` format under ``repo_tags`` (NAME:TAG)."""
    with atomic_output(path) as out:
        docker_archive_to(out, image, repo_tags)


def docker_archive_to(out: BinaryIO, image: Image, repo_tags: Sequence[str] = ()) -> None:
    """Write ``image`` in the ``docker save`` format to ``out``."""
    with _tar_writer(out) as tar:
        _add_blob(tar, f"{hex_of(image.config.digest)}.json", image.config)
        written: set[str] = set()
        for layer in image.layers:
            if layer.digest in written:
                continue
            written.add(layer.digest)
            _add_blob(tar, f"{hex_of(layer.digest)}/layer.tar", layer)
        _add_bytes(tar, "manifest.json", canonical_json(docker_manifest(image, repo_tags)))
