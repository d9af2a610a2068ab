"""An SPDX 2.3 JSON SBOM for an image, from its installed packages: pure and deterministic.

The document describes the image; the image contains one SPDX package per installed Gentoo
package (purl ``pkg:ebuild/CATEGORY/PN@PVR``, declared license from Gentoo's LICENSE,
build settings as annotations), and each package contains its files (with the SHA-1 and
SHA-256 of the bytes in the image). The builder and snapshot images are build inputs.
The namespace comes from the image digest and the creation time from the image's, so the
same image always gives the same document.
"""

import hashlib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from oci.blob import BytesBlob, canonical_json
from oci.digest import hex_of
from oci.image import format_time
from staves import __version__
from staves.gentoo.layering import path_resolver
from staves.gentoo.licenses import gentoo_to_spdx
from staves.gentoo.vdb import InstalledPackage

SPDX_MEDIA_TYPE = "application/spdx+json"
NAMESPACE_BASE = "https://spdx.org/spdxdocs/staves-image-"
TOOL = f"Tool: staves-{__version__}"
NOASSERTION = "NOASSERTION"
IMAGE_ID = "SPDXRef-Image"
# Package annotations hold the build settings as "KEY: value".
ANNOTATION_KEYS = (
    "SLOT",
    "repository",
    "USE",
    "USE-disabled",
    "CFLAGS",
    "CXXFLAGS",
    "LDFLAGS",
    "CHOST",
    "BUILD_ID",
    "BUILD_TIME",
    "SIZE",
)


@dataclass(frozen=True)
class ImageInput:
    """An image the build used: the builder or the Portage snapshot."""

    role: str  # "builder" or "snapshot"
    reference: str
    digest: str | None = None


@dataclass(frozen=True)
class SbomSubject:
    """The image the SBOM describes."""

    name: str
    digest: str  # manifest digest
    created: datetime


def _spdx_id(prefix: str, text: str) -> str:
    return prefix + re.sub(r"[^A-Za-z0-9.-]", lambda m: f"-{ord(m[0]):X}-", text)


def purl(package: InstalledPackage) -> str:
    """``pkg:ebuild/CATEGORY/PN@PVR[?repository=REPO]``."""
    text = (
        f"pkg:ebuild/{quote(package.category, safe='')}/{quote(package.pn, safe='')}"
        f"@{quote(package.pvr, safe='')}"
    )
    if package.repository:
        text += f"?repository={quote(package.repository, safe='')}"
    return text


def _oci_purl(reference: str, digest: str | None) -> str:
    name = reference.split("@")[0].rsplit("/", 1)[-1].split(":")[0].lower()
    text = f"pkg:oci/{quote(name, safe='')}"
    if digest:
        text += "@" + quote(digest, safe="")
    return text + "?repository_url=" + quote(reference.split("@")[0].rsplit(":", 1)[0], safe="/")


def build_settings(package: InstalledPackage) -> dict[str, str]:
    """The annotations of a package: what it was built with."""
    values = {
        "SLOT": package.slot,
        "repository": package.repository,
        "USE": " ".join(package.enabled_use),
        "USE-disabled": " ".join(package.disabled_use),
        "CFLAGS": package.cflags,
        "CXXFLAGS": package.cxxflags,
        "LDFLAGS": package.ldflags,
        "CHOST": package.chost,
        "BUILD_ID": package.build_id,
        "BUILD_TIME": None if package.build_time is None else str(package.build_time),
        "SIZE": None if package.size is None else str(package.size),
    }
    return {k: v for k, v in values.items() if v is not None}


# The annotation of a package the builder gave (its installed copy, packed by quickpkg).
FROM_BUILDER = "origin: builder (the builder image's installed package, packed by quickpkg)"


def _annotation(comment: str, created: str) -> dict[str, str]:
    return {
        "annotationDate": created,
        "annotationType": "OTHER",
        "annotator": TOOL,
        "comment": comment,
    }


def _package_files(
    package: InstalledPackage, resolve: Any, digests: Mapping[str, Mapping[str, str]]
) -> list[str]:
    paths = {resolve(e.path) for e in package.contents if e.kind == "obj"}
    return sorted(p for p in paths if p in digests and "sha1" in digests[p])


def _homepage(package: InstalledPackage) -> str | None:
    for url in (package.homepage or "").split():
        if url.startswith(("http://", "https://")):
            return url
    return None


