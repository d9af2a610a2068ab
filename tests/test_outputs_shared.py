"""Outputs that many runners share: one layout written by several packs at once, the
blob-location cache saved by several pushes, and a destination whose disk is full."""

import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest

from oci.compress import Compression
from oci.descriptor import Platform
from oci.image import ImageConfig, build_image
from oci.layer import write_layer
from oci.layout import write_layout
from oci.registry.locations import BlobLocations
from oci.tarball import tar_directory
from tests.conftest import require_tools
from tests.helpers import layout_index, staves

REF_NAME = "org.opencontainers.image.ref.name"


def tags(layout: Path) -> set[str]:
    return {m.get("annotations", {}).get(REF_NAME) for m in layout_index(layout)["manifests"]}


def rootfs(directory: Path, content: bytes) -> Path:
    directory.mkdir(parents=True)
    (directory / "file").write_bytes(content)
    return directory


def test_eight_packs_into_one_new_layout_give_eight_tags(tmp_path: Path) -> None:
    layout = tmp_path / "shared-layout"
    trees = [rootfs(tmp_path / f"tree{n}", f"tree {n}\n".encode()) for n in range(8)]

    def pack(n: int) -> subprocess.CompletedProcess[str]:
        return staves("pack", "--rootfs", trees[n], "--tag", "app", "-o", f"oci:{layout}:t{n}")

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(pack, range(8)))
    for result in results:
        assert result.returncode == 0, result.stderr
    assert tags(layout) == {f"t{n}" for n in range(8)}
    if shutil.which("umoci"):
        listed = subprocess.run(
            ["umoci", "ls", "--layout", str(layout)], capture_output=True, text=True, check=True
        )
        assert set(listed.stdout.split()) == {f"t{n}" for n in range(8)}


def test_blob_locations_saved_side_by_side_keep_both(tmp_path: Path) -> None:
    cache = tmp_path / "blob-locations.json"
    first, second = BlobLocations(cache), BlobLocations(cache)
    first.record("reg.example", "one", "sha256:" + "a" * 64)
    second.record("reg.example", "two", "sha256:" + "b" * 64)
    first.save()
    second.save()
    merged = BlobLocations(cache)
    assert merged.sources("reg.example", "sha256:" + "a" * 64, exclude="x") == ["one"]
    assert merged.sources("reg.example", "sha256:" + "b" * 64, exclude="x") == ["two"]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs (mounting one needs root)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    require_tools("mount", "umount")
    mount = tmp_path / "small"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def listing(directory: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(directory)): path.read_bytes() if path.is_file() else b""
        for path in sorted(directory.rglob("*"))
    }


@pytest.mark.parametrize("transport", ["oci", "oci-archive", "docker-archive"])
def test_full_disk_is_one_line_and_leaves_the_destination_as_it_was(
    small_disk: Path, tmp_path: Path, transport: str
) -> None:
    layout = small_disk / "layout"
    first = staves(
        "pack",
        "--rootfs",
        rootfs(tmp_path / "small-tree", b"hi\n"),
        "--tag",
        "a",
        "-o",
        f"oci:{layout}:one",
    )
    assert first.returncode == 0, first.stderr
    before = listing(small_disk)
    big = rootfs(tmp_path / "big-tree", os.urandom(4 << 20))  # random: does not compress
    target = {
        "oci": f"{layout}:two",
        "oci-archive": f"{small_disk}/image.tar",
        "docker-archive": f"{small_disk}/image.tar",
    }[transport]
    failed = staves("pack", "--rootfs", big, "--tag", "a", "-o", f"{transport}:{target}")
    assert failed.returncode == 1
    lines = failed.stderr.strip().splitlines()
    assert len(lines) == 1, failed.stderr
    assert lines[0].startswith(f"staves: error: writing {transport}:{target.split(':')[0]}: ")
    assert "No space left on device" in lines[0]
    assert listing(small_disk) == before
    assert tags(layout) == {"one"}


def test_writers_racing_to_create_a_layout_all_land(tmp_path: Path) -> None:
    """Threads released at once against new layouts, many rounds: the window between one
    writer creating the directory and writing its marker must not refuse the others."""
    tree = rootfs(tmp_path / "tree", b"same\n")
    layer = write_layer(tar_directory(tree, None), tmp_path / "blobs", Compression.NONE)
    created = datetime(2024, 1, 2, tzinfo=UTC)
    image = build_image(
        [layer], ImageConfig(), created=created, platform=Platform("linux", "amd64")
    )
    writers = 8
    for round_ in range(15):
        layout = tmp_path / f"layout{round_}"
        start = threading.Barrier(writers)

        def write(n: int, layout: Path = layout, start: threading.Barrier = start) -> None:
            start.wait()
            write_layout(image, layout, f"t{n}")

        with ThreadPoolExecutor(writers) as pool:
            list(pool.map(write, range(writers)))
        assert tags(layout) == {f"t{n}" for n in range(writers)}
