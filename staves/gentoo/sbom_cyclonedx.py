"""An image's description as a CycloneDX 1.6 JSON BOM, through cyclonedx-python-lib.

The image is the metadata component (type ``container``, its manifest digest as version,
a ``pkg:oci`` purl); each installed Gentoo package is a ``library`` component with its
``pkg:ebuild`` purl (the bom-ref), its license as an SPDX expression, its build settings as
properties (``gentoo:USE``, ``gentoo:CFLAGS``, … by Portage's names), its files as nested
``file`` components with their SHA-1 and SHA-256 in the image, and its distfiles as
``source-distribution`` external references (SRC_URI, the Manifest's BLAKE2b-512 and
SHA-512). The dependency graph is RDEPEND's; the image depends on the packages nothing
else needs. The builder and snapshot images are properties of the metadata
(``staves:builder``, ``staves:snapshot``: their ``pkg:oci`` purls).
"""

import uuid
from collections.abc import Iterable, Mapping

from cyclonedx.model import (
    ExternalReference,
    ExternalReferenceType,
    HashAlgorithm,
    HashType,
    Property,
    XsUri,
)
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import (
    Component,
    ComponentType,
    Diff,
    Patch,
    PatchClassification,
    Pedigree,
)
from cyclonedx.model.license import LicenseExpression
from cyclonedx.model.tool import ToolRepository
from cyclonedx.output.json import JsonV1Dot6
from packageurl import PackageURL

from staves.gentoo.licenses import NOASSERTION
from staves.gentoo.sbom import (
    TOOL_NAME,
    TOOL_VERSION,
    Distfile,
    ImageDescription,
    SbomPackage,
    oci_purl,
)

PROPERTY_PREFIX = "gentoo:"  # Portage's own names for what a package was built with
_HASHES = {
    "BLAKE2B": HashAlgorithm.BLAKE2B_512,
    "SHA512": HashAlgorithm.SHA_512,
    "SHA256": HashAlgorithm.SHA_256,
}
IMAGE_REF = "image"


def _file(owner: str, path: str, digests: Mapping[str, str]) -> Component:
    found = dict(digests)
    hashes = [HashType(alg=HashAlgorithm.SHA_1, content=found["sha1"])]
    if "sha256" in found:
        hashes.append(HashType(alg=HashAlgorithm.SHA_256, content=found["sha256"]))
    return Component(
        name="/" + path, type=ComponentType.FILE, bom_ref=f"{owner}#/{path}", hashes=hashes
    )


def _distfile(distfile: Distfile, uri: str) -> ExternalReference:
    return ExternalReference(
        type=ExternalReferenceType.SOURCE_DISTRIBUTION,
        url=XsUri(uri),
        comment=distfile.name,
        hashes=[
            HashType(alg=_HASHES[name], content=value)
            for name, value in sorted(distfile.digests.items())
            if name in _HASHES
        ],
    )


def _distfile_refs(distfiles: Iterable[Distfile]) -> list[ExternalReference]:
    """One reference per URI a distfile is fetched from; its name alone where SRC_URI gave
    none (fetched from the mirrors only)."""
    return [
        _distfile(distfile, uri)
        for distfile in distfiles
        for uri in (distfile.uris or (distfile.name,))
    ]


def _properties(described: SbomPackage) -> list[Property]:
    settings = dict(described.settings)
    if described.revision:
        settings["repository-revision"] = described.revision
    out = [Property(name=PROPERTY_PREFIX + k, value=v) for k, v in settings.items() if v]
    if described.origin:
        out.append(Property(name="staves:origin", value=described.origin))
    out += [
        Property(name="staves:patch", value=f"{p.source} sha256:{p.sha256}")
        for p in described.patches
    ]
    return out


def _pedigree(described: SbomPackage) -> Pedigree | None:
    """A package built with user patches: each as an unofficial patch of its pedigree."""
    if not described.patches:
        return None
    notes = "Modified: built with user patches, applied by eapply_user: " + ", ".join(
        f"{p.source} (sha256:{p.sha256})" for p in described.patches
    )
    patches = [
        Patch(type=PatchClassification.UNOFFICIAL, diff=Diff(url=XsUri(p.source)))
        for p in described.patches
    ]
    return Pedigree(patches=patches, notes=notes)


def _component(described: SbomPackage, description: ImageDescription) -> Component:
    package = described.package
    licenses = []
    if described.license != NOASSERTION:
        licenses.append(LicenseExpression(described.license))
    return Component(
        name=package.pn,
        group=package.category,
        version=package.pvr,
        type=ComponentType.LIBRARY,
        bom_ref=described.purl,
        purl=PackageURL.from_string(described.purl),
        description=package.description,
        licenses=licenses,
        properties=_properties(described),
        pedigree=_pedigree(described),
        external_references=_distfile_refs(described.distfiles),
        components=[_file(described.purl, p, description.file_digests[p]) for p in described.files],
    )


def cyclonedx_bom(description: ImageDescription) -> Bom:
    """The CycloneDX BOM (cyclonedx-python-lib's model) of the described image."""
    subject = description.subject
    image = Component(
        name=subject.name,
        version=subject.digest,
        type=ComponentType.CONTAINER,
        bom_ref=IMAGE_REF,
        purl=PackageURL.from_string(oci_purl(subject.name, subject.digest)),
    )
    tool = Component(name=TOOL_NAME, version=TOOL_VERSION, type=ComponentType.APPLICATION)
    metadata = BomMetaData(
        component=image,
        timestamp=subject.created.replace(microsecond=0),
        tools=ToolRepository(components=[tool]),
        properties=[
            Property(name=f"staves:{used.role}", value=oci_purl(used.reference, used.digest))
            for used in description.inputs
        ],
    )
    components = {p.key: _component(p, description) for p in description.packages}
    bom = Bom(
        serial_number=uuid.uuid5(uuid.NAMESPACE_URL, f"staves-image:{subject.digest}"),
        metadata=metadata,
        components=components.values(),
    )
    bom.register_dependency(image, [components[key] for key in description.roots])
    for described in description.packages:
        bom.register_dependency(
            components[described.key], [components[key] for key in described.depends_on]
        )
    return bom


def cyclonedx_json(description: ImageDescription) -> bytes:
    return JsonV1Dot6(cyclonedx_bom(description)).output_as_string(indent=2).encode()
