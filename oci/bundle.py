"""A bundle: files as one OCI artifact with no subject (a build cache, say).

The manifest names its ``artifactType``, has the empty config and one layer per file,
each with its own media type and annotations (``org.opencontainers.image.title`` its
path). A file whose bytes are unchanged is the same blob, so a registry that has it is
never sent it again. ``Bundle`` has the two things a push needs: ``manifest`` and
``blobs()``.
"""

import base64
import shutil
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from oci.artifact import ANNOTATION_TITLE, EMPTY_CONFIG, EMPTY_JSON
from oci.blob import Blob, BytesBlob, FileBlob, describe, json_blob
from oci.digest import HashingWriter
from oci.media import MediaType


@dataclass(frozen=True)
class BundleFile:
    """One file of a bundle: its blob, its path in the bundle, its other annotations."""

    blob: Blob
    path: str
    annotations: Mapping[str, str]


@dataclass(frozen=True)
class Bundle:
    manifest: BytesBlob
    files: tuple[BundleFile, ...]

    def blobs(self) -> Iterator[Blob]:
        yield EMPTY_CONFIG
        for item in self.files:
            yield item.blob


def build_bundle(
    artifact_type: str, files: Sequence[BundleFile], annotations: Mapping[str, str] | None = None
) -> Bundle:
    """The manifest for ``files``, sorted by path: the same files give the same digest."""
    ordered = tuple(sorted(files, key=lambda item: item.path))
    layers = [
        describe(item.blob, {**item.annotations, ANNOTATION_TITLE: item.path}).to_dict()
        for item in ordered
    ]
    config = describe(EMPTY_CONFIG).to_dict()
    config["data"] = base64.b64encode(EMPTY_JSON).decode()  # inline, as OCI 1.1 suggests
    manifest: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": MediaType.OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": config,
        "layers": layers,
    }
    if annotations:
        manifest["annotations"] = dict(sorted(annotations.items()))
    return Bundle(json_blob(manifest, MediaType.OCI_MANIFEST), ordered)


def file_blob_from_stream(stream: BinaryIO, target: Path, media_type: str) -> FileBlob:
    """Copy ``stream`` to ``target``, hashing as it goes: a blob that reopens the file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as out:
        writer = HashingWriter(out)
        shutil.copyfileobj(stream, writer, 1 << 20)
    return FileBlob(target, media_type, writer.digest, writer.size)


def bundle_layers(manifest: Mapping[str, Any], artifact_type: str) -> list[dict[str, Any]]:
    """The layer descriptors of a pulled bundle manifest; an error for anything else."""
    if manifest.get("artifactType") != artifact_type:
        found = manifest.get("artifactType") or "an image"
        raise ValueError(f"it holds {found}, not {artifact_type}")
    layers = manifest.get("layers")
    if not isinstance(layers, list):
        raise ValueError("its manifest lists no layers")
    return [layer for layer in layers if isinstance(layer, dict)]
