"""The SBOMs: SPDX valid for spdx-tools, CycloneDX valid against the 1.6 schema (checked
with cyclonedx-python-lib's validator), both deterministic, both with what Gentoo knows:
files, licenses, USE and CFLAGS, RDEPEND, distfiles with SRC_URI and Manifest digests,
repository revisions."""

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from spdx_tools.spdx.parser.parse_anything import parse_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document
from spdx_tools.spdx.writer.json.json_writer import write_document_to_stream

from staves.gentoo.rootfs_layers import pack_rootfs
from staves.gentoo.sbom import (
    ImageDescription,
    ImageInput,
    SbomFormat,
    SbomSubject,
    describe_image,
    parse_formats,
    purl,
    sbom_blob,
)
from staves.gentoo.vdb import read_vdb_dir
from tests.vdb_samples import ALL, UNOWNED, VDB, make_rootfs, podman_archive

DIGEST = "sha256:" + "ab" * 32
SUBJECT = SbomSubject("example/hello", DIGEST, datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC))
INPUTS = (
    ImageInput("builder", "localhost/staves-test-builder:latest", "sha256:" + "11" * 32),
    ImageInput("snapshot", "localhost/staves-test-portage:latest", "sha256:" + "22" * 32),
)
BLAKE2B = "b2" * 64
SHA512 = "51" * 64
# What the builder records for the provenance, which the SBOM reuses.
SOURCES = {
    "repositories": [{"name": "gentoo", "location": "/var/db/repos/gentoo", "revision": "c0ffee"}],
    "packages": [
        {
            "cpv": "app-misc/hello-1.0-r1",
            "repository": "gentoo",
            "revisions": {"gentoo": "beef01"},
            "distfiles": [
                {
                    "name": "hello-1.0.tar.gz",
                    "size": 221,
                    "digests": {"BLAKE2B": BLAKE2B, "SHA512": SHA512},
                },
                {"name": "hello-tls-1.0.tar.xz", "size": 12, "digests": {"SHA512": SHA512}},
            ],
        },
        {"cpv": "sys-libs/glibc-2.39-r6", "repository": "gentoo", "distfiles": []},
    ],
    "builder_packages": ["dev-libs/libgreet-1.0"],
}


def description(tmp_path: Path) -> ImageDescription:
    root = make_rootfs(tmp_path / "root", ALL, UNOWNED)
    packages = read_vdb_dir(root / VDB)
    packed = pack_rootfs(
        io.BytesIO(podman_archive(root)), packages, layers=4, blob_dir=tmp_path / "blobs"
    )
    return describe_image(packages, SUBJECT, packed.file_digests, INPUTS, sources=SOURCES)


def spdx(tmp_path: Path) -> dict[str, Any]:
    return dict(json.loads(sbom_blob(description(tmp_path), SbomFormat.SPDX).data))


def cyclonedx(tmp_path: Path) -> dict[str, Any]:
    return dict(json.loads(sbom_blob(description(tmp_path), SbomFormat.CYCLONEDX).data))


def test_spdx_tools_accepts_it(tmp_path: Path) -> None:
    path = tmp_path / "sbom.spdx.json"
    path.write_bytes(sbom_blob(description(tmp_path), SbomFormat.SPDX).data)
    parsed = parse_file(str(path))
    assert validate_full_spdx_document(parsed, "SPDX-2.3") == []
    names = {p.name: p for p in parsed.packages}
    assert str(names["glibc"].license_declared) == (
        "LGPL-2.1-or-later AND BSD-3-Clause AND HPND AND ISC AND LicenseRef-Gentoo-inner-net "
        "AND LicenseRef-Gentoo-rc AND LicenseRef-Gentoo-PCRE"
    )
    assert len(parsed.files) == 5  # libc.so.6, ldd, libgreet.so.1, hello, the spaced file


def written_again_by_spdx_tools(data: bytes, tmp_path: Path) -> bytes:
    """The document read by spdx-tools, validated, and written again by its own writer."""
    path = tmp_path / "read.spdx.json"
    path.write_bytes(data)
    out = io.StringIO()
    write_document_to_stream(parse_file(str(path)), out, validate=True, drop_duplicates=False)
    return out.getvalue().encode()


def test_spdx_tools_writes_it_again_to_the_same_bytes(tmp_path: Path) -> None:
    """Staves writes SPDX's JSON itself; read and written again by SPDX's reference library
    it is unchanged: every property where, and as, spdx-tools puts it."""
    data = sbom_blob(description(tmp_path), SbomFormat.SPDX).data
    assert written_again_by_spdx_tools(data, tmp_path) == data


