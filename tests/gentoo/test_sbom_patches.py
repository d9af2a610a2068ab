"""A package built with user patches is marked modified in both SBOM formats, each patch
named with its sha256; the provenance lists every patch as a resolved dependency."""

import io
import json
from pathlib import Path

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from spdx_tools.spdx.parser.parse_anything import parse_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from staves.gentoo.provenance import ProvenanceSubject, build_provenance
from staves.gentoo.rootfs_layers import pack_rootfs
from staves.gentoo.sbom import SbomFormat, describe_image, sbom_blob
from staves.gentoo.vdb import read_vdb_dir
from tests.gentoo.test_sbom import INPUTS, SOURCES, SUBJECT, written_again_by_spdx_tools
from tests.vdb_samples import ALL, UNOWNED, VDB, make_rootfs, podman_archive

SHA = "9f" * 32
PATCH = {"name": "001-fix.patch", "source": "patches/fix.patch", "sha256": SHA}


def described(tmp_path: Path):
    hello = {**SOURCES["packages"][0], "patches": [PATCH]}
    sources = {**SOURCES, "packages": [hello, SOURCES["packages"][1]]}
    root = make_rootfs(tmp_path / "root", ALL, UNOWNED)
    packages = read_vdb_dir(root / VDB)
    digests = pack_rootfs(
        io.BytesIO(podman_archive(root)), packages, blob_dir=tmp_path / "blobs"
    ).file_digests
    return describe_image(packages, SUBJECT, digests, INPUTS, sources=sources)


def test_spdx_marks_the_patched_package_modified(tmp_path: Path) -> None:
    data = sbom_blob(described(tmp_path), SbomFormat.SPDX).data
    (tmp_path / "sbom.spdx.json").write_bytes(data)
    assert validate_full_spdx_document(parse_file(str(tmp_path / "sbom.spdx.json"))) == []
    assert written_again_by_spdx_tools(data, tmp_path) == data
    by_name = {p["name"]: p for p in json.loads(data)["packages"]}
    hello = by_name["hello"]
    assert (
        "Modified: built with user patches, applied by eapply_user: patches/fix.patch "
        in (hello["sourceInfo"])
    )
    notes = {line for a in hello["annotations"] for line in a["comment"].splitlines()}
    assert "modified: user patches" in notes
    assert f"patch 001-fix.patch: patches/fix.patch sha256:{SHA}" in notes
    glibc = {line for a in by_name["glibc"]["annotations"] for line in a["comment"].splitlines()}
    assert not any(line.startswith(("modified", "patch")) for line in glibc)


def test_cyclonedx_gives_the_patches_as_the_packages_pedigree(tmp_path: Path) -> None:
    data = sbom_blob(described(tmp_path), SbomFormat.CYCLONEDX).data.decode()
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(data) is None
    components = {c["name"]: c for c in json.loads(data)["components"]}
    pedigree = components["hello"]["pedigree"]
    assert pedigree["patches"] == [{"type": "unofficial", "diff": {"url": "patches/fix.patch"}}]
    assert SHA in pedigree["notes"]
    properties = {(p["name"], p["value"]) for p in components["hello"]["properties"]}
    assert ("staves:patch", f"patches/fix.patch sha256:{SHA}") in properties
    assert "pedigree" not in components["glibc"]


def test_the_provenance_lists_each_patch_and_the_package_built_with_it() -> None:
    plan = {
        "files": {},
        "append": {},
        "packages": ["app-misc/hello"],
        "patches": [
            {
                "atom": "app-misc/hello",
                "directory": "app-misc/hello",
                "name": "001-fix.patch",
                "source": "patches/fix.patch",
                "sha256": SHA,
                "data": "",
            }
        ],
    }
    sources = {"packages": [{"cpv": "app-misc/hello-1.0", "patches": [PATCH]}]}
    statement = build_provenance(
        ProvenanceSubject("app:1", "sha256:" + "1" * 64), [], sources, plan, "linux/amd64", "1"
    )
    definition = statement["predicate"]["buildDefinition"]
    deps = {d["name"]: d for d in definition["resolvedDependencies"]}
    patch = deps["patch:app-misc/hello/001-fix.patch"]
    assert patch["digest"] == {"sha256": SHA}
    assert patch["annotations"] == {"source": "patches/fix.patch", "atom": "app-misc/hello"}
    (merged,) = definition["internalParameters"]["merged"]
    assert merged["patches"] == [PATCH]
