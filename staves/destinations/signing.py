"""Signatures and attestations next to a written image, in cosign's scheme.

With a key, every ``docker://`` and ``oci:`` destination gets the ``sha256-<hex>.sig``
manifest signing the top-level descriptor written (an image manifest, or an index). The
provenance envelope goes twice: as an OCI 1.1 referrer (with the SBOM, through
``write_outputs``) and as cosign's ``sha256-<hex>.att`` attestation, signed or not. Other
destinations (archives, container storage) have no place for tagged manifests.
"""

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from oci.artifact import Artifact, build_artifact
from oci.blob import BytesBlob, canonical_json
from oci.descriptor import Descriptor
from oci.registry import Reference
from oci.sign.cosign import (
    DSSE_ENVELOPE,
    PREDICATE_TYPE_ANNOTATION,
    Signer,
    TaggedManifest,
    attestation_manifest,
    signature_manifest,
    write_tagged_layout,
)
from oci.sign.dsse import IN_TOTO_PAYLOAD, envelope_blob
from oci.transport import Destination, OciLayoutDestination, RegistryDestination
from staves.destinations.naming import ImageName
from staves.destinations.registry import parse_registry_reference
from staves.errors import EXIT_USAGE, StavesError
from staves.gentoo.provenance import PREDICATE_TYPE

log = logging.getLogger(__name__)
PROVENANCE_FILE = "provenance.intoto.jsonl"

# Pushes tagged manifests into the repositories of the references.
TaggedPusher = Callable[[Sequence[TaggedManifest], Sequence[Reference]], None]


@dataclass(frozen=True)
class Signing:
    """How to sign what is written: the key (None: unsigned attestations, no signature)
    and how to reach registries."""

    key: Signer | None = None
    push: TaggedPusher | None = None


@dataclass(frozen=True)
class Attestation:
    """A statement wrapped in its DSSE envelope, and the referrer carrying it."""

    envelope: BytesBlob
    predicate_type: str
    referrer: Artifact


def check_signable(destinations: Sequence[Destination]) -> None:
    """A key is only useful with a destination that keeps signatures."""
    if not any(isinstance(d, OciLayoutDestination | RegistryDestination) for d in destinations):
        raise StavesError(
            "no destination keeps signatures",
            key="--sign-key",
            hint="add -o docker://REF or -o oci:DIR (archives and container storage hold none)",
            exit_code=EXIT_USAGE,
        )


def attest(subject: Descriptor, statement: Mapping[str, Any], key: Signer | None) -> Attestation:
    """``statement`` in a DSSE envelope (signed with ``key`` when given), and the OCI 1.1
    artifact that attaches it to ``subject``."""
    predicate_type = str(statement.get("predicateType", PREDICATE_TYPE))
    envelope = envelope_blob(canonical_json(statement), IN_TOTO_PAYLOAD, key)
    referrer = build_artifact(
        subject,
        [(envelope, PROVENANCE_FILE)],
        DSSE_ENVELOPE,
        {PREDICATE_TYPE_ANNOTATION: predicate_type},
    )
    return Attestation(envelope, predicate_type, referrer)


def tagged_manifests(
    subject: Descriptor,
    identity: str,
    key: Signer | None,
    attestations: Sequence[Attestation],
) -> list[TaggedManifest]:
    """The ``.att`` manifest of the attestations, and with a key the ``.sig`` manifest."""
    out = [attestation_manifest(subject, a.envelope, a.predicate_type) for a in attestations[:1]]
    if key is not None:
        out.append(signature_manifest(subject, identity, key))
    return out


def sign_outputs(
    subject: Descriptor,
    destinations: Sequence[Destination],
    name: ImageName,
    signing: Signing,
    attestations: Sequence[Attestation] = (),
) -> None:
    """Write the tagged signature and attestation manifests of ``subject`` next to it in
    every ``oci:`` layout and registry repository of ``destinations``."""
    bare = Descriptor(subject.media_type, subject.digest, subject.size)
    for dest in destinations:
        if isinstance(dest, OciLayoutDestination):
            for tagged in tagged_manifests(bare, name.name or "", signing.key, attestations):
                write_tagged_layout(tagged, dest.path)
                log.info("wrote %s into oci:%s", tagged.tag, dest.path)
    references = [
        parse_registry_reference(dest.reference, name.tag)
        for dest in destinations
        if isinstance(dest, RegistryDestination)
    ]
    if not references:
        return
    if signing.push is None:
        raise StavesError("docker:// destinations are not available here", key="--output")
    for repository in {ref.name: ref for ref in references}.values():
        manifests = tagged_manifests(bare, repository.name, signing.key, attestations)
        signing.push(manifests, [repository])
        log.info("pushed %s to %s", ", ".join(m.tag for m in manifests), repository.name)
