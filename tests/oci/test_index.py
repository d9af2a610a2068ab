"""Image indexes: one name for several platforms' images, in a layout, an archive, a
registry; destinations of one image get the host's."""

import json
import logging
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from oci.archive import write_oci_archive
from oci.compress import Compression
from oci.descriptor import Platform
from oci.errors import OciError
from oci.image import Image, ImageConfig, build_image
from oci.index import build_index
from oci.layer import write_layer
from oci.layout import write_layout
from oci.media import MediaType
from oci.tarball import tar_directory
from oci.transport import DockerArchiveDestination, OciLayoutDestination, StorageDestination
from staves.destinations.single_platform import (
    check_single_platform_destinations,
    host_choice,
    image_for_host,
)
from staves.errors import StavesError
from tests.conftest import require_tools, run

CREATED = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
AMD64 = Platform("linux", "amd64")
V3 = Platform("linux", "amd64", "v3")
ARM64 = Platform("linux", "arm64")


def image_for(platform: Platform, tmp_path: Path) -> Image:
    """A one-file image whose file names its platform, so each platform's image differs."""
    root = tmp_path / f"root-{platform}".replace("/", "-")
    root.mkdir()
    (root / "platform").write_text(f"{platform}\n")
    layer = write_layer(tar_directory(root, clamp_mtime=0), tmp_path / "blobs", Compression.GZIP)
    return build_image([layer], ImageConfig(cmd=("/x",)), created=CREATED, platform=platform)


@pytest.fixture
def images(tmp_path: Path) -> list[Image]:
    return [image_for(p, tmp_path) for p in (AMD64, ARM64, V3)]


def blob(layout: Path, digest: str) -> bytes:
    return (layout / "blobs" / "sha256" / digest.removeprefix("sha256:")).read_bytes()


def test_an_index_lists_each_image_with_its_platform_in_order(images: list[Image]) -> None:
    index = build_index(images, {"org.opencontainers.image.version": "1.0"})
    doc = json.loads(index.manifest.data)
    assert doc["mediaType"] == MediaType.OCI_INDEX
    assert [m["platform"] for m in doc["manifests"]] == [
        {"os": "linux", "architecture": "amd64"},
        {"os": "linux", "architecture": "arm64"},
        {"os": "linux", "architecture": "amd64", "variant": "v3"},
    ]
    assert [m["digest"] for m in doc["manifests"]] == [i.manifest.digest for i in images]
    assert doc["annotations"] == {"org.opencontainers.image.version": "1.0"}
    # The same images give the same index: its digest is reproducible.
    assert build_index(images, {"org.opencontainers.image.version": "1.0"}) == index


def test_an_index_refuses_two_images_for_one_platform(images: list[Image]) -> None:
    with pytest.raises(OciError, match="linux/arm64 twice"):
        build_index([images[1], images[0], images[1]])


def test_a_layout_holds_the_index_and_every_image_of_it(
    images: list[Image], tmp_path: Path
) -> None:
    layout = tmp_path / "layout"
    index = build_index(images)
    write_layout(index, layout, "1.0")
    top = json.loads((layout / "index.json").read_text())
    (entry,) = top["manifests"]
    assert entry["mediaType"] == MediaType.OCI_INDEX
    assert entry["digest"] == index.manifest.digest
    assert "platform" not in entry
    for image in images:
        manifest = json.loads(blob(layout, image.manifest.digest))
        assert blob(layout, manifest["config"]["digest"]) == image.config.data
        for layer in manifest["layers"]:
            assert (layout / "blobs" / "sha256" / layer["digest"][7:]).is_file()


def test_an_oci_archive_holds_the_index(images: list[Image], tmp_path: Path) -> None:
    archive = tmp_path / "image.oci.tar"
    index = build_index(images)
    write_oci_archive(index, archive, "1.0")
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        top = json.loads(tar.extractfile("index.json").read())  # type: ignore[union-attr]
    assert top["manifests"][0]["digest"] == index.manifest.digest
    for image in images:
        assert f"blobs/sha256/{image.manifest.digest[7:]}" in names
        assert f"blobs/sha256/{image.config.digest[7:]}" in names


@pytest.mark.tools
def test_skopeo_reads_the_index_and_picks_each_platform(
    images: list[Image], tmp_path: Path
) -> None:
    require_tools("skopeo")
    layout = tmp_path / "layout"
    write_layout(build_index(images), layout, "1.0")
    raw = json.loads(run("skopeo", "inspect", "--raw", f"oci:{layout}:1.0").stdout)
    assert raw["mediaType"] == MediaType.OCI_INDEX
    for platform in (AMD64, ARM64):
        picked = json.loads(
            run(
                "skopeo",
                "--override-os",
                platform.os,
                "--override-arch",
                platform.architecture,
                "inspect",
                "--config",
                f"oci:{layout}:1.0",
            ).stdout
        )
        assert picked["architecture"] == platform.architecture
    v3 = json.loads(
        run(
            "skopeo",
            "--override-arch",
            "amd64",
            "--override-variant",
            "v3",
            "inspect",
            "--config",
            f"oci:{layout}:1.0",
        ).stdout
    )
    assert v3.get("variant") == "v3"


def test_one_platform_destinations_get_the_hosts_image_and_say_so(
    images: list[Image], caplog: pytest.LogCaptureFixture
) -> None:
    index = build_index([images[1], images[2], images[0]])
    dest = DockerArchiveDestination(Path("x.tar"))
    with caplog.at_level(logging.WARNING):
        chosen = image_for_host(index, dest, AMD64)
    # The baseline, not the CPU level the host may lack, and not the first entry.
    assert chosen is images[0]
    assert "docker-archive: holds one platform's image: linux/amd64" in caplog.text
    assert "linux/arm64, linux/amd64/v3" in caplog.text
    assert image_for_host(images[1], dest, AMD64) is images[1]  # one image is what it is


def test_a_build_for_no_platform_of_the_host_into_one_platform_destinations_is_refused() -> None:
    for dest in (DockerArchiveDestination(Path("x.tar")), StorageDestination("x:1")):
        with pytest.raises(StavesError) as caught:
            check_single_platform_destinations([dest], [ARM64, Platform("linux", "s390x")], AMD64)
        assert "none of linux/arm64, linux/s390x is this host's (linux/amd64)" in str(caught.value)
    check_single_platform_destinations([OciLayoutDestination(Path("l"))], [ARM64, V3], ARM64)
    check_single_platform_destinations([StorageDestination("x:1")], [ARM64], AMD64)
    assert host_choice([V3, ARM64], AMD64) == V3  # only a level of the host's: that one
