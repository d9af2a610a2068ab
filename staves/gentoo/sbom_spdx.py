"""An image's description as an SPDX 2.3 JSON document.

The document describes the image (a CONTAINER package); the image contains one package per
installed Gentoo package (purl, declared license, build settings as an annotation of
``KEY: value`` lines), which contains its files (SHA-1 and SHA-256 of the bytes in the image),
depends on the packages its RDEPEND names, and is generated from its distfiles (SOURCE
packages with SRC_URI's download location and the Manifest's BLAKE2b-512/SHA-512). The
builder and snapshot images are build inputs.

Written here as plain JSON, in the layout spdx-tools, SPDX's reference library, writes
(properties in its order, absent ones left out, annotations inside their elements): its
tests read each document back with spdx-tools, validate it, and write it again to the same
bytes. Importing spdx-tools' model took 0.3 s of every build (its type checks are built as
it loads).
"""

import hashlib
import json
import re
from typing import Any

from oci.digest import hex_of
from oci.image import format_time
from staves.gentoo.licenses import NOASSERTION
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
# The Manifest's digests as SPDX names its checksum algorithms.
_CHECKSUMS = {"BLAKE2B": "BLAKE2b-512", "SHA512": "SHA512", "SHA256": "SHA256"}
# The download locations SPDX 2.3 takes: a URL of these schemes (a VCS location aside).
# Gentoo's mirror://NAME/… is none of them; it stays in the package's sourceInfo.
_DOWNLOADABLE = re.compile(r"^(https?|ftp|sftp)://[^\s/]+\.[^\s/]+(/\S*)?$")
Json = dict[str, Any]


def _present(**properties: Any) -> Json:
    """The properties given, in their order, without those that are absent (None)."""
    return {key: value for key, value in properties.items() if value is not None}


def _checksum(algorithm: str, value: str) -> Json:
    return {"algorithm": algorithm, "checksumValue": value}


def _purl_ref(locator: str) -> Json:
    return {
        "referenceCategory": "PACKAGE_MANAGER",
        "referenceLocator": locator,
        "referenceType": "purl",
    }


def _package(
    identifier: str,
    name: str,
    *,
    annotations: list[Json] | None = None,
    checksums: list[Json] | None = None,
    comment: str | None = None,
    download: str = NOASSERTION,
    refs: list[Json] | None = None,
    files_analyzed: bool = False,
    home: str | None = None,
    license_declared: str = NOASSERTION,
    verification: str | None = None,
    purpose: str | None = None,
    source_info: str | None = None,
    summary: str | None = None,
    version: str | None = None,
) -> Json:
    """A package, its properties in spdx-tools' order (SPDX 2.3's JSON schema, sorted as
    its model lists them)."""
    return _present(
        SPDXID=identifier,
        annotations=annotations or None,
        checksums=checksums or None,
        comment=comment,
        copyrightText=NOASSERTION,
        downloadLocation=download,
        externalRefs=refs or None,
        filesAnalyzed=files_analyzed,
        homepage=home,
        licenseConcluded=NOASSERTION,
        licenseDeclared=license_declared,
        name=name,
        packageVerificationCode=(
            {"packageVerificationCodeValue": verification} if verification else None
        ),
        primaryPackagePurpose=purpose,
        sourceInfo=source_info,
        summary=summary,
        versionInfo=version,
    )