class _Builder:
    def __init__(
        self,
        subject: SbomSubject,
        digests: Mapping[str, Mapping[str, str]],
        license_table: Mapping[str, str] | None,
    ) -> None:
        self.created = format_time(subject.created)
        self.digests = digests
        self.license_table = license_table
        self.packages: list[dict[str, Any]] = []
        self.files: list[dict[str, Any]] = []
        self.relationships: list[dict[str, str]] = []
        self.refs: dict[str, str] = {}

    def relate(self, element: str, kind: str, related: str) -> None:
        self.relationships.append(
            {"spdxElementId": element, "relationshipType": kind, "relatedSpdxElement": related}
        )

    def add_file(self, path: str) -> str:
        spdx_id = f"SPDXRef-File-{len(self.files) + 1}"
        found = self.digests[path]
        checksums = [{"algorithm": "SHA1", "checksumValue": found["sha1"]}]
        if "sha256" in found:
            checksums.append({"algorithm": "SHA256", "checksumValue": found["sha256"]})
        self.files.append(
            {
                "SPDXID": spdx_id,
                "fileName": "./" + path,
                "checksums": checksums,
                "licenseConcluded": NOASSERTION,
                "copyrightText": NOASSERTION,
            }
        )
        return spdx_id

    def add_package(self, package: InstalledPackage, resolve: Any, from_builder: bool) -> str:
        spdx_id = _spdx_id("SPDXRef-Package-", package.key)
        license_ = gentoo_to_spdx(package.license, package.use, self.license_table)
        self.refs.update(license_.refs)
        paths = _package_files(package, resolve, self.digests)
        entry: dict[str, Any] = {
            "SPDXID": spdx_id,
            "name": package.pn,
            "versionInfo": package.pvr,
            "downloadLocation": NOASSERTION,
            "licenseDeclared": license_.expression,
            "licenseConcluded": NOASSERTION,
            "copyrightText": NOASSERTION,
            "filesAnalyzed": bool(paths),
            "externalRefs": [
                {
                    "referenceCategory": "PACKAGE-MANAGER",
                    "referenceType": "purl",
                    "referenceLocator": purl(package),
                }
            ],
            "annotations": [
                _annotation(f"{k}: {v}", self.created) for k, v in build_settings(package).items()
            ],
        }
        if from_builder:
            entry["annotations"].append(_annotation(FROM_BUILDER, self.created))
        if package.description:
            entry["summary"] = package.description
        if homepage := _homepage(package):
            entry["homepage"] = homepage
        if paths:
            sha1s = sorted(self.digests[p]["sha1"] for p in paths)
            code = hashlib.sha1("".join(sha1s).encode()).hexdigest()
            entry["packageVerificationCode"] = {"packageVerificationCodeValue": code}
        self.packages.append(entry)
        for path in paths:
            self.relate(spdx_id, "CONTAINS", self.add_file(path))
        return spdx_id


def _extracted(refs: Mapping[str, str]) -> Iterator[dict[str, str]]:
    for ref, name in sorted(refs.items()):
        yield {
            "licenseId": ref,
            "name": name,
            "extractedText": f"The Gentoo license {name}: see licenses/{name} in the "
            "ebuild repository the package came from.",
        }


def build_sbom(
    packages: Sequence[InstalledPackage],
    subject: SbomSubject,
    file_digests: Mapping[str, Mapping[str, str]],
    inputs: Sequence[ImageInput] = (),
    root_links: Mapping[str, str] | None = None,
    license_table: Mapping[str, str] | None = None,
    from_builder: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The SPDX 2.3 document (as JSON-ready dict) for the image ``subject``; licenses are
    mapped with ``license_table`` (the snapshot's license-mapping.conf, inverted), else
    with the built-in table. Packages in ``from_builder`` (CATEGORY/PF) came from the
    builder's installed ones, and say so."""
    builder = _Builder(subject, file_digests, license_table)
    builder.packages.append(
        {
            "SPDXID": IMAGE_ID,
            "name": subject.name,
            "versionInfo": subject.digest,
            "downloadLocation": NOASSERTION,
            "filesAnalyzed": False,
            "licenseConcluded": NOASSERTION,
            "licenseDeclared": NOASSERTION,
            "copyrightText": NOASSERTION,
            "primaryPackagePurpose": "CONTAINER",
        }
    )
    builder.relate("SPDXRef-DOCUMENT", "DESCRIBES", IMAGE_ID)
    resolve = path_resolver(packages, root_links)
    for package in sorted(packages, key=lambda p: p.key):
        package_id = builder.add_package(package, resolve, package.key in from_builder)
        builder.relate(IMAGE_ID, "CONTAINS", package_id)
    for used in inputs:
        spdx_id = _spdx_id("SPDXRef-BuildInput-", used.role)
        builder.packages.append(
            {
                "SPDXID": spdx_id,
                "name": used.reference,
                "versionInfo": used.digest or NOASSERTION,
                "downloadLocation": NOASSERTION,
                "filesAnalyzed": False,
                "licenseConcluded": NOASSERTION,
                "licenseDeclared": NOASSERTION,
                "copyrightText": NOASSERTION,
                "primaryPackagePurpose": "CONTAINER",
                "comment": f"The {used.role} image of the build.",
                "externalRefs": [
                    {
                        "referenceCategory": "PACKAGE-MANAGER",
                        "referenceType": "purl",
                        "referenceLocator": _oci_purl(used.reference, used.digest),
                    }
                ],
            }
        )
        kind = "BUILD_TOOL_OF" if used.role == "builder" else "BUILD_DEPENDENCY_OF"
        builder.relate(spdx_id, kind, IMAGE_ID)
    doc: dict[str, Any] = {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": f"{subject.name}@{subject.digest}",
        "documentNamespace": NAMESPACE_BASE + hex_of(subject.digest),
        "creationInfo": {"created": builder.created, "creators": [TOOL]},
        "packages": builder.packages,
        "files": builder.files,
        "relationships": builder.relationships,
    }
    if builder.refs:
        doc["hasExtractedLicensingInfos"] = list(_extracted(builder.refs))
    return doc


def sbom_blob(document: Mapping[str, Any]) -> BytesBlob:
    """The document as the blob written next to the image and attached to it."""
    return BytesBlob(canonical_json(document), SPDX_MEDIA_TYPE)
