"""What an image's SBOM says, from its installed packages: pure and deterministic.

``describe_image`` gathers it once: one entry per installed Gentoo package (purl
``pkg:ebuild/CATEGORY/PN@PVR``, declared license as an SPDX expression from the snapshot's
mapping, build settings, the files it installed with their digests in the image, the
distfiles it was built from with their SRC_URI and Manifest digests, the repository
revision, what it needs at run time from RDEPEND), the image itself and the builder and
snapshot images as build inputs. ``sbom_blob`` writes it in a format: SPDX 2.3 JSON
(``staves.gentoo.sbom_spdx``, in the layout spdx-tools writes) or CycloneDX 1.6 JSON
(``staves.gentoo.sbom_cyclonedx``, through cyclonedx-python-lib, imported only
when that format is written). Identifiers come from the image digest and times from the
image's, so the same image always gives the same documents.
"""

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from oci.blob import BytesBlob
from staves import __version__
from staves.gentoo.depstring import fetch_map, runtime_names
from staves.gentoo.layering import path_resolver
from staves.gentoo.licenses import gentoo_to_spdx
from staves.gentoo.vdb import InstalledPackage

SPDX_MEDIA_TYPE = "application/spdx+json"
CYCLONEDX_MEDIA_TYPE = "application/vnd.cyclonedx+json"
TOOL_NAME = "staves"
TOOL_VERSION = __version__
# Manifest hash names, as both formats name the same algorithms.
MANIFEST_HASHES = ("BLAKE2B", "SHA512", "SHA256")


# The origins of packages the builder gave (SbomPackage.origin), as the SBOMs say them.
COPIED_FROM_BUILDER = "builder"
PACKED_FROM_BUILDER = "builder (the builder image's installed package, packed by quickpkg)"


class SbomFormat(StrEnum):
    SPDX = "spdx"
    CYCLONEDX = "cyclonedx"

    @property
    def media_type(self) -> str:
        return SPDX_MEDIA_TYPE if self is SbomFormat.SPDX else CYCLONEDX_MEDIA_TYPE

    @property
    def file_name(self) -> str:
        """The payload's title in the attached artifact."""
        return "sbom.spdx.json" if self is SbomFormat.SPDX else "sbom.cdx.json"

    @property
    def suffix(self) -> str:
        """What names a file of this format: ``sbom.spdx.json``, ``sbom.cdx.json``."""
        return "spdx" if self is SbomFormat.SPDX else "cdx"


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


@dataclass(frozen=True)
class Distfile:
    """A source file a package was built from: its name, where SRC_URI fetches it from,
    and its Manifest digests (hash name → hex) and size."""

    name: str
    uris: tuple[str, ...] = ()
    digests: Mapping[str, str] = field(default_factory=dict)
    size: int | None = None


@dataclass(frozen=True)
class AppliedPatch:
    """A user patch eapply_user applied to a package's sources: its name in the patches
    directory, the path the spec gives and its sha256. A package built with any is
    modified from what its ebuild gives."""

    name: str
    source: str
    sha256: str


@dataclass(frozen=True)
class SbomPackage:
    package: InstalledPackage
    license: str  # an SPDX license expression, or NOASSERTION
    files: tuple[str, ...]  # paths in the image (no leading slash) with digests
    distfiles: tuple[Distfile, ...] = ()
    revision: str | None = None  # the revision of its repository it was built from
    depends_on: tuple[str, ...] = ()  # CATEGORY/PF of the packages RDEPEND names
    # Where it came from when not built for the image: COPIED_FROM_BUILDER for the
    # compiler's runtime libraries copied from the builder's compiler, PACKED_FROM_BUILDER
    # for a package Portage merged from the builder's installed copy (quickpkg).
    origin: str | None = None
    patches: tuple[AppliedPatch, ...] = ()

    @property
    def key(self) -> str:
        return self.package.key

    @property
    def purl(self) -> str:
        return purl(self.package)

    @property
    def settings(self) -> dict[str, str]:
        return build_settings(self.package)