class _Writer:
    def __init__(self, description: ImageDescription) -> None:
        self.description = description
        self.created = format_time(description.subject.created)  # SPDX takes RFC 3339 too
        self.tool = f"Tool: {TOOL_NAME}-{TOOL_VERSION}"
        self.packages: list[Json] = []
        self.files: list[Json] = []
        self.relationships: list[Json] = []
        self.distfiles: dict[str, str] = {}  # name → SPDXID

    def relate(self, element: str, kind: str, related: str) -> None:
        self.relationships.append(
            {"spdxElementId": element, "relatedSpdxElement": related, "relationshipType": kind}
        )

    def annotation(self, comment: str) -> Json:
        return {
            "annotationDate": self.created,
            "annotationType": "OTHER",
            "annotator": self.tool,
            "comment": comment,
        }

    def add_file(self, path: str) -> str:
        identifier = f"SPDXRef-File-{len(self.files) + 1}"
        found = self.description.file_digests[path]
        checksums = [_checksum("SHA1", found["sha1"])]
        if "sha256" in found:
            checksums.append(_checksum("SHA256", found["sha256"]))
        self.files.append(
            {
                "SPDXID": identifier,
                "checksums": checksums,
                "copyrightText": NOASSERTION,
                "fileName": "./" + path,
                "licenseConcluded": NOASSERTION,
            }
        )
        return identifier

    def add_distfile(self, distfile: Distfile) -> str:
        if distfile.name in self.distfiles:
            return self.distfiles[distfile.name]
        identifier = spdx_id("SPDXRef-Distfile-", distfile.name)
        location = next((u for u in distfile.uris if _DOWNLOADABLE.match(u)), None)
        self.packages.append(
            _package(
                identifier,
                distfile.name,
                checksums=[
                    _checksum(_CHECKSUMS[name], value)
                    for name, value in sorted(distfile.digests.items())
                    if name in _CHECKSUMS
                ],
                comment="A distfile: a source file listed in the ebuild's Manifest.",
                download=location or NOASSERTION,
                purpose="SOURCE",
                source_info=("SRC_URI: " + " ".join(distfile.uris)) if distfile.uris else None,
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
            verification = hashlib.sha1("".join(sha1s).encode()).hexdigest()
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
        settings = dict(described.settings)
        if described.revision:
            settings["repository-revision"] = described.revision
        if described.origin:
            settings["origin"] = described.origin
        if described.patches:
            settings["modified"] = "user patches"
            for patch in described.patches:
                settings[f"patch {patch.name}"] = f"{patch.source} sha256:{patch.sha256}"
        # One annotation of "KEY: value" lines, not one per setting: readers look through
        # every annotation for each element.
        notes = "\n".join(f"{k}: {v}" for k, v in settings.items())
        self.packages.append(
            _package(
                identifier,
                package.pn,
                annotations=[self.annotation(notes)] if settings else None,
                refs=[_purl_ref(described.purl)],
                files_analyzed=bool(paths),
                home=homepage(package),
                license_declared=described.license,
                verification=verification,
                source_info=source_info,
                summary=package.description,
                version=package.pvr,
            )
        )
        for path in paths:
            self.relate(identifier, "CONTAINS", self.add_file(path))
        for distfile in described.distfiles:
            self.relate(identifier, "GENERATED_FROM", self.add_distfile(distfile))
        return identifier


def _container(identifier: str, name: str, version: str, **more: Any) -> Json:
    return _package(identifier, name, purpose="CONTAINER", version=version, **more)


def spdx_document(description: ImageDescription) -> Json:
    """The SPDX 2.3 document of the image ``description`` describes, as JSON values."""
    subject = description.subject
    writer = _Writer(description)
    writer.packages.append(_container(IMAGE_ID, subject.name, subject.digest))
    writer.relate(DOCUMENT_ID, "DESCRIBES", IMAGE_ID)
    ids = {p.key: writer.add_package(p) for p in description.packages}
    for described in description.packages:
        writer.relate(IMAGE_ID, "CONTAINS", ids[described.key])
        for needed in described.depends_on:
            writer.relate(ids[described.key], "DEPENDS_ON", ids[needed])
    for used in description.inputs:
        identifier = spdx_id("SPDXRef-BuildInput-", used.role)
        writer.packages.append(
            _container(
                identifier,
                used.reference,
                used.digest or NOASSERTION,
                comment=f"The {used.role} image.",
                refs=[_purl_ref(oci_purl(used.reference, used.digest))],
            )
        )
        kind = "BUILD_TOOL_OF" if used.role == "builder" else "BUILD_DEPENDENCY_OF"
        writer.relate(identifier, kind, IMAGE_ID)
    extracted = [
        {
            "extractedText": f"The Gentoo license {name}: see licenses/{name} in the ebuild "
            "repository the package came from.",
            "licenseId": ref,
            "name": name,
        }
        for ref, name in sorted(description.license_refs.items())
    ]
    return _present(
        SPDXID=DOCUMENT_ID,
        creationInfo={"created": writer.created, "creators": [writer.tool]},
        dataLicense="CC0-1.0",
        hasExtractedLicensingInfos=extracted or None,
        name=f"{subject.name}@{subject.digest}",
        spdxVersion="SPDX-2.3",
        documentNamespace=NAMESPACE_BASE + hex_of(subject.digest),
        packages=writer.packages,
        files=writer.files or None,
        relationships=writer.relationships,
    )


def spdx_json(description: ImageDescription) -> bytes:
    """The document's JSON, as spdx-tools writes it (four spaces, ASCII, no newline)."""
    return json.dumps(spdx_document(description), indent=4).encode()
