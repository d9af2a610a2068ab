"""An image's description as an SPDX 2.3 JSON document, through spdx-tools' model and writer.

The document describes the image (a CONTAINER package); the image contains one package per
installed Gentoo package (purl, declared license, build settings as an annotation of
``KEY: value`` lines), which contains its files (SHA-1 and SHA-256 of the bytes in the image),
depends on the packages its RDEPEND names, and is generated from its distfiles (SOURCE
packages with SRC_URI's download location and the Manifest's BLAKE2b-512/SHA-512). The
builder and snapshot images are build inputs.
"""

import hashlib
import io
import re
from datetime import datetime

from spdx_tools.common.spdx_licensing import spdx_licensing
from spdx_tools.spdx.model import (
    Actor,
    ActorType,
    Annotation,
    AnnotationType,
    Checksum,
    ChecksumAlgorithm,
    CreationInfo,
    Document,
    ExternalPackageRef,
    ExternalPackageRefCategory,
    ExtractedLicensingInfo,
    File,
    Package,
    PackagePurpose,
    PackageVerificationCode,
    Relationship,
    RelationshipType,
    SpdxNoAssertion,
)
from spdx_tools.spdx.writer.json.json_writer import write_document_to_stream

from oci.digest import hex_of
from staves.gentoo.sbom import (
    COPIED_FROM_BUILDER,
    TOOL_NAME,
    TOOL_VERSION,
    Distfile,
    ImageDescription,
    SbomPackage,
    homepage,
    oci_purl,
    spdx_id,
)

NAMESPACE_BASE = "https://spdx.org/spdxdocs/staves-image-"
IMAGE_ID = "SPDXRef-Image"
DOCUMENT_ID = "SPDXRef-DOCUMENT"
_CHECKSUMS = {
    "BLAKE2B": ChecksumAlgorithm.BLAKE2B_512,
    "SHA512": ChecksumAlgorithm.SHA512,
    "SHA256": ChecksumAlgorithm.SHA256,
}
# The download locations SPDX 2.3 takes: a URL of these schemes (a VCS location aside).
# Gentoo's mirror://NAME/… is none of them; it stays in the package's sourceInfo.
_DOWNLOADABLE = re.compile(r"^(https?|ftp|sftp)://[^\s/]+\.[^\s/]+(/\S*)?$")


class _Writer:
    def __init__(self, description: ImageDescription) -> None:
        self.description = description
        self.created = description.subject.created
        self.tool = Actor(ActorType.TOOL, f"{TOOL_NAME}-{TOOL_VERSION}")
        self.packages: list[Package] = []
        self.files: list[File] = []
        self.relationships: list[Relationship] = []
        self.annotations: list[Annotation] = []
        self.distfiles: dict[str, str] = {}  # name → SPDXID

    def relate(self, element: str, kind: RelationshipType, related: str) -> None:
        self.relationships.append(Relationship(element, kind, related))

    def annotate(self, element: str, comment: str) -> None:
        self.annotations.append(
            Annotation(element, AnnotationType.OTHER, self.tool, self.created, comment)
        )

    def add_file(self, path: str) -> str:
        identifier = f"SPDXRef-File-{len(self.files) + 1}"
        found = self.description.file_digests[path]
        checksums = [Checksum(ChecksumAlgorithm.SHA1, found["sha1"])]
        if "sha256" in found:
            checksums.append(Checksum(ChecksumAlgorithm.SHA256, found["sha256"]))
        self.files.append(
            File(
                "./" + path,
                identifier,
                checksums,
                license_concluded=SpdxNoAssertion(),
                copyright_text=SpdxNoAssertion(),
            )
        )
        return identifier

    def add_distfile(self, distfile: Distfile) -> str:
        if distfile.name in self.distfiles:
            return self.distfiles[distfile.name]
        identifier = spdx_id("SPDXRef-Distfile-", distfile.name)
        location = next((u for u in distfile.uris if _DOWNLOADABLE.match(u)), None)
        self.packages.append(
            Package(
                identifier,
                distfile.name,
                location or SpdxNoAssertion(),
                files_analyzed=False,
                checksums=[
                    Checksum(_CHECKSUMS[name], value)
                    for name, value in sorted(distfile.digests.items())
                    if name in _CHECKSUMS
                ],
                source_info=("SRC_URI: " + " ".join(distfile.uris)) if distfile.uris else None,
                license_concluded=SpdxNoAssertion(),
                license_declared=SpdxNoAssertion(),
                copyright_text=SpdxNoAssertion(),
                primary_package_purpose=PackagePurpose.SOURCE,
                comment="A distfile: a source file listed in the ebuild's Manifest.",
            )
        )
        self.distfiles[distfile.name] = identifier
        return identifier

    def add_package(self, described: SbomPackage) -> str:
        package = described.package
        identifier = spdx_id("SPDXRef-Package-", package.key)
        paths = described.files
        verification = None
        if paths:
            sha1s = sorted(self.description.file_digests[p]["sha1"] for p in paths)
            code = hashlib.sha1("".join(sha1s).encode()).hexdigest()
            verification = PackageVerificationCode(code)
        source_info = None
        if described.revision:
            source_info = (
                f"Built from the ebuild of repository {package.repository} "
                f"at revision {described.revision}."
            )
        if described.patches:
            applied = ", ".join(f"{p.source} (sha256:{p.sha256})" for p in described.patches)
            source_info = (
                f"{source_info or ''} Modified: built with user patches, applied by "
                f"eapply_user: {applied}."
            ).strip()
        if described.origin == COPIED_FROM_BUILDER:
            source_info = (
                "Runtime libraries of the builder's compiler, copied into the image by "
                "staves (only the files listed); " + (source_info or "")
            ).strip("; ")
        self.packages.append(
            Package(
                identifier,
                package.pn,
                SpdxNoAssertion(),
                version=package.pvr,
                files_analyzed=bool(paths),
                verification_code=verification,
                homepage=homepage(package),
                source_info=source_info,
                license_concluded=SpdxNoAssertion(),
                license_declared=_license(described.license),
                copyright_text=SpdxNoAssertion(),
                summary=package.description,
                external_references=[
                    ExternalPackageRef(
                        ExternalPackageRefCategory.PACKAGE_MANAGER, "purl", described.purl
                    )
                ],
            )
        )
        settings = dict(described.settings)
        if described.revision:
            settings["repository-revision"] = described.revision
        if described.origin:
            settings["origin"] = described.origin
        if described.patches:
            settings["modified"] = "user patches"
            for patch in described.patches:
                settings[f"patch {patch.name}"] = f"{patch.source} sha256:{patch.sha256}"
        # One annotation of "KEY: value" lines: spdx-tools' writer looks through every
        # annotation for each file, so their number weighs on every image's SBOM.
        if settings:
            self.annotate(identifier, "\n".join(f"{k}: {v}" for k, v in settings.items()))
        for path in paths:
            self.relate(identifier, RelationshipType.CONTAINS, self.add_file(path))
        for distfile in described.distfiles:
            self.relate(identifier, RelationshipType.GENERATED_FROM, self.add_distfile(distfile))
        return identifier


