"""GLSA audits, the license policy and the snapshot's SPDX mapping, against the test builder.

The test repository carries GLSAs for its own packages (metadata/glsa): 202611-01 for
app-misc/motd before 1.1, 202611-02 for app-misc/hello before 1.0 (the repository has
1.0) and 202611-03 for glibc on x86 only. Its license-mapping.conf maps FSFAP, motd's
license, which Staves' built-in table lacks. Builds are shared: one image shipping the
affected motd-1.0, one shipping motd-1.1 without a package database.
"""

import json
import subprocess
from pathlib import Path

import pytest

from tests.builder_fixtures import PORTAGE, Build, Builder, builder, test_images
from tests.conftest import PROJECT

pytestmark = [pytest.mark.builder, pytest.mark.podman]
__all__ = ["builder", "test_images"]  # fixtures used by name

GLSA_DIR = PROJECT / "tests" / "testbed" / "repo" / "metadata" / "glsa"
SHIPS_MOTD_1_0 = 'name = "audit-old"\npackages = ["=app-misc/motd-1.0", "app-misc/hello"]\n'
SHIPS_MOTD_1_1 = 'name = "audit-new"\npackages = ["=app-misc/motd-1.1"]\nvdb = "none"\n'


def staves(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["staves", *map(str, args)], capture_output=True, text=True, check=False)


def audit(source: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return staves("audit", source, "--portage", PORTAGE, "--pull", "never", *args)


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("archives")


@pytest.fixture(scope="module")
def old(builder: Builder, archives: Path) -> Build:
    """An image with motd-1.0, in a layout (with its SBOM) and a docker archive (none)."""
    return builder.build(SHIPS_MOTD_1_0, "-o", f"docker-archive:{archives}/old.tar")


@pytest.fixture(scope="module")
def new(old: Build, builder: Builder, archives: Path) -> Build:
    """motd-1.1, built with --audit, without a package database (after ``old``: warm)."""
    return builder.build(SHIPS_MOTD_1_1, "--audit", "-o", f"docker-archive:{archives}/new.tar")


def test_audit_names_the_advisory_package_and_versions(old: Build) -> None:
    done = audit(old.image)
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert "3 advisories" in lines[0] and "arch amd64" in lines[0]
    (row,) = [line for line in lines if line.startswith("GLSA ")]
    assert row.split()[:6] == ["GLSA", "202611-01", "normal", "app-misc/motd", "1.0", "<1.1"]
    assert ">=1.1" in row and "motd: Terminal escape sequences" in row
    # hello 1.0 is the fixed version of 202611-02; 202611-03 is for x86 only.
    assert "202611-02" not in done.stdout and "202611-03" not in done.stdout


def test_audit_json_from_the_sbom_and_from_the_package_database(old: Build, archives: Path) -> None:
    reports = []
    for source in (old.image, f"docker-archive:{archives}/old.tar"):
        done = audit(source, "--format", "json")
        assert done.returncode == 1, done.stderr
        reports.append(json.loads(done.stdout))
    from_sbom, from_vdb = reports
    assert (from_sbom["packages_from"], from_vdb["packages_from"]) == ("sbom", "vdb")
    for report in reports:
        (finding,) = report["findings"]
        assert {k: finding[k] for k in ("id", "package", "installed", "slot")} == {
            "id": "202611-01",
            "package": "app-misc/motd",
            "installed": "1.0",
            "slot": "0",
        }
        assert (finding["affected"], finding["fixed"], finding["severity"]) == (
            ["<1.1"],
            [">=1.1"],
            "normal",
        )
    assert from_sbom["packages"] == from_vdb["packages"]


def test_audit_reads_a_directory_of_advisories_too(old: Build, tmp_path: Path) -> None:
    done = staves("audit", old.image, "--glsa-dir", GLSA_DIR)
    assert done.returncode == 1 and "GLSA 202611-01" in done.stdout
    (tmp_path / "glsa-202611-01.xml").write_text("<glsa")
    empty = staves("audit", old.image, "--glsa-dir", tmp_path)
    assert empty.returncode == 2
    assert empty.stderr.splitlines() == [
        "staves: warning: skipping advisory glsa-202611-01.xml: not XML: "
        "unclosed token: line 1, column 0",
        f"staves: error: --glsa-dir: {tmp_path} holds no GLSA advisories; a Gentoo snapshot "
        "carries them in metadata/glsa; --glsa-dir DIR reads a directory of glsa-*.xml files",
    ]


def test_the_sbom_maps_licenses_with_the_snapshots_mapping(old: Build) -> None:
    index = json.loads((old.layout / "artifacts" / "index.json").read_text())
    blobs = old.layout / "artifacts" / "blobs" / "sha256"
    (artifact,) = [
        m for m in index["manifests"] if m.get("artifactType") == "application/spdx+json"
    ]
    manifest = json.loads((blobs / artifact["digest"][7:]).read_text())
    document = json.loads((blobs / manifest["layers"][0]["digest"][7:]).read_text())
    declared = {p["name"]: p["licenseDeclared"] for p in document["packages"]}
    # FSFAP is only in the test repository's license-mapping.conf: the built-in table
    # would give LicenseRef-Gentoo-FSFAP.
    assert declared["motd"] == "FSFAP"
    assert declared["hello"] == "MIT"
    assert declared["baselayout"] == "GPL-2.0-only"  # not the deprecated GPL-2.0
    refs = {r["licenseId"] for r in document.get("hasExtractedLicensingInfos", [])}
    assert "LicenseRef-Gentoo-FSFAP" not in refs


def test_build_audit_refuses_an_affected_package_before_writing(
    builder: Builder, new: Build
) -> None:
    refused = builder.build(SHIPS_MOTD_1_0, "--audit", expect_ok=False)
    assert refused.proc.returncode == 1
    assert "staves: advisory: GLSA 202611-01 (normal) app-misc/motd-1.0: affected <1.1" in (
        refused.log
    )
    assert refused.log.splitlines()[-1] == (
        "staves: error: --audit: the image would ship app-misc/motd-1.0, affected by GLSA "
        "202611-01; upgrade to a fixed version (listed above) or build without --audit; "
        "no output was written"
    )
    assert not refused.layout.exists()
    # The same snapshot has nothing against motd-1.1.
    assert "staves: audit: none of 3 advisories applies to the image" in new.log


def test_an_image_without_a_package_list_is_one_line(new: Build, archives: Path) -> None:
    done = audit(f"docker-archive:{archives}/new.tar")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"staves: error: SOURCE: docker-archive:{archives}/new.tar has no package list: no "
        'SBOM is attached and its layers keep no package database (vdb = "none"); audit a '
        'copy that carries its SBOM (oci:, oci-archive:, docker://) or build with vdb = "trim"'
    ]
    clean = audit(new.image)  # the layout keeps the SBOM
    assert clean.returncode == 0, clean.stderr
    assert clean.stdout.splitlines()[1] == "no advisory applies"


def test_accept_license_refuses_a_package_before_anything_is_merged(builder: Builder) -> None:
    spec = SHIPS_MOTD_1_1 + 'accept_license = ["-@FREE-DOCUMENTS"]\n'
    refused = builder.build(spec, expect_ok=False)
    assert refused.proc.returncode == 1
    last = refused.log.splitlines()[-1]
    assert last.startswith(
        "staves: error: app-misc/motd-1.1: its license FSFAP is not accepted (exit code 1)"
    ), last
    # Refused by the first step: nothing was merged into the root, nothing compiled.
    assert "filesystem skeleton" not in refused.log and ">>> Emerging" not in refused.log
