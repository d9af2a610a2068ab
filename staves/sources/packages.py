"""What is in an image: its packages and layers, from the attached SBOM or its package data.

Read for ``staves inspect`` (``staves.reports.inspect_text`` shows it), ``diff`` and
``audit``. An attached SPDX SBOM (an OCI 1.1 referrer of the image) is preferred; without
one, the package database kept in the layers (``vdb = "trim"`` or ``"full"``) is read.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any
from urllib.parse import unquote

from oci.document import MAX_ATTESTATION, Each, Fields, Text, check, load_json
from oci.layer_reader import open_layer_tar
from oci.source import ImageSource, SourceImage
from staves.gentoo.layering import ANNOTATION_PACKAGES, VDB_DIR
from staves.gentoo.sbom import SPDX_MEDIA_TYPE
from staves.gentoo.vdb import InstalledPackage, package_from_files
from staves.sources.provenance import ProvenanceInfo, attached_provenance

VDB_FILES = frozenset({"CONTENTS", "USE", "IUSE", "LICENSE", "SIZE", "repository", "SLOT"})
# The fields of an SPDX document that inspect, diff and report read.
_SPDX_PACKAGE = Fields(
    {
        "externalRefs": Each(Fields({"referenceType": Text(), "referenceLocator": Text()})),
        "annotations": Each(Fields({"comment": Text()}, required=("comment",))),
        "licenseDeclared": Text(),
        "SPDXID": Text(),
    }
)
SPDX_DOCUMENT = Fields(
    {
        "packages": Each(_SPDX_PACKAGE),
        "files": Each(Fields({"SPDXID": Text(), "fileName": Text()}, ("SPDXID", "fileName"))),
        "relationships": Each(
            Fields(
                {
                    "spdxElementId": Text(),
                    "relatedSpdxElement": Text(),
                    "relationshipType": Text(),
                }
            )
        ),
    },
    name="an SPDX document",
)


@dataclass(frozen=True)
class PackageInfo:
    name: str  # CATEGORY/PN
    version: str  # PVR
    use: tuple[str, ...]
    use_disabled: tuple[str, ...]
    license: str
    size: int | None
    repository: str | None
    origin: str | None = None  # "builder": copied from the builder, not merged by Portage

    @property
    def key(self) -> str:
        """``CATEGORY/PF``, as the layers' annotations and CONTENTS owners name it."""
        return f"{self.name}-{self.version}"


@dataclass(frozen=True)
class LayerInfo:
    digest: str
    size: int
    media_type: str
    packages: tuple[str, ...]  # CATEGORY/PF
    diff_id: str | None = None  # the uncompressed digest, the same in every transport


@dataclass(frozen=True)
class ImageReport:
    digest: str | None  # the manifest's; None where there is none (docker-archive, storage)
    image_id: str  # the config's digest
    source: str  # "sbom", "vdb" or "none": where the package list came from
    packages: tuple[PackageInfo, ...]
    layers: tuple[LayerInfo, ...]
    provenance: ProvenanceInfo | None = None  # the attached SLSA provenance, if any

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def purl_name(locator: str) -> tuple[str, str] | None:
    if not locator.startswith("pkg:ebuild/"):
        return None
    path = locator.removeprefix("pkg:ebuild/").split("?", 1)[0]
    name, _, version = path.rpartition("@")
    return unquote(name), unquote(version)


def packages_from_sbom(document: Mapping[str, Any]) -> list[PackageInfo]:
    out = []
    for package in document.get("packages", []):
        purls = [
            ref["referenceLocator"]
            for ref in package.get("externalRefs", [])
            if ref.get("referenceType") == "purl" and "referenceLocator" in ref
        ]
        named = next((n for n in map(purl_name, purls) if n is not None), None)
        if named is None:
            continue
        notes = dict(
            line.split(": ", 1) if ": " in line else (line, "")
            for a in package.get("annotations", [])
            for line in str(a.get("comment", "")).splitlines()
        )
        size = notes.get("SIZE")
        out.append(
            PackageInfo(
                name=named[0],
                version=named[1],
                use=tuple(notes.get("USE", "").split()),
                use_disabled=tuple(notes.get("USE-disabled", "").split()),
                license=package.get("licenseDeclared", "NOASSERTION"),
                size=int(size) if size and size.isdigit() else None,
                repository=notes.get("repository"),
                origin=notes.get("origin"),
            )
        )
    return sorted(out, key=lambda p: (p.name, p.version))


