"""OCI 1.1 artifacts that refer to an image (an SBOM, a signature): build, store, push plan.

An artifact manifest names its ``artifactType``, has the empty config
(``application/vnd.oci.empty.v1+json``, ``{}``), carries its payload as layers and points to
the image through ``subject``. In an OCI layout it is listed (untagged, with its
``artifactType``) in the ``index.json`` of the layout's ``artifacts`` layout, so that the
layout itself lists only images, as scanners want it. A registry is told
of it by pushing the manifest; a registry without the referrers API needs the fallback:
the index tagged ``sha256-<hex of the subject>`` lists the referrers.
"""

import base64
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oci.blob import Blob, BytesBlob, describe, json_blob
from oci.descriptor import Descriptor
from oci.digest import hex_of
from oci.layout import add_to_layout, artifacts_layout
from oci.media import MediaType

EMPTY_JSON = b"{}"
EMPTY_CONFIG = BytesBlob(EMPTY_JSON, MediaType.OCI_EMPTY)
ANNOTATION_TITLE = "org.opencontainers.image.title"
ANNOTATION_CREATED = "org.opencontainers.image.created"
# Registries that implement the referrers API answer a manifest PUT with this header.
SUBJECT_HEADER = "OCI-Subject"


@dataclass(frozen=True)
class Artifact:
    manifest: BytesBlob
    payload: tuple[Blob, ...]
    artifact_type: str
    subject: Descriptor
    annotations: Mapping[str, str] = field(default_factory=dict)

    def blobs(self) -> Iterable[Blob]:
        """The blobs the manifest refers to: the empty config and the payload."""
        yield EMPTY_CONFIG
        yield from self.payload

    def descriptor(self) -> Descriptor:
        """The artifact's entry in an index (a layout's, or the referrers list)."""
        return Descriptor(
            self.manifest.media_type,
            self.manifest.digest,
            self.manifest.size,
            self.annotations,
            artifact_type=self.artifact_type,
        )


def _empty_config_descriptor() -> dict[str, Any]:
    out = describe(EMPTY_CONFIG).to_dict()
    out["data"] = base64.b64encode(EMPTY_JSON).decode()
    return out


def build_artifact(
    subject: Descriptor,
    payload: Sequence[tuple[Blob, str | None]],
    artifact_type: str,
    annotations: Mapping[str, str] | None = None,
) -> Artifact:
    """An artifact manifest for ``payload`` (blobs with an optional file name each)."""
    layers = [
        describe(blob, {ANNOTATION_TITLE: title} if title else None).to_dict()
        for blob, title in payload
    ]
    manifest: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": MediaType.OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": _empty_config_descriptor(),
        "layers": layers,
        "subject": Descriptor(subject.media_type, subject.digest, subject.size).to_dict(),
    }
    if annotations:
        manifest["annotations"] = dict(sorted(annotations.items()))
    return Artifact(
        json_blob(manifest, MediaType.OCI_MANIFEST),
        tuple(blob for blob, _ in payload),
        artifact_type,
        subject,
        dict(annotations or {}),
    )


def write_artifact_layout(artifact: Artifact, layout: Path) -> Descriptor:
    """Add ``artifact`` to the artifacts of the OCI layout at ``layout`` (which should hold
    its subject)."""
    return add_to_layout(
        artifacts_layout(layout), (*artifact.blobs(), artifact.manifest), artifact.descriptor()
    )


def referrers_tag(subject_digest: str) -> str:
    """The fallback tag listing the referrers of ``subject_digest``: ``sha256-<hex>``."""
    algorithm = subject_digest.split(":", 1)[0]
    return f"{algorithm}-{hex_of(subject_digest)}"


@dataclass(frozen=True)
class ReferrerPush:
    """What to send a registry to attach an artifact.

    1. Upload ``blobs`` (as for any image).
    2. PUT ``manifest`` at ``/v2/NAME/manifests/<manifest digest>``.
    3. If the answer lacks the ``OCI-Subject`` header, the registry has no referrers API:
       GET the index at tag ``fallback_tag`` (absent: start from None), PUT
       ``with_referrer(that index, descriptor)`` back under that tag.
    """

    blobs: tuple[Blob, ...]
    manifest: BytesBlob
    descriptor: Descriptor
    fallback_tag: str


def referrer_push(artifact: Artifact) -> ReferrerPush:
    return ReferrerPush(
        tuple(artifact.blobs()),
        artifact.manifest,
        artifact.descriptor(),
        referrers_tag(artifact.subject.digest),
    )


def with_referrer(index: Mapping[str, Any] | None, referrer: Descriptor) -> dict[str, Any]:
    """The fallback referrers index with ``referrer`` listed once."""
    manifests = [
        m for m in (index or {}).get("manifests", []) if m.get("digest") != referrer.digest
    ]
    return {
        "schemaVersion": 2,
        "mediaType": MediaType.OCI_INDEX,
        "manifests": [*manifests, referrer.to_dict()],
    }
