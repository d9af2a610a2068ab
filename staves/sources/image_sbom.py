"""The SBOM of any image Staves can read, in the format asked for (``staves inspect --format
spdx|cyclonedx``).

The SBOM of that format attached to the image is the answer as it is. Otherwise it is made
as a build makes it, from what the image holds: the package database in its layers
(``vdb = "trim"`` or ``"full"``), the digest of every file, and, when an SLSA provenance is
attached, what the build recorded there (repositories and their revisions, distfiles and
their digests, the builder and snapshot images).
"""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from oci.document import MAX_ATTESTATION, parse_json
from oci.source import ImageSource, SourceImage
from staves.errors import StavesError
from staves.gentoo.sbom import (
    ImageInput,
    SbomFormat,
    SbomSubject,
    describe_image,
    sbom_bytes,
)
from staves.sources.listing import read_image_root
from staves.sources.provenance import attached_provenance

_MANIFEST_NAMES = {"blake2b": "BLAKE2B", "sha512": "SHA512", "sha256": "SHA256"}


def attached_document(source: ImageSource, image: SourceImage, media_type: str) -> bytes | None:
    """The payload of the SBOM of ``media_type`` attached to ``image``, if any: read up to
    its size, and a JSON document within the readers' caps."""
    if image.digest is None:
        return None
    for referrer in source.referrers(image.digest, media_type):
        for blob in referrer.get("layers", []):
            if blob.get("mediaType") == media_type:
                with source.open_blob(blob["digest"], blob["size"]) as data:
                    payload = data.read(MAX_ATTESTATION + 1)
                parse_json(payload, f"SBOM {blob['digest']}", limit=MAX_ATTESTATION)
                return payload
    return None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def sources_from_provenance(statement: Mapping[str, Any]) -> dict[str, Any]:
    """What the builder recorded, as the provenance statement carries it (the shape
    ``describe_image`` takes), so that an SBOM made later says what the build's did."""
    definition = _mapping(_mapping(statement.get("predicate")).get("buildDefinition"))
    dependencies = [d for d in _list(definition.get("resolvedDependencies")) if _mapping(d)]
    merged = _list(_mapping(definition.get("internalParameters")).get("merged"))
    packages: dict[str, dict[str, Any]] = {}
    for entry in merged:
        if isinstance(entry, dict) and isinstance(entry.get("package"), str):
            packages[entry["package"]] = {
                "cpv": entry["package"],
                "repository": entry.get("repository"),
                "revisions": _mapping(entry.get("revisions")),
                "distfiles": [],
                # A package the builder's installed copy gave (the provenance says so).
                **({"origin": "builder"} if entry.get("origin") == "builder" else {}),
            }
    repositories = []
    for dependency in dependencies:
        name = str(dependency.get("name", ""))
        digest = _mapping(dependency.get("digest"))
        if name.startswith("repository:"):
            repositories.append(
                {"name": name.split(":", 1)[1], "revision": digest.get("gitCommit")}
            )
            continue
        annotations = _mapping(dependency.get("annotations"))
        for cpv in _list(annotations.get("packages")):
            if isinstance(cpv, str) and cpv in packages:
                packages[cpv]["distfiles"].append(
                    {
                        "name": name,
                        "size": annotations.get("size"),
                        "digests": {
                            _MANIFEST_NAMES[k]: v for k, v in digest.items() if k in _MANIFEST_NAMES
                        },
                    }
                )
    return {"repositories": repositories, "packages": list(packages.values())}


def _inputs(statement: Mapping[str, Any]) -> list[ImageInput]:
    definition = _mapping(_mapping(statement.get("predicate")).get("buildDefinition"))
    out = []
    for dependency in _list(definition.get("resolvedDependencies")):
        if isinstance(dependency, dict) and dependency.get("name") in ("builder", "snapshot"):
            uri = str(dependency.get("uri", "")).removeprefix("docker://")
            digest = _mapping(dependency.get("digest"))
            found = next((f"{k}:{v}" for k, v in digest.items()), None)
            out.append(ImageInput(str(dependency["name"]), uri, found))
    return out


def _created(config: Mapping[str, Any]) -> datetime:
    text = str(config.get("created") or "1970-01-01T00:00:00Z")
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return datetime.fromtimestamp(0, UTC)


def image_sbom_bytes(source: ImageSource, name: str, sbom_format: SbomFormat, where: str) -> bytes:
    """The SBOM of the image ``source`` reads, in ``sbom_format``: the attached one, or
    one made from the image's package database (``where`` names the source in errors)."""
    image = source.image()
    attached = attached_document(source, image, sbom_format.media_type)
    if attached is not None:
        return attached
    root = read_image_root(source, image.layers)
    if not root.packages:
        raise StavesError(
            f'{where} has no package database (vdb = "none") and no {sbom_format} SBOM attached',
            hint='build it with vdb = "trim" (the default) or attach the SBOM '
            "(--sbom-format at build time)",
        )
    provenance = attached_provenance(source, image.digest) if image.digest else None
    statement = provenance.statement if provenance is not None else {}
    subject = SbomSubject(name, image.digest or image.config_digest, _created(image.config))
    description = describe_image(
        root.packages,
        subject,
        root.file_digests,
        _inputs(statement),
        root.links,
        None,
        sources_from_provenance(statement),
    )
    return sbom_bytes(description, sbom_format)


def pretty(data: bytes) -> str:
    """The document as it is, ending in a newline."""
    text = data.decode()
    return text if text.endswith("\n") else text + "\n"
