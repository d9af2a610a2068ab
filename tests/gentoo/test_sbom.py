"""The SPDX SBOM: valid for spdx-tools, deterministic, with what Gentoo knows."""

import io
import json
from datetime import UTC, datetime
from pathlib import Path

from spdx_tools.spdx.parser.parse_anything import parse_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from staves.gentoo.rootfs_layers import pack_rootfs
from staves.gentoo.sbom import ImageInput, SbomSubject, build_sbom, purl, sbom_blob
from staves.gentoo.vdb import read_vdb_dir
from tests.vdb_samples import ALL, UNOWNED, VDB, make_rootfs, podman_archive

DIGEST = "sha256:" + "ab" * 32
SUBJECT = SbomSubject("example/hello", DIGEST, datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC))
INPUTS = (
    ImageInput("builder", "localhost/staves-test-builder:latest", "sha256:" + "11" * 32),
    ImageInput("snapshot", "localhost/staves-test-portage:latest", "sha256:" + "22" * 32),
)


def document(tmp_path: Path) -> dict:
    root = make_rootfs(tmp_path / "root", ALL, UNOWNED)
    packages = read_vdb_dir(root / VDB)
    packed = pack_rootfs(
        io.BytesIO(podman_archive(root)), packages, layers=4, blob_dir=tmp_path / "blobs"
    )
    return build_sbom(packages, SUBJECT, packed.file_digests, INPUTS)


def test_spdx_tools_accepts_it(tmp_path: Path) -> None:
    path = tmp_path / "sbom.spdx.json"
    path.write_bytes(sbom_blob(document(tmp_path)).data)
    parsed = parse_file(str(path))
    assert validate_full_spdx_document(parsed, "SPDX-2.3") == []
    names = {p.name: p for p in parsed.packages}
    assert str(names["glibc"].license_declared) == (
        "LGPL-2.1-or-later AND BSD-3-Clause AND HPND AND ISC AND LicenseRef-Gentoo-inner-net "
        "AND LicenseRef-Gentoo-rc AND LicenseRef-Gentoo-PCRE"
    )
    assert len(parsed.files) == 5  # libc.so.6, ldd, libgreet.so.1, hello, the spaced file


def test_packages_carry_gentoo_metadata(tmp_path: Path) -> None:
    doc = document(tmp_path)
    by_name = {p["name"]: p for p in doc["packages"]}
    hello = by_name["hello"]
    assert hello["versionInfo"] == "1.0-r1"
    assert hello["externalRefs"][0]["referenceLocator"] == (
        "pkg:ebuild/app-misc/hello@1.0-r1?repository=gentoo"
    )
    assert hello["licenseDeclared"] == "(MIT OR GPL-2.0-or-later) AND OpenSSL"
    comments = {a["comment"] for a in hello["annotations"]}
    assert {"USE: ssl", "USE-disabled: test", "CFLAGS: -O2 -march=x86-64-v2"} <= comments
    glibc = {a["comment"] for a in by_name["glibc"]["annotations"]}
    assert {"CHOST: x86_64-pc-linux-gnu", "BUILD_ID: 3", "USE: multiarch ssp"} <= glibc
    assert by_name["libc"]["licenseDeclared"] == "NOASSERTION"
    assert by_name["libc"]["filesAnalyzed"] is False
    builder = by_name["localhost/staves-test-builder:latest"]
    assert builder["versionInfo"] == "sha256:" + "11" * 32
    kinds = {(r["spdxElementId"], r["relationshipType"]) for r in doc["relationships"]}
    assert ("SPDXRef-BuildInput-builder", "BUILD_TOOL_OF") in kinds
    assert ("SPDXRef-BuildInput-snapshot", "BUILD_DEPENDENCY_OF") in kinds
    assert doc["documentNamespace"].endswith("ab" * 32)
    assert doc["creationInfo"]["created"] == "2024-05-06T07:08:09Z"
    files = {f["fileName"] for f in doc["files"]}
    assert "./usr/share/hello/a file with spaces.txt" in files
    assert "./etc/ld.so.cache" not in files


def test_same_image_same_document(tmp_path: Path) -> None:
    a = sbom_blob(document(tmp_path / "a"))
    b = sbom_blob(document(tmp_path / "b"))
    assert a.digest == b.digest
    json.loads(a.data)


def test_purl_escapes() -> None:
    from staves.gentoo.vdb import package_from_files

    gtk = package_from_files("x11-libs", "gtk+-3.24.41-r1", {})
    assert purl(gtk) == "pkg:ebuild/x11-libs/gtk%2B@3.24.41-r1"
