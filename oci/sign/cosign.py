"""Cosign's signature and attestation manifests, as its specs lay them out.

A signature (``specs/SIGNATURE_SPEC.md``) is an OCI image manifest tagged
``sha256-<hex of the signed manifest>.sig`` in the signed image's repository. Its one
layer is the *simple signing* payload (media type
``application/vnd.dev.cosign.simplesigning.v1+json``), a JSON document naming the signed
manifest's digest, with the base64 signature in the layer's annotation
``dev.cosignproject.cosign/signature``. An attestation (``specs/ATTESTATION_SPEC.md``) is
the same shape tagged ``….att``: its layer is a DSSE envelope
(``application/vnd.dsse.envelope.v1+json``) whose signature is inside, the annotation left
empty, and ``predicateType`` on the layer.

Both manifests get a config like the one cosign's libraries write for such an image:
``rootfs.diff_ids`` are the layers' digests, no platform, the zero time. Signatures are
deterministic (RFC 6979), so signing the same image with the same key gives the same
manifests.
"""

import base64
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from oci.blob import Blob, BytesBlob, canonical_json, describe, json_blob
from oci.descriptor import Descriptor
from oci.digest import hex_of
from oci.image import ANNOTATION_REF_NAME
from oci.layout import add_to_layout, artifacts_layout
from oci.media import MediaType

SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
DSSE_ENVELOPE = "application/vnd.dsse.envelope.v1+json"
SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
PREDICATE_TYPE_ANNOTATION = "predicateType"
SIGNATURE_TYPE = "cosign container image signature"
# How ``cosign save`` marks the manifests of an OCI layout (index.json annotation "kind").
KIND_ANNOTATION = "kind"
KIND_SIGNATURES = "dev.cosignproject.cosign/sigs"
KIND_ATTESTATIONS = "dev.cosignproject.cosign/atts"
COSIGN_KINDS = (KIND_SIGNATURES, KIND_ATTESTATIONS)
_ZERO_TIME = "0001-01-01T00:00:00Z"


class Signer(Protocol):
    """Signs bytes (``oci.sign.keys.SigningKey``: ECDSA P-256 over SHA-256, DER)."""

    def sign(self, data: bytes) -> bytes: ...


def signature_tag(digest: str, suffix: str = "sig") -> str:
    """``sha256:abc…`` → ``sha256-abc….sig`` (cosign's tag-based discovery)."""
    return f"{digest.split(':', 1)[0]}-{hex_of(digest)}.{suffix}"


def simple_signing_payload(docker_reference: str, manifest_digest: str) -> bytes:
    """The payload cosign signs for an image: the repository it was signed for (no tag)
    and the digest of the manifest or index signed."""
    return canonical_json(
        {
            "critical": {
                "identity": {"docker-reference": docker_reference},
                "image": {"docker-manifest-digest": manifest_digest},
                "type": SIGNATURE_TYPE,
            },
            "optional": None,
        }
    )


@dataclass(frozen=True)
class TaggedManifest:
    """A signature or attestation manifest: where it is tagged, and its blobs."""

    manifest: BytesBlob
    config: BytesBlob
    layers: tuple[BytesBlob, ...]
    tag: str
    kind: str
    subject: Descriptor
    annotations: Mapping[str, str] = field(default_factory=dict)

    def blobs(self) -> Iterator[Blob]:
        yield self.config
        yield from self.layers

    def descriptor(self) -> Descriptor:
        return describe(self.manifest)


def write_tagged_layout(tagged: TaggedManifest, layout: Path) -> Descriptor:
    """Add ``tagged`` to the artifacts of the OCI layout holding its subject, under its tag
    and marked with the ``kind`` ``cosign save`` gives such manifests."""
    notes = {ANNOTATION_REF_NAME: tagged.tag, KIND_ANNOTATION: tagged.kind}
    entry = describe(tagged.manifest, notes)
    blobs = (*tagged.blobs(), tagged.manifest)
    return add_to_layout(artifacts_layout(layout), blobs, entry, tagged.tag)


def _config(layers: tuple[BytesBlob, ...]) -> BytesBlob:
    document: dict[str, Any] = {
        "architecture": "",
        "config": {},
        "created": _ZERO_TIME,
        "history": [{"created": _ZERO_TIME} for _ in layers],
        "os": "",
        "rootfs": {"type": "layers", "diff_ids": [layer.digest for layer in layers]},
    }
    return json_blob(document, MediaType.OCI_CONFIG)


def tagged_manifest(
    subject: Descriptor,
    layers: list[tuple[BytesBlob, Mapping[str, str]]],
    suffix: str,
    kind: str,
    annotations: Mapping[str, str] | None = None,
) -> TaggedManifest:
    """An OCI manifest of ``layers`` (each with its descriptor's annotations), tagged
    ``sha256-<subject>.<suffix>``."""
    blobs = tuple(blob for blob, _ in layers)
    config = _config(blobs)
    manifest: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": MediaType.OCI_MANIFEST,
        "config": describe(config).to_dict(),
        "layers": [describe(blob, dict(notes)).to_dict() for blob, notes in layers],
    }
    if annotations:
        manifest["annotations"] = dict(sorted(annotations.items()))
    return TaggedManifest(
        json_blob(manifest, MediaType.OCI_MANIFEST),
        config,
        blobs,
        signature_tag(subject.digest, suffix),
        kind,
        subject,
        dict(annotations or {}),
    )


def signature_manifest(subject: Descriptor, docker_reference: str, key: Signer) -> TaggedManifest:
    """The ``.sig`` manifest signing ``subject`` (an image manifest or an index)."""
    payload = simple_signing_payload(docker_reference, subject.digest)
    signature = base64.b64encode(key.sign(payload)).decode()
    layer = BytesBlob(payload, SIMPLE_SIGNING)
    return tagged_manifest(
        subject, [(layer, {SIGNATURE_ANNOTATION: signature})], "sig", KIND_SIGNATURES
    )


def attestation_manifest(
    subject: Descriptor, envelope: BytesBlob, predicate_type: str
) -> TaggedManifest:
    """The ``.att`` manifest holding one DSSE envelope about ``subject``."""
    notes = {SIGNATURE_ANNOTATION: "", PREDICATE_TYPE_ANNOTATION: predicate_type}
    return tagged_manifest(
        subject,
        [(envelope, notes)],
        "att",
        KIND_ATTESTATIONS,
        {PREDICATE_TYPE_ANNOTATION: predicate_type},
    )
