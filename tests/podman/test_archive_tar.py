"""Tars put through Podman's archive API end at their end-of-archive marker: the copier
closes its pipe there, and padding after it failed builds at random (buildah#6573)."""

import io
import tarfile
from pathlib import Path

from staves.podman.archive_tar import drop_padding, tar_of
from staves.podman.builder_program import program_files

MARKER = b"\0" * 1024  # two zero blocks


def members(data: bytes) -> dict[str, tuple[bytes, int]]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r|") as tar:
        found = {}
        for info in tar:
            read = tar.extractfile(info)
            found[info.name] = (read.read() if read else b"", info.mode)
        return found


def exact_size(files: dict[str, tuple[bytes, int]]) -> int:
    """Headers, data in whole blocks, the marker: nothing more."""
    return sum(512 + -(-len(data) // 512) * 512 for data, _ in files.values()) + len(MARKER)


def test_a_tar_ends_with_its_marker_and_holds_what_it_was_given() -> None:
    files = {"staves-epoch": (b"7\n", 0o644), "plan.json": (b"{}" * 3000, 0o600)}
    data = tar_of(files)
    assert len(data) == exact_size(files) and data.endswith(MARKER)
    assert members(data) == files


def test_the_program_and_its_plan_go_without_padding() -> None:
    data = program_files({"task": "build"})
    found = members(data)
    assert set(found) == {"staves-program.pyz", "staves-plan.json"}
    assert len(data) == exact_size(found) and data.endswith(MARKER)


def test_a_tar_file_is_cut_after_its_marker(tmp_path: Path) -> None:
    path = tmp_path / "cache.tar"
    with tarfile.open(path, "w") as tar:
        info = tarfile.TarInfo("pkg/a.gpkg.tar")
        info.size = 5
        tar.addfile(info, io.BytesIO(b"hello"))
    assert path.stat().st_size == 10240  # Python pads to a record
    drop_padding(path, tar)
    assert path.stat().st_size == 512 + 512 + 1024  # header, data, marker
    assert members(path.read_bytes()) == {"pkg/a.gpkg.tar": (b"hello", 0o644)}