@dataclass(frozen=True)
class ImageDescription:
    """Everything either format says about one image."""

    subject: SbomSubject
    packages: tuple[SbomPackage, ...]  # sorted by CATEGORY/PF
    file_digests: Mapping[str, Mapping[str, str]]
    inputs: tuple[ImageInput, ...] = ()
    license_refs: Mapping[str, str] = field(default_factory=dict)  # LicenseRef → Gentoo name
    repositories: Mapping[str, str | None] = field(default_factory=dict)  # name → revision

    @property
    def roots(self) -> tuple[str, ...]:
        """The packages no other package needs: what the image was asked to hold."""
        needed = {key for p in self.packages for key in p.depends_on if key != p.key}
        return tuple(p.key for p in self.packages if p.key not in needed)


def purl(package: InstalledPackage) -> str:
    """``pkg:ebuild/CATEGORY/PN@PVR[?repository=REPO]``."""
    text = (
        f"pkg:ebuild/{quote(package.category, safe='')}/{quote(package.pn, safe='')}"
        f"@{quote(package.pvr, safe='')}"
    )
    if package.repository:
        text += f"?repository={quote(package.repository, safe='')}"
    return text


def oci_purl(reference: str, digest: str | None) -> str:
    """``pkg:oci/NAME@DIGEST?repository_url=…`` of an image reference."""
    name = reference.split("@")[0].rsplit("/", 1)[-1].split(":")[0].lower()
    text = f"pkg:oci/{quote(name, safe='')}"
    if digest:
        text += "@" + quote(digest, safe="")
    return text + "?repository_url=" + quote(reference.split("@")[0].rsplit(":", 1)[0], safe="/")