def test_cyclonedx_validates_against_the_1_6_schema(tmp_path: Path) -> None:
    data = sbom_blob(description(tmp_path), SbomFormat.CYCLONEDX).data.decode()
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(data) is None
    bom = json.loads(data)
    assert bom["specVersion"] == "1.6"
    image = bom["metadata"]["component"]
    assert (image["type"], image["name"], image["version"]) == (
        "container",
        "example/hello",
        DIGEST,
    )


def test_spdx_packages_carry_gentoo_metadata(tmp_path: Path) -> None:
    doc = spdx(tmp_path)
    by_name = {p["name"]: p for p in doc["packages"]}
    hello = by_name["hello"]
    assert hello["versionInfo"] == "1.0-r1"
    assert hello["externalRefs"][0]["referenceLocator"] == (
        "pkg:ebuild/app-misc/hello@1.0-r1?repository=gentoo"
    )
    assert hello["licenseDeclared"] == "(MIT OR GPL-2.0-or-later) AND OpenSSL"
    notes = {n for a in hello["annotations"] for n in a["comment"].splitlines()}
    assert {"USE: ssl", "USE-disabled: test", "CFLAGS: -O2 -march=x86-64-v2"} <= notes
    assert "repository-revision: beef01" in notes  # REPO_REVISIONS wins over the sync's
    assert "beef01" in hello["sourceInfo"]
    glibc = {n for a in by_name["glibc"]["annotations"] for n in a["comment"].splitlines()}
    assert {"CHOST: x86_64-pc-linux-gnu", "BUILD_ID: 3", "USE: multiarch ssp"} <= glibc
    assert "repository-revision: c0ffee" in glibc
    assert "origin: builder" in {
        n for a in by_name["libgreet"]["annotations"] for n in a["comment"].splitlines()
    }
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


def test_spdx_distfiles_and_dependencies(tmp_path: Path) -> None:
    doc = spdx(tmp_path)
    ids = {p["SPDXID"]: p for p in doc["packages"]}
    by_name = {p["name"]: p for p in doc["packages"]}
    related = {
        (r["spdxElementId"], r["relationshipType"], r["relatedSpdxElement"])
        for r in doc["relationships"]
    }
    hello, libgreet = by_name["hello"]["SPDXID"], by_name["libgreet"]["SPDXID"]
    libc, glibc = by_name["libc"]["SPDXID"], by_name["glibc"]["SPDXID"]
    assert {(hello, "DEPENDS_ON", libgreet), (hello, "DEPENDS_ON", libc)} <= related
    assert (libc, "DEPENDS_ON", glibc) in related
    sources = {ids[r[2]]["name"]: ids[r[2]] for r in related if r[:2] == (hello, "GENERATED_FROM")}
    assert set(sources) == {"hello-1.0.tar.gz", "hello-tls-1.0.tar.xz"}
    tarball = sources["hello-1.0.tar.gz"]
    assert tarball["downloadLocation"] == "https://example.org/hello-1.0.tar.gz"
    assert tarball["primaryPackagePurpose"] == "SOURCE"
    assert {c["algorithm"]: c["checksumValue"] for c in tarball["checksums"]} == {
        "BLAKE2b-512": BLAKE2B,
        "SHA512": SHA512,
    }
    # A mirror:// URI is no URL SPDX takes: the location is NOASSERTION, SRC_URI says it.
    tls = sources["hello-tls-1.0.tar.xz"]
    assert tls["downloadLocation"] == "NOASSERTION"
    assert tls["sourceInfo"] == "SRC_URI: mirror://gnu/hello/tls.tar.xz"


def test_cyclonedx_components_carry_gentoo_metadata(tmp_path: Path) -> None:
    bom = cyclonedx(tmp_path)
    by_purl = {c["purl"]: c for c in bom["components"]}
    hello = by_purl["pkg:ebuild/app-misc/hello@1.0-r1?repository=gentoo"]
    assert (hello["group"], hello["name"], hello["version"]) == ("app-misc", "hello", "1.0-r1")
    assert hello["licenses"] == [{"expression": "(MIT OR GPL-2.0-or-later) AND OpenSSL"}]
    properties = {p["name"]: p["value"] for p in hello["properties"]}
    assert properties["gentoo:USE"] == "ssl"
    assert properties["gentoo:USE-disabled"] == "test"
    assert properties["gentoo:CFLAGS"] == "-O2 -march=x86-64-v2"
    assert properties["gentoo:repository-revision"] == "beef01"
    files = {f["name"]: f for f in hello["components"]}
    assert set(files) == {"/usr/bin/hello", "/usr/share/hello/a file with spaces.txt"}
    assert {h["alg"] for h in files["/usr/bin/hello"]["hashes"]} == {"SHA-1", "SHA-256"}
    references = {r["comment"]: r for r in hello["externalReferences"]}
    tarball = references["hello-1.0.tar.gz"]
    assert tarball["type"] == "source-distribution"
    assert tarball["url"] == "https://example.org/hello-1.0.tar.gz"
    assert {h["alg"]: h["content"] for h in tarball["hashes"]} == {
        "BLAKE2b-512": BLAKE2B,
        "SHA-512": SHA512,
    }
    assert references["hello-tls-1.0.tar.xz"]["url"] == "mirror://gnu/hello/tls.tar.xz"
    greet = by_purl["pkg:ebuild/dev-libs/libgreet@1.0?repository=gentoo"]
    assert {"name": "staves:origin", "value": "builder"} in greet["properties"]
    glibc = by_purl["pkg:ebuild/sys-libs/glibc@2.39-r6?repository=gentoo"]
    assert "LicenseRef-Gentoo-inner-net" in glibc["licenses"][0]["expression"]