def _info(package: InstalledPackage) -> PackageInfo:
    # A trimmed database has USE but not IUSE: then USE is shown as it is.
    use = package.enabled_use if package.iuse else tuple(sorted(package.use))
    return PackageInfo(
        package.cp,
        package.pvr,
        use,
        package.disabled_use,
        package.license,
        package.size,
        package.repository,
    )


def vdb_in_layers(
    source: ImageSource, layers: Sequence[Mapping[str, Any]]
) -> tuple[list[InstalledPackage], dict[str, list[str]]]:
    """Packages from the database files in the layers (later layers win), and which
    layer digest holds each package's database entry. Layers are streamed."""
    found: dict[tuple[str, str], dict[str, str]] = {}
    where: dict[tuple[str, str], str] = {}
    for layer in layers:
        _scan_layer(source, layer, found, where)
    packages = [package_from_files(c, pf, files) for (c, pf), files in sorted(found.items())]
    by_layer: dict[str, list[str]] = {}
    for (category, pf), digest in sorted(where.items()):
        by_layer.setdefault(digest, []).append(f"{category}/{pf}")
    return packages, by_layer


def _scan_layer(
    source: ImageSource,
    layer: Mapping[str, Any],
    found: dict[tuple[str, str], dict[str, str]],
    where: dict[tuple[str, str], str],
) -> None:
    with (
        source.open_blob(layer["digest"], layer["size"]) as data,
        open_layer_tar(
            data, f"layer {layer['digest']}", limits=source.limits, compressed_size=layer["size"]
        ) as tar,
    ):
        for info in tar:
            parts = [p for p in info.name.split("/") if p not in ("", ".")]
            if parts[:3] != VDB_DIR.split("/") or len(parts) != 6 or not info.isreg():
                continue
            if parts[5] not in VDB_FILES:
                continue
            member = tar.extractfile(info)
            if member is None:
                continue
            key = (parts[3], parts[4])
            found.setdefault(key, {})[parts[5]] = member.read().decode("utf-8", "replace")
            where[key] = layer["digest"]


def _layers(image: SourceImage, located: Mapping[str, Iterable[str]]) -> tuple[LayerInfo, ...]:
    diff_ids = list(image.config.get("rootfs", {}).get("diff_ids", []))
    out = []
    for i, layer in enumerate(image.layers):
        listed = (layer.get("annotations") or {}).get(ANNOTATION_PACKAGES)
        packages = tuple(listed.split()) if listed else tuple(located.get(layer["digest"], ()))
        diff_id = diff_ids[i] if i < len(diff_ids) else None
        out.append(
            LayerInfo(layer["digest"], int(layer["size"]), layer["mediaType"], packages, diff_id)
        )
    return tuple(out)


def attached_sbom(source: ImageSource, digest: str) -> dict[str, Any] | None:
    for referrer in source.referrers(digest, SPDX_MEDIA_TYPE):
        for blob in referrer.get("layers", []):
            if blob.get("mediaType") == SPDX_MEDIA_TYPE:
                where = f"SBOM {blob['digest']}"
                with source.open_blob(blob["digest"], blob["size"]) as data:
                    document = load_json(data, where, MAX_ATTESTATION)
                return check(document, SPDX_DOCUMENT, where)  # type: ignore[no-any-return]
    return None


def image_sbom(source: ImageSource, image: SourceImage) -> dict[str, Any] | None:
    """The SBOM attached to ``image``, if its transport keeps one and it has one."""
    return attached_sbom(source, image.digest) if image.digest else None


def image_report(
    source: ImageSource, image: SourceImage | None = None, document: Mapping[str, Any] | None = None
) -> ImageReport:
    """The packages and layers of the image ``source`` reads (``image`` and its SBOM
    ``document`` where the caller read them already)."""
    if image is None:
        image = source.image()
        document = image_sbom(source, image)
    if document is not None:
        report = sbom_report(image, document)
    else:
        report = vdb_report(image, *vdb_in_layers(source, image.layers))
    provenance = attached_provenance(source, image.digest) if image.digest else None
    return replace(report, provenance=provenance)


def sbom_report(image: SourceImage, document: Mapping[str, Any]) -> ImageReport:
    packages = tuple(packages_from_sbom(document))
    return ImageReport(image.digest, image.config_digest, "sbom", packages, _layers(image, {}))


def vdb_report(
    image: SourceImage,
    packages: Sequence[InstalledPackage],
    located: Mapping[str, Iterable[str]],
) -> ImageReport:
    """The report from the package database read from the layers; ``located``: which
    layer digest holds each package's entry."""
    return ImageReport(
        image.digest,
        image.config_digest,
        "vdb" if packages else "none",
        tuple(_info(p) for p in packages),
        _layers(image, located),
    )
