"""The provenance attached to an image, read back for ``staves inspect``: the in-toto
statement from the DSSE envelope of the referrer, and what it says the image was made
from. Reading is not verifying: ``signed`` says whether the envelope carries a signature;
checking it against a key is cosign's (or openssl's) job."""

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from oci.document import (
    MAX_ATTESTATION,
    Anything,
    Each,
    Fields,
    MapOf,
    Text,
    check,
    load_json,
    parse_json,
)
from oci.errors import OciError
from oci.sign.cosign import DSSE_ENVELOPE
from oci.source import ImageSource
from staves.gentoo.provenance import PREDICATE_TYPE

_ENVELOPE = Fields({"payload": Text(), "signatures": Each(Anything())}, required=("payload",))
_DEPENDENCY = Fields(
    {"name": Text(), "uri": Text(), "digest": MapOf(Text()), "annotations": MapOf(Anything())}
)
_STATEMENT = Fields(
    {
        "predicateType": Text(),
        "predicate": Fields(
            {
                "buildDefinition": Fields({"resolvedDependencies": Each(_DEPENDENCY)}),
                "runDetails": Fields({"builder": Fields({"version": MapOf(Text())})}),
            }
        ),
    },
    name="an in-toto statement",
)


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


def _statement(envelope: Mapping[str, Any], source: str) -> dict[str, Any]:
    try:
        payload = base64.b64decode(envelope["payload"], validate=True)
    except ValueError:  # binascii.Error, and non-ASCII text
        raise OciError(f"{source}: payload is not base64") from None
    source = f"{source}: payload"
    return check(parse_json(payload, source, limit=MAX_ATTESTATION), _STATEMENT, source)  # type: ignore[no-any-return]


def _image(dependencies: list[dict[str, Any]], role: str) -> str | None:
    for dep in dependencies:
        if dep.get("name") == role:
            digest = "".join(f"@{k}:{v}" for k, v in sorted((dep.get("digest") or {}).items()))
            return f"{dep.get('uri', '')}{digest}"
    return None


def summarize(envelope: Mapping[str, Any], source: str = "the provenance") -> ProvenanceInfo:
    """What the envelope (checked against its shape already) says, its statement checked."""
    statement = _statement(envelope, source)
    definition = statement.get("predicate", {}).get("buildDefinition", {})
    dependencies = list(definition.get("resolvedDependencies", []))
    repositories = {
        dep["name"].removeprefix("repository:"): dep.get("digest", {}).get("gitCommit")
        for dep in dependencies
        if dep.get("name", "").startswith("repository:")
    }
    run = statement.get("predicate", {}).get("runDetails", {})
    return ProvenanceInfo(
        signed=bool(envelope.get("signatures")),
        builder=_image(dependencies, "builder"),
        snapshot=_image(dependencies, "snapshot"),
        repositories=repositories,
        distfiles=sum(1 for dep in dependencies if "packages" in (dep.get("annotations") or {})),
        staves=run.get("builder", {}).get("version", {}).get("staves"),
        statement=statement,
    )


def attached_provenance(source: ImageSource, digest: str) -> ProvenanceInfo | None:
    """The SLSA provenance referring to ``digest``, if there is one."""
    for referrer in source.referrers(digest, DSSE_ENVELOPE):
        for blob in referrer.get("layers", []):
            if blob.get("mediaType") != DSSE_ENVELOPE:
                continue
            where = f"provenance {blob['digest']}"
            with source.open_blob(blob["digest"], blob["size"]) as data:
                envelope = check(load_json(data, where, MAX_ATTESTATION), _ENVELOPE, where)
            info = summarize(envelope, where)
            if info.statement.get("predicateType") == PREDICATE_TYPE:
                return info
    return None
