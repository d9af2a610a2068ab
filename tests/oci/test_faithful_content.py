"""A packed rootfs unpacks, with tools nobody here wrote, to the same tree."""

import hashlib
import json
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.conftest import require_tools, run
from tests.helpers import staves
from tests.oci.rootfs_samples import describe_tree, make_rich_rootfs

pytestmark = [
    pytest.mark.tools,
    pytest.mark.skipif(os.geteuid() != 0, reason="device nodes and chown need root"),
]


@pytest.fixture(scope="module")
def rich_rootfs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_rich_rootfs(tmp_path_factory.mktemp("rich") / "rootfs")


def umoci_unpack(layout: Path, tag: str, target: Path) -> Path:
    require_tools("umoci")
    run("umoci", "unpack", "--image", f"{layout}:{tag}", target)
    return target / "rootfs"


@pytest.mark.parametrize("compression", ["gzip", "none"])
def test_directory_roundtrip_through_umoci(
    rich_rootfs: Path, tmp_path: Path, compression: str
) -> None:
    layout = tmp_path / "layout"
    proc = staves(
        "pack", "--rootfs", rich_rootfs, "--compression", compression, "-o", f"oci:{layout}:t"
    )
    assert proc.returncode == 0, proc.stderr
    unpacked = umoci_unpack(layout, "t", tmp_path / "bundle")
    assert describe_tree(unpacked) == describe_tree(rich_rootfs)


def test_tar_input_roundtrip_through_umoci(rich_rootfs: Path, tmp_path: Path) -> None:
    require_tools("tar")
    source_tar = tmp_path / "rootfs.tar.gz"
    run("tar", "--xattrs", "--xattrs-include=*", "-czpf", source_tar, "-C", rich_rootfs, ".")
    layout = tmp_path / "layout"
    proc = staves("pack", "--rootfs", source_tar, "-o", f"oci:{layout}:t")
    assert proc.returncode == 0, proc.stderr
    unpacked = umoci_unpack(layout, "t", tmp_path / "bundle")
    assert describe_tree(unpacked) == describe_tree(rich_rootfs)


def test_layer_has_no_host_names_or_extra_times(rich_rootfs: Path, tmp_path: Path) -> None:
    layout = tmp_path / "layout"
    epoch = 1_700_000_000
    proc = staves(
        "pack",
        "--rootfs",
        rich_rootfs,
        "--compression",
        "none",
        "-o",
        f"oci:{layout}:t",
        env={"SOURCE_DATE_EPOCH": str(epoch)},
    )
    assert proc.returncode == 0, proc.stderr
    blobs = sorted((layout / "blobs" / "sha256").iterdir(), key=lambda p: p.stat().st_size)
    with tarfile.open(blobs[-1]) as tar:
        members = tar.getmembers()
    assert members, "layer is empty"
    for member in members:
        assert member.uname == "" and member.gname == ""
        assert member.mtime <= epoch
        assert not {"atime", "ctime", "mtime"} & set(member.pax_headers)
        assert not member.name.startswith(("/", "./"))
    names = [m.name.rstrip("/") for m in members]
    assert names == sorted(names, key=lambda n: [os.fsencode(p) for p in n.split("/")])


def _only_manifest(layout: Path) -> dict:
    index = json.loads((layout / "index.json").read_text())
    digest = index["manifests"][0]["digest"].split(":")[1]
    return json.loads((layout / "blobs" / "sha256" / digest).read_text())


def test_zstd_layer_holds_the_same_tar_as_gzip(rich_rootfs: Path, tmp_path: Path) -> None:
    """umoci 0.4 cannot read zstd; the zstd CLI decompresses to the gzip layer's tar."""
    require_tools("zstd", "gzip")
    digests = {}
    for compression, tool in (("gzip", "gzip"), ("zstd", "zstd")):
        layout = tmp_path / compression
        proc = staves(
            "pack", "--rootfs", rich_rootfs, "--compression", compression, "-o", f"oci:{layout}:t"
        )
        assert proc.returncode == 0, proc.stderr
        manifest = _only_manifest(layout)
        blob = layout / "blobs" / "sha256" / manifest["layers"][0]["digest"].split(":")[1]
        raw = subprocess.run([tool, "-dc", str(blob)], capture_output=True, check=True).stdout
        digests[compression] = "sha256:" + hashlib.sha256(raw).hexdigest()
        config_digest = manifest["config"]["digest"].split(":")[1]
        config = json.loads((layout / "blobs" / "sha256" / config_digest).read_text())
        assert config["rootfs"]["diff_ids"] == [digests[compression]]
    assert digests["gzip"] == digests["zstd"]
