"""``staves index create``: one index over images each runner of a CI matrix pushed.

Every runner builds its own platform natively and pushes the image into one repository,
with its SBOM and provenance attached (referrers, whose subject is the image's digest)
and its signature beside it (cosign's ``sha256-<hex>.sig`` tag). The last step joins the
images into an index pushed to the same repository: only the index document is sent, so
every image keeps its digest and with it everything that refers to it. The index is
signed as the index, as ``staves build --platform A,B --sign-key`` signs one.

An index is the same document ``staves build`` writes for its platforms: the entries in
the order given, the first image's creation time, and the annotations every image has
alike (its title, version and the spec's own; never the per-image build key).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from oci.descriptor import Descriptor, Platform
from oci.errors import OciError
from oci.image import ANNOTATION_CREATED
from oci.index import JoinedIndex, index_document
from oci.media import INDEX_TYPES, MANIFEST_TYPES
from oci.registry import Reference, RegistryOptions
from oci.registry.pull import RegistrySource, open_registry_source
from staves.errors import EXIT_USAGE, StavesError

# buildx marks the attestation manifests it lists in an index with this annotation.
_DOCKER_REFERENCE_TYPE = "vnd.docker.reference.type"


@dataclass(frozen=True)
class Member:
    """One image the index lists: its entry (with its platform) and its annotations."""

    entry: Descriptor
    annotations: Mapping[str, str]
    source: str  # the SOURCE argument it came from, for messages


def same_repository(dest: Reference, sources: Sequence[Reference]) -> None:
    """Every source must be in the destination's repository: the index names its images
    by digest, and a registry resolves those in the index's own repository only."""
    for source in sources:
        if source.name != dest.name:
            raise StavesError(
                f"docker://{source} is not in {dest.name}",
                key="SOURCE",
                hint=f"push each platform's image to docker://{dest.name} (a tag of its own or "
                "by digest) and join those: their SBOM, provenance and signature stay "
                "attached only there",
                exit_code=EXIT_USAGE,
            )


def _platform_of(config: Mapping[str, Any], where: str) -> Platform:
    os_name, architecture = config.get("os"), config.get("architecture")
    if not isinstance(os_name, str) or not isinstance(architecture, str):
        raise OciError(f"{where}: the image config names no os and architecture")
    variant = config.get("variant")
    return Platform(os_name, architecture, variant if isinstance(variant, str) else None)


def _entry_platform(entry: Mapping[str, Any]) -> Platform | None:
    plat = entry.get("platform") or {}
    if not isinstance(plat.get("os"), str) or not isinstance(plat.get("architecture"), str):
        return None
    variant = plat.get("variant")
    return Platform(plat["os"], plat["architecture"], variant if variant else None)


def members_of(source: RegistrySource, where: str) -> list[Member]:
    """The images a source names: an image (its platform from its config), or each image
    of an index (as podman manifest add --all and buildx imagetools create take one)."""
    document, named = source.named_document()
    annotations = {str(k): str(v) for k, v in (document.get("annotations") or {}).items()}
    if named.media_type in MANIFEST_TYPES:
        if document.get("artifactType") or (document.get("subject") is not None):
            raise OciError(f"{where}: an artifact (an SBOM, a signature…), not an image")
        platform = _platform_of(source.config_of(document), where)
        entry = Descriptor(named.media_type, named.digest, named.size, platform=platform)
        return [Member(entry, annotations, where)]
    if named.media_type in INDEX_TYPES:
        found = []
        for raw in document.get("manifests") or []:
            platform = _entry_platform(raw)
            if raw.get("mediaType") not in MANIFEST_TYPES or platform is None:
                continue
            if platform.os == "unknown" or _DOCKER_REFERENCE_TYPE in (raw.get("annotations") or {}):
                continue  # buildx's attestation manifests: they belong to their index
            digest, size = raw.get("digest"), raw.get("size")
            if not isinstance(digest, str) or not isinstance(size, int):
                raise OciError(f"{where}: an index entry without a digest and size")
            # Each image stands with what its index said of all of them.
            entry = Descriptor(raw["mediaType"], digest, size, platform=platform)
            found.append(Member(entry, annotations, where))
        return found
    raise OciError(f"{where}: {named.media_type or 'a document of unknown type'} is not an image")


def index_annotations(
    members: Sequence[Member], extra: Mapping[str, str], per_image: frozenset[str] = frozenset()
) -> dict[str, str]:
    """The first image's creation time, the annotations every image has with one value
    (not those in ``per_image``, which describe one image, never an index of several:
    the build key), then ``extra`` (``--annotation``) over them."""
    out: dict[str, str] = {}
    if members and ANNOTATION_CREATED in members[0].annotations:
        out[ANNOTATION_CREATED] = members[0].annotations[ANNOTATION_CREATED]
    alike = set(members[0].annotations.items()) if members else set()
    for member in members[1:]:
        alike &= set(member.annotations.items())
    skip = per_image | {ANNOTATION_CREATED}
    out.update({k: v for k, v in sorted(alike) if k not in skip})
    return {**out, **extra}


def read_members(sources: Sequence[Reference], options: RegistryOptions) -> list[Member]:
    members: list[Member] = []
    for reference in sources:
        where = f"docker://{reference}"
        with open_registry_source(reference, options) as source:
            members.extend(members_of(source, where))
    return members


def joined_index(
    members: Sequence[Member], extra: Mapping[str, str], per_image: frozenset[str] = frozenset()
) -> JoinedIndex:
    """The index of the members' images, in their order; one image per platform."""
    if not members:
        raise StavesError("the sources hold no image", key="SOURCE", exit_code=EXIT_USAGE)
    try:
        document = annotations = index_annotations(members, extra, per_image)
        document = index_document([m.entry for m in members], annotations)
    except OciError as exc:
        named = ", ".join(f"{m.source} ({m.entry.platform})" for m in members)
        raise StavesError(str(exc), key="SOURCE", hint=named, exit_code=EXIT_USAGE) from None
    return JoinedIndex(document)