def _license(expression: str) -> object:
    if expression == "NOASSERTION":
        return SpdxNoAssertion()
    return spdx_licensing.parse(expression)


def _container(identifier: str, name: str, version: str, comment: str | None = None) -> Package:
    return Package(
        identifier,
        name,
        SpdxNoAssertion(),
        version=version,
        files_analyzed=False,
        license_concluded=SpdxNoAssertion(),
        license_declared=SpdxNoAssertion(),
        copyright_text=SpdxNoAssertion(),
        primary_package_purpose=PackagePurpose.CONTAINER,
        comment=comment,
    )


def spdx_document(description: ImageDescription) -> Document:
    """The SPDX 2.3 document (spdx-tools' model) of the image ``description`` describes."""
    subject = description.subject
    writer = _Writer(description)
    writer.packages.append(_container(IMAGE_ID, subject.name, subject.digest))
    writer.relate(DOCUMENT_ID, RelationshipType.DESCRIBES, IMAGE_ID)
    ids = {p.key: writer.add_package(p) for p in description.packages}
    for described in description.packages:
        writer.relate(IMAGE_ID, RelationshipType.CONTAINS, ids[described.key])
        for needed in described.depends_on:
            writer.relate(ids[described.key], RelationshipType.DEPENDS_ON, ids[needed])
    for used in description.inputs:
        identifier = spdx_id("SPDXRef-BuildInput-", used.role)
        package = _container(
            identifier, used.reference, used.digest or "NOASSERTION", f"The {used.role} image."
        )
        package.external_references = [
            ExternalPackageRef(
                ExternalPackageRefCategory.PACKAGE_MANAGER,
                "purl",
                oci_purl(used.reference, used.digest),
            )
        ]
        writer.packages.append(package)
        kind = (
            RelationshipType.BUILD_TOOL_OF
            if used.role == "builder"
            else RelationshipType.BUILD_DEPENDENCY_OF
        )
        writer.relate(identifier, kind, IMAGE_ID)
    creation = CreationInfo(
        "SPDX-2.3",
        DOCUMENT_ID,
        f"{subject.name}@{subject.digest}",
        NAMESPACE_BASE + hex_of(subject.digest),
        [writer.tool],
        _whole_seconds(subject.created),
    )
    return Document(
        creation,
        packages=writer.packages,
        files=writer.files,
        relationships=writer.relationships,
        annotations=writer.annotations,
        extracted_licensing_info=[
            ExtractedLicensingInfo(
                ref,
                f"The Gentoo license {name}: see licenses/{name} in the ebuild repository "
                "the package came from.",
                name,
            )
            for ref, name in sorted(description.license_refs.items())
        ],
    )


def _whole_seconds(when: datetime) -> datetime:
    return when.replace(microsecond=0)


def spdx_json(description: ImageDescription) -> bytes:
    """The document as spdx-tools writes it (validated by the tests, not at every build)."""
    out = io.StringIO()
    write_document_to_stream(spdx_document(description), out, validate=False, drop_duplicates=False)
    return out.getvalue().encode()