def test_cyclonedx_dependency_graph_is_rdepend(tmp_path: Path) -> None:
    bom = cyclonedx(tmp_path)
    graph = {d["ref"]: set(d.get("dependsOn", [])) for d in bom["dependencies"]}
    hello = "pkg:ebuild/app-misc/hello@1.0-r1?repository=gentoo"
    libgreet = "pkg:ebuild/dev-libs/libgreet@1.0?repository=gentoo"
    libc = "pkg:ebuild/virtual/libc@1?repository=gentoo"
    glibc = "pkg:ebuild/sys-libs/glibc@2.39-r6?repository=gentoo"
    assert graph[hello] == {libgreet, libc}  # the blocker names nothing
    assert graph[libc] == {glibc}
    assert graph["image"] == {hello}  # what nothing else needs


def test_same_image_same_documents(tmp_path: Path) -> None:
    for sbom_format in SbomFormat:
        a = sbom_blob(description(tmp_path / f"a-{sbom_format}"), sbom_format)
        b = sbom_blob(description(tmp_path / f"b-{sbom_format}"), sbom_format)
        assert a.digest == b.digest
        assert a.media_type == sbom_format.media_type


def test_purl_escapes() -> None:
    from staves.gentoo.vdb import package_from_files

    gtk = package_from_files("x11-libs", "gtk+-3.24.41-r1", {})
    assert purl(gtk) == "pkg:ebuild/x11-libs/gtk%2B@3.24.41-r1"


def test_formats_are_each_named_once_spdx_by_default() -> None:
    assert parse_formats([]) == (SbomFormat.SPDX,)
    assert parse_formats(["cyclonedx", "spdx", "cyclonedx"]) == (
        SbomFormat.CYCLONEDX,
        SbomFormat.SPDX,
    )


def test_a_package_the_builders_installed_copy_gave_says_so_in_both_formats(
    tmp_path: Path,
) -> None:
    # glibc came from the builder's installed copy (quickpkg), as the builder records it;
    # libgreet is the copied compiler runtime: both from the builder, told apart.
    packed = {**SOURCES["packages"][1], "origin": "builder"}
    sources = {**SOURCES, "packages": [SOURCES["packages"][0], packed]}
    root = make_rootfs(tmp_path / "root", ALL, UNOWNED)
    packages = read_vdb_dir(root / VDB)
    digests = pack_rootfs(
        io.BytesIO(podman_archive(root)), packages, layers=4, blob_dir=tmp_path / "blobs"
    ).file_digests
    described = describe_image(packages, SUBJECT, digests, INPUTS, sources=sources)
    doc = json.loads(sbom_blob(described, SbomFormat.SPDX).data)
    by_name = {p["name"]: p for p in doc["packages"]}
    glibc = {n for a in by_name["glibc"]["annotations"] for n in a["comment"].splitlines()}
    assert "origin: builder (the builder image's installed package, packed by quickpkg)" in glibc
    assert "compiler" not in by_name["glibc"].get("sourceInfo", "")
    assert "Runtime libraries of the builder's compiler" in by_name["libgreet"]["sourceInfo"]
    hello = {n for a in by_name["hello"]["annotations"] for n in a["comment"].splitlines()}
    assert not any(n.startswith("origin:") for n in hello)
    bom = json.loads(sbom_blob(described, SbomFormat.CYCLONEDX).data)
    origins = {
        c["name"]: p["value"]
        for c in bom["components"]
        for p in c.get("properties", [])
        if p["name"] == "staves:origin"
    }
    assert origins["libgreet"] == "builder"
    assert origins["glibc"].startswith("builder (") and "hello" not in origins
