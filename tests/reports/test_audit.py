"""What ``staves audit`` reads of an image's packages and how it reports advisories."""

from pathlib import Path

from staves.gentoo.glsa import Installed, findings
from staves.gentoo.vdb import read_vdb_dir
from staves.reports.audit import (
    AuditReport,
    installed_from_sbom,
    installed_from_vdb,
    render_audit_text,
)
from tests.gentoo.test_glsa import glsa_xml
from tests.gentoo.test_sbom import spdx as document
from tests.vdb_samples import ALL, UNOWNED, VDB, make_rootfs


def test_the_sbom_and_the_package_database_give_the_same_packages(tmp_path: Path) -> None:
    from_sbom = installed_from_sbom(document(tmp_path / "a"))
    root = make_rootfs(tmp_path / "b", ALL, UNOWNED)
    assert from_sbom == installed_from_vdb(read_vdb_dir(root / VDB))
    assert all(p.slot for p in from_sbom)


def report(found: list) -> AuditReport:
    return AuditReport(
        "oci:x:t", "sha256:" + "ab" * 32, "sha256:" + "cd" * 32, "sbom", "amd64", 7, 3, tuple(found)
    )


def test_the_text_names_advisory_package_installed_affected_and_fixed() -> None:
    from staves.gentoo.glsa import parse_glsa

    advisory = parse_glsa(
        glsa_xml([("vulnerable", "lt", "1.2", None), ("unaffected", "ge", "1.2", None)])
    )
    found = findings([Installed("app-misc/thing", "1.0", "0")], [advisory], "amd64")
    lines = render_audit_text(report(found)).splitlines()
    assert lines[0] == (
        f"image sha256:{'ab' * 32}: 7 packages (from sbom), 3 advisories, arch amd64"
    )
    assert lines[1] == "1 advisory applies"
    assert lines[3].split() == [
        "ADVISORY",
        "SEVERITY",
        "PACKAGE",
        "INSTALLED",
        "AFFECTED",
        "FIXED",
        "TITLE",
    ]
    assert lines[4].split()[:7] == [
        "GLSA",
        "202611-99",
        "high",
        "app-misc/thing",
        "1.0",
        "<1.2",
        ">=1.2",
    ]
    assert render_audit_text(report([])).splitlines()[1] == "no advisory applies"
