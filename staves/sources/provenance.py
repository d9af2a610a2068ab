"""The provenance attached to an image, read back for ``staves inspect``: the in-toto
statement from the DSSE envelope of the referrer, and what it says the image was made
from. Reading is not verifying: ``signed`` says whether the envelope carries a signature;
checking it against a key is cosign's (or openssl's) job."""

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from oci.errors import OciError
from oci.sign.cosign import DSSE_ENVELOPE
from oci.source import ImageSource
from staves.gentoo.provenance import PREDICATE_TYPE

_MAX_ENVELOPE = 64 << 20


@dataclass(frozen=True)
class ProvenanceInfo:
    """What ``staves inspect`` shows of an image's SLSA provenance."""

    signed: bool
    builder: str | None  # "docker://REF@sha256:…" of each input image
    snapshot: str | None
    repositories: Mapping[str, str | None]  # name → revision
    distfiles: int
    staves: str | None
    statement: Mapping[str, Any]


def _statement(envelope: Mapping[str, Any]) -> dict[str, Any]:
    try:
        statement = json.loads(base64.b64decode(str(envelope.get("payload", ""))))
    except (ValueError, binascii.Error):
        raise OciError("the provenance envelope's payload is not base64 JSON") from None
    if not isinstance(statement, dict):
        raise OciError("the provenance envelope's payload is not a statement")
    return statement


def _image(dependencies: list[dict[str, Any]], role: str) -> str | None:
    for dep in dependencies:
        if dep.get("name") == role:
            digest = "".join(f"@{k}:{v}" for k, v in sorted((dep.get("digest") or {}).items()))
            return f"{dep.get('uri', '')}{digest}"
    return None


def summarize(envelope: Mapping[str, Any]) -> ProvenanceInfo:
    statement = _statement(envelope)
    definition = (statement.get("predicate") or {}).get("buildDefinition") or {}
    dependencies = list(definition.get("resolvedDependencies") or [])
    repositories = {
        str(dep["name"]).removeprefix("repository:"): (dep.get("digest") or {}).get("gitCommit")
        for dep in dependencies
        if str(dep.get("name", "")).startswith("repository:")
    }
    run = (statement.get("predicate") or {}).get("runDetails") or {}
    return ProvenanceInfo(
        signed=bool(envelope.get("signatures")),
        builder=_image(dependencies, "builder"),
        snapshot=_image(dependencies, "snapshot"),
        repositories=repositories,
        distfiles=sum(1 for dep in dependencies if "packages" in (dep.get("annotations") or {})),
        staves=((run.get("builder") or {}).get("version") or {}).get("staves"),
        statement=statement,
    )


def attached_provenance(source: ImageSource, digest: str) -> ProvenanceInfo | None:
    """The SLSA provenance referring to ``digest``, if there is one."""
    for referrer in source.referrers(digest, DSSE_ENVELOPE):
        for blob in referrer.get("layers", []):
            if blob.get("mediaType") != DSSE_ENVELOPE:
                continue
            with source.open_blob(blob["digest"]) as data:
                try:
                    envelope = json.loads(data.read(_MAX_ENVELOPE))
                except ValueError:
                    raise OciError(f"provenance {blob['digest']} is not JSON") from None
            if isinstance(envelope, dict):
                info = summarize(envelope)
                if info.statement.get("predicateType") == PREDICATE_TYPE:
                    return info
    return None