def build_settings(package: InstalledPackage) -> dict[str, str]:
    """What a package was built with, by the name Portage gives each."""
    values = {
        "SLOT": package.slot,
        "repository": package.repository,
        "USE": " ".join(package.enabled_use) if package.iuse else " ".join(sorted(package.use)),
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


def homepage(package: InstalledPackage) -> str | None:
    for url in (package.homepage or "").split():
        if url.startswith(("http://", "https://")):
            return url
    return None


def spdx_id(prefix: str, text: str) -> str:
    return prefix + re.sub(r"[^A-Za-z0-9.-]", lambda m: f"-{ord(m[0]):X}-", text)


def _package_files(
    package: InstalledPackage, resolve: Any, digests: Mapping[str, Mapping[str, str]]
) -> tuple[str, ...]:
    paths = {resolve(e.path) for e in package.contents if e.kind == "obj"}
    return tuple(sorted(p for p in paths if p in digests and "sha1" in digests[p]))


def _distfiles(package: InstalledPackage, recorded: Mapping[str, Any] | None) -> list[Distfile]:
    """The package's distfiles as the build recorded them (``A`` and the Manifest), each
    with the URIs its SRC_URI gives."""
    uris = fetch_map(package.src_uri, package.use) if package.src_uri else {}
    out = []
    for entry in (recorded or {}).get("distfiles") or []:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
            continue
        name = entry["name"]
        digests = entry.get("digests") if isinstance(entry.get("digests"), Mapping) else {}
        known = {k: str(v) for k, v in (digests or {}).items() if k in MANIFEST_HASHES}
        size = entry.get("size") if isinstance(entry.get("size"), int) else None
        out.append(Distfile(name, tuple(uris.get(name, ())), known, size))
    return sorted(out, key=lambda d: d.name)


def _revision(
    package: InstalledPackage,
    recorded: Mapping[str, Any] | None,
    repositories: Mapping[str, str | None],
) -> str | None:
    """The revision of the package's repository it was built from: what Portage recorded
    when building it (REPO_REVISIONS), else the repository's at the build."""
    revisions = (recorded or {}).get("revisions")
    if isinstance(revisions, Mapping) and package.repository in revisions:
        return str(revisions[package.repository])
    return repositories.get(package.repository or "")


def _dependencies(packages: Sequence[InstalledPackage]) -> dict[str, tuple[str, ...]]:
    """CATEGORY/PF → the installed packages its RDEPEND names."""
    by_cp: dict[str, list[str]] = {}
    for package in packages:
        by_cp.setdefault(package.cp, []).append(package.key)
    out = {}
    for package in packages:
        names = runtime_names(package.rdepend, by_cp, package.use)
        keys = [key for cp in names for key in by_cp[cp] if key != package.key]
        out[package.key] = tuple(sorted(set(keys)))
    return out


def _repositories(sources: Mapping[str, Any]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for repo in sources.get("repositories") or []:
        if isinstance(repo, Mapping) and isinstance(repo.get("name"), str):
            revision = repo.get("revision")
            out[repo["name"]] = revision if isinstance(revision, str) and revision else None
    return out


def _patches(recorded: Mapping[str, Any] | None) -> tuple[AppliedPatch, ...]:
    """The user patches the builder recorded for a package."""
    found = []
    for entry in (recorded or {}).get("patches") or []:
        if isinstance(entry, Mapping) and all(isinstance(entry.get(k), str) for k in _PATCH):
            found.append(AppliedPatch(entry["name"], entry["source"], entry["sha256"]))
    return tuple(sorted(found, key=lambda p: p.name))


_PATCH = ("name", "source", "sha256")


def _origin(key: str, copied: set[str], packed: set[str]) -> str | None:
    if key in copied:
        return COPIED_FROM_BUILDER
    return PACKED_FROM_BUILDER if key in packed else None


def describe_image(
    packages: Sequence[InstalledPackage],
    subject: SbomSubject,
    file_digests: Mapping[str, Mapping[str, str]],
    inputs: Sequence[ImageInput] = (),
    root_links: Mapping[str, str] | None = None,
    license_table: Mapping[str, str] | None = None,
    sources: Mapping[str, Any] | None = None,
) -> ImageDescription:
    """What the SBOM of image ``subject`` says: ``packages`` (its package database),
    ``file_digests`` (path → sha1/sha256 of every regular file), ``sources`` what the
    builder recorded for the provenance (repositories with their revisions; per package
    its distfiles with Manifest digests, REPO_REVISIONS, ``origin: builder`` when the
    builder's installed copy gave it, the user ``patches`` it was built with;
    ``builder_packages``: entries made from the builder's own, the compiler runtime).
    Licenses are mapped with ``license_table`` (the snapshot's license-mapping.conf,
    inverted), else the built-in table."""
    sources = sources or {}
    recorded = {
        p["cpv"]: p
        for p in sources.get("packages") or []
        if isinstance(p, Mapping) and isinstance(p.get("cpv"), str)
    }
    copied = set(sources.get("builder_packages") or [])
    packed = {key for key, p in recorded.items() if p.get("origin") == "builder"}
    repositories = _repositories(sources)
    resolve = path_resolver(packages, root_links)
    depends = _dependencies(packages)
    refs: dict[str, str] = {}
    described = []
    for package in sorted(packages, key=lambda p: p.key):
        license_ = gentoo_to_spdx(package.license, package.use, license_table)
        refs.update(license_.refs)
        described.append(
            SbomPackage(
                package,
                license_.expression,
                _package_files(package, resolve, file_digests),
                tuple(_distfiles(package, recorded.get(package.key))),
                _revision(package, recorded.get(package.key), repositories),
                depends[package.key],
                _origin(package.key, copied, packed),
                _patches(recorded.get(package.key)),
            )
        )
    return ImageDescription(
        subject, tuple(described), file_digests, tuple(inputs), refs, repositories
    )


def sbom_bytes(description: ImageDescription, sbom_format: SbomFormat) -> bytes:
    """The document in ``sbom_format``."""
    if sbom_format is SbomFormat.SPDX:
        from staves.gentoo.sbom_spdx import spdx_json

        return spdx_json(description)
    from staves.gentoo.sbom_cyclonedx import cyclonedx_json

    return cyclonedx_json(description)


def sbom_blob(description: ImageDescription, sbom_format: SbomFormat) -> BytesBlob:
    """The document as the blob written next to the image and attached to it."""
    return BytesBlob(sbom_bytes(description, sbom_format), sbom_format.media_type)


def parse_formats(names: Iterable[str]) -> tuple[SbomFormat, ...]:
    """``--sbom-format`` values, each once, in the order given (default: SPDX)."""
    out: list[SbomFormat] = []
    for name in names:
        chosen = SbomFormat(name)
        if chosen not in out:
            out.append(chosen)
    return tuple(out) or (SbomFormat.SPDX,)
