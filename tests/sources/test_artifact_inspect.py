"""The SBOM attached as an OCI 1.1 referrer, and ``staves inspect`` reading images back."""

import io
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from oci.archive import write_oci_archive
from oci.artifact import (
    EMPTY_CONFIG,
    build_artifact,
    referrer_push,
    referrers_tag,
    with_referrer,
    write_artifact_layout,
)
from oci.compress import Compression
from oci.descriptor import Platform
from oci.image import ImageConfig, build_image
from oci.layout import write_layout
from oci.media import MediaType
from staves.cli import main
from staves.gentoo.layering import STAMPED_FILES, package_time
from staves.gentoo.rootfs_layers import pack_rootfs
from staves.gentoo.sbom import (
    SPDX_MEDIA_TYPE,
    ImageInput,
    SbomFormat,
    SbomSubject,
    describe_image,
    sbom_blob,
)
from staves.gentoo.vdb import read_vdb_dir
from tests.conftest import require_tools, run
from tests.helpers import layout_index, layout_json
from tests.oci.rootfs_samples import describe_tree
from tests.vdb_samples import ALL, HELLO, UNOWNED, VDB, make_rootfs, podman_archive

CREATED = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def make_image(tmp_path: Path, layers: int = 4, vdb: str = "trim", compression=Compression.GZIP):
    root = make_rootfs(tmp_path / "root", ALL, UNOWNED)
    packages = read_vdb_dir(root / VDB)
    packed = pack_rootfs(
        io.BytesIO(podman_archive(root)),
        packages,
        layers=layers,
        vdb=vdb,
        blob_dir=tmp_path / "blobs",
        compression=compression,
    )
    image = build_image(
        packed.layers,
        ImageConfig(),
        created=CREATED,
        platform=Platform("linux", "amd64"),
        history=packed.history,
    )
    return root, packages, packed, image


def attach_sbom(image, packages, packed, layout: Path):
    doc = describe_image(
        packages,
        SbomSubject("example/hello", image.manifest.digest, CREATED),
        packed.file_digests,
        [ImageInput("builder", "localhost/builder:1", "sha256:" + "1" * 64)],
    )
    artifact = build_artifact(
        image.descriptor(), [(sbom_blob(doc, SbomFormat.SPDX), "sbom.spdx.json")], SPDX_MEDIA_TYPE
    )
    write_artifact_layout(artifact, layout)
    return artifact


