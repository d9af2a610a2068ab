"""``staves audit``: which of an image's packages Gentoo's security advisories affect.

The packages come from the image's SBOM (each with its ``SLOT`` annotation) or else from
the package database kept in its layers (``vdb = "trim"`` keeps ``SLOT``); the matching is
``staves.gentoo.glsa``'s. Pure but for reading the image through its ``ImageSource``.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from oci.source import ImageSource, SourceImage
from staves.errors import StavesError
from staves.gentoo.glsa import Advisory, Finding, Installed, findings, gentoo_arch
from staves.gentoo.vdb import InstalledPackage
from staves.sources.packages import image_sbom, purl_name, vdb_in_layers

EXIT_CLEAN, EXIT_AFFECTED, EXIT_TROUBLE = 0, 1, 2


def installed_from_sbom(document: Mapping[str, Any]) -> list[Installed]:
    """The Gentoo packages of a Staves SBOM: purl name and version, ``SLOT`` annotation."""
    out = []
    for package in document.get("packages", []):
        named = next(
            (
                n
                for ref in package.get("externalRefs", [])
                if ref.get("referenceType") == "purl"
                and (n := purl_name(str(ref.get("referenceLocator", "")))) is not None
            ),
            None,
        )
        if named is None:
            continue
        notes = [
            line
            for a in package.get("annotations", [])
            for line in str(a.get("comment", "")).splitlines()
        ]
        slot = next((n.removeprefix("SLOT: ") for n in notes if n.startswith("SLOT: ")), "0")
        out.append(Installed(named[0], named[1], slot))
    return sorted(out, key=lambda p: (p.name, p.version))


def installed_from_vdb(packages: Iterable[InstalledPackage]) -> list[Installed]:
    installed = (Installed(p.cp, p.pvr, p.slot) for p in packages)
    return sorted(installed, key=lambda p: (p.name, p.version))


def image_packages(source: ImageSource, image: SourceImage) -> tuple[str, list[Installed]]:
    """Where the package list came from ("sbom" or "vdb") and the packages."""
    document = image_sbom(source, image)
    if document is not None:
        return "sbom", installed_from_sbom(document)
    packages, _ = vdb_in_layers(source, image.layers)
    return "vdb", installed_from_vdb(packages)


def no_package_list(source_text: str) -> StavesError:
    return StavesError(
        f"{source_text} has no package list: no SBOM is attached and its layers keep no "
        'package database (vdb = "none")',
        key="SOURCE",
        hint="audit a copy that carries its SBOM (oci:, oci-archive:, docker://) or build "
        'with vdb = "trim"',
        exit_code=EXIT_TROUBLE,
    )


@dataclass(frozen=True)
class AuditReport:
    source: str  # as given on the command line
    digest: str | None
    image_id: str
    packages_from: str  # "sbom" or "vdb"
    arch: str  # Gentoo's ARCH of the image
    packages: int
    advisories: int  # how many were checked
    findings: tuple[Finding, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "digest": self.digest,
            "image_id": self.image_id,
            "packages_from": self.packages_from,
            "arch": self.arch,
            "packages": self.packages,
            "advisories_checked": self.advisories,
            "findings": [finding_dict(f) for f in self.findings],
        }


def finding_dict(finding: Finding) -> dict[str, Any]:
    advisory = finding.advisory
    return {
        "advisory": f"GLSA {advisory.id}",
        "id": advisory.id,
        "title": advisory.title,
        "severity": advisory.severity,
        "bugs": list(advisory.bugs),
        "package": finding.package.name,
        "installed": finding.package.version,
        "slot": finding.package.slot,
        "affected": [str(r) for r in finding.affected],
        "fixed": [str(r) for r in finding.fixed],
    }


def audit_image(
    source_text: str,
    source: ImageSource,
    image: SourceImage,
    advisories: Sequence[Advisory],
) -> AuditReport:
    kind, installed = image_packages(source, image)
    if not installed:
        raise no_package_list(source_text)
    arch = gentoo_arch(str(image.config.get("architecture", "")))
    return AuditReport(
        source_text,
        image.digest,
        image.config_digest,
        kind,
        arch,
        len(installed),
        len(advisories),
        tuple(findings(installed, advisories, arch)),
    )


def finding_line(finding: Finding) -> str:
    """``GLSA 202611-01 (normal) app-misc/motd-1.0: affected <1.1, fixed >=1.1: TITLE``."""
    package = finding.package
    affected = ", ".join(str(r) for r in finding.affected) or "(no range)"
    fixed = ", ".join(str(r) for r in finding.fixed) or "none yet"
    severity = f" ({finding.advisory.severity})" if finding.advisory.severity else ""
    return (
        f"GLSA {finding.advisory.id}{severity} {package.name}-{package.version}: "
        f"affected {affected}, fixed {fixed}: {finding.advisory.title}"
    )


def render_audit_text(report: AuditReport) -> str:
    name = report.digest or f"ID {report.image_id}"
    head = (
        f"image {name}: {report.packages} packages (from {report.packages_from}), "
        f"{report.advisories} advisories, arch {report.arch}"
    )
    if not report.findings:
        return f"{head}\nno advisory applies\n"
    rows = [["ADVISORY", "SEVERITY", "PACKAGE", "INSTALLED", "AFFECTED", "FIXED", "TITLE"]]
    for f in report.findings:
        rows.append(
            [
                f"GLSA {f.advisory.id}",
                f.advisory.severity or "-",
                f.package.name,
                f.package.version,
                ", ".join(str(r) for r in f.affected) or "-",
                ", ".join(str(r) for r in f.fixed) or "none yet",
                f.advisory.title,
            ]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    count = len({f.advisory.id for f in report.findings})
    return f"{head}\n{count} {'advisory applies' if count == 1 else 'advisories apply'}\n\n" + (
        "\n".join(lines) + "\n"
    )


def refuse_affected(
    packages: Iterable[InstalledPackage], advisories: Sequence[Advisory], oci_arch: str
) -> list[Finding]:
    """The findings that stop ``staves build --audit``: advisories for what it would ship."""
    return findings(installed_from_vdb(packages), advisories, gentoo_arch(oci_arch))