def inspect(*args: str):
    result = CliRunner().invoke(main, ["inspect", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_artifact_manifest_shape(tmp_path: Path, oci_schema) -> None:
    _, packages, packed, image = make_image(tmp_path)
    layout = tmp_path / "layout"
    write_layout(image, layout, "v1")
    artifact = attach_sbom(image, packages, packed, layout)
    manifest = json.loads(artifact.manifest.data)
    assert manifest["artifactType"] == SPDX_MEDIA_TYPE
    assert manifest["config"] == {
        "mediaType": MediaType.OCI_EMPTY,
        "digest": EMPTY_CONFIG.digest,
        "size": 2,
        "data": "e30=",
    }
    assert manifest["subject"]["digest"] == image.manifest.digest
    assert manifest["layers"][0]["mediaType"] == SPDX_MEDIA_TYPE
    oci_schema("image-manifest-schema.json", manifest)
    # The layout lists the image alone; its artifacts layout the SBOM.
    assert [e.get("artifactType") for e in layout_index(layout)["manifests"]] == [None]
    artifacts = layout / "artifacts"
    entries = layout_index(artifacts)["manifests"]
    assert [e.get("artifactType") for e in entries] == [SPDX_MEDIA_TYPE]
    oci_schema("image-index-schema.json", layout_index(artifacts))
    # Attaching again does not list it twice.
    write_artifact_layout(artifact, layout)
    assert len(layout_index(artifacts)["manifests"]) == 1
    assert layout_json(artifacts, EMPTY_CONFIG.digest) == {}


def test_referrers_fallback_plan() -> None:
    from oci.blob import BytesBlob
    from oci.descriptor import Descriptor

    subject = Descriptor(MediaType.OCI_MANIFEST, "sha256:" + "a" * 64, 10)
    artifact = build_artifact(subject, [(BytesBlob(b"{}", SPDX_MEDIA_TYPE), None)], "x/y")
    plan = referrer_push(artifact)
    assert plan.fallback_tag == referrers_tag(subject.digest) == "sha256-" + "a" * 64
    assert plan.blobs[0].digest == EMPTY_CONFIG.digest
    index = with_referrer(None, plan.descriptor)
    again = with_referrer(index, plan.descriptor)
    assert again == index
    assert index["manifests"][0]["artifactType"] == "x/y"
    assert index["mediaType"] == MediaType.OCI_INDEX


def test_inspect_uses_the_attached_sbom(tmp_path: Path) -> None:
    _, packages, packed, image = make_image(tmp_path)
    layout = tmp_path / "layout"
    write_layout(image, layout, "v1")
    attach_sbom(image, packages, packed, layout)
    report = json.loads(inspect(f"oci:{layout}:v1", "--format", "json"))
    assert report["source"] == "sbom"
    assert report["digest"] == image.manifest.digest
    hello = next(p for p in report["packages"] if p["name"] == "app-misc/hello")
    assert hello["version"] == "1.0-r1"
    assert hello["use"] == ["ssl"] and hello["use_disabled"] == ["test"]
    assert hello["license"] == "(MIT OR GPL-2.0-or-later) AND OpenSSL"
    assert hello["size"] == sum(len(d) for d in HELLO.files.values())
    assert [layer["packages"] for layer in report["layers"]] == [
        ["sys-libs/glibc-2.39-r6"],
        ["dev-libs/libgreet-1.0"],
        ["app-misc/hello-1.0-r1"],
        [],
    ]
    text = inspect(f"oci:{layout}")  # the only image, untagged
    assert "app-misc/hello" in text and "LAYER" in text


@pytest.mark.parametrize("compression", [Compression.GZIP, Compression.ZSTD])
def test_inspect_reads_the_package_database_in_the_layers(
    tmp_path: Path, compression: Compression
) -> None:
    _, _, _, image = make_image(tmp_path, layers=10, compression=compression)
    archive = tmp_path / "image.tar"
    write_oci_archive(image, archive, "v1")
    report = json.loads(inspect(f"oci-archive:{archive}:v1", "--format", "json"))
    assert report["source"] == "vdb"
    glibc = next(p for p in report["packages"] if p["name"] == "sys-libs/glibc")
    assert glibc["license"] == "LGPL-2.1+ BSD HPND ISC inner-net rc PCRE"
    assert "ssp" in glibc["use"]
    assert report["layers"][0]["packages"] == ["sys-libs/glibc-2.39-r6"]


def test_inspect_without_package_data(tmp_path: Path) -> None:
    _, _, _, image = make_image(tmp_path, layers=1, vdb="none")
    layout = tmp_path / "layout"
    write_layout(image, layout, "v1")
    report = json.loads(inspect(f"oci:{layout}:v1", "--format", "json"))
    assert report["source"] == "none" and report["packages"] == []
    assert len(report["layers"]) == 1


@pytest.mark.parametrize(
    ("source", "said"),
    [
        ("ftp://example.com/x", "has no known transport"),
        ("docker://Example.com/UPPER:1", "must be lowercase"),
        ("oci-archive:", "has no path"),
        ("containers-storage:", "has no image name"),
    ],
)
def test_inspect_refuses_sources_it_cannot_parse(source: str, said: str) -> None:
    result = CliRunner().invoke(main, ["inspect", source])
    assert result.exit_code == 2
    assert said in result.output and len(result.output.strip().splitlines()) == 1


@pytest.mark.tools
@pytest.mark.skipif(os.geteuid() != 0, reason="umoci keeps owners only as root")
def test_umoci_unpacks_the_layers_to_the_rootfs(tmp_path: Path) -> None:
    require_tools("umoci")
    root = make_rootfs(tmp_path / "root", ALL, UNOWNED)
    (root / "usr/bin/hello-again").hardlink_to(root / "usr/bin/hello")
    (root / "etc/unowned-link").hardlink_to(root / "usr/lib64/libc.so.6")
    packages = read_vdb_dir(root / VDB)
    packed = pack_rootfs(
        io.BytesIO(podman_archive(root)),
        packages,
        layers=5,
        vdb="full",
        blob_dir=tmp_path / "blobs",
    )
    assert len(packed.layers) == 4  # three packages with files, then the unowned
    image = build_image(
        packed.layers, ImageConfig(), created=CREATED, platform=Platform("linux", "amd64")
    )
    layout = tmp_path / "layout"
    write_layout(image, layout, "t")
    run("umoci", "unpack", "--image", f"{layout}:t", tmp_path / "bundle")
    # The one change on the way: the times the database records become the package's.
    for package in packages:
        if (moment := package_time(package, None)) is not None:
            for name, stamp in STAMPED_FILES.items():
                if (kept := root / VDB / package.key / name).is_file():
                    kept.write_bytes(stamp(kept.read_bytes(), moment))
    assert describe_tree(tmp_path / "bundle" / "rootfs") == describe_tree(root)


@pytest.mark.tools
def test_skopeo_reads_a_layout_with_an_attached_sbom(tmp_path: Path) -> None:
    require_tools("skopeo")
    _, packages, packed, image = make_image(tmp_path)
    layout = tmp_path / "layout"
    write_layout(image, layout, "v1")
    attach_sbom(image, packages, packed, layout)
    run("skopeo", "copy", f"oci:{layout}:v1", f"oci:{tmp_path / 'copy'}:v1")
    raw = run("skopeo", "inspect", "--raw", f"oci:{tmp_path / 'copy'}:v1").stdout
    assert json.loads(raw)["layers"] == json.loads(image.manifest.data)["layers"]
