"""Reproducible from scratch: two cold builds of one spec, each on a new binary-package cache
volume (as two CI machines would), give the same manifest digest; and the check that builds
twice names what a package builds differently."""

import json
import os
import tarfile
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.builder_fixtures import BUILDER, Build, Builder, podman, test_images
from tests.conftest import PROJECT

pytestmark = [pytest.mark.builder, pytest.mark.podman]
__all__ = ["test_images"]  # fixtures used by name

EXAMPLE = (PROJECT / "examples" / "hello" / "staves.toml").read_text()
LAYERED = """
name = "localhost/staves-test/layered"
packages = ["app-misc/hello", "app-misc/envprobe"]
command = ["/usr/bin/hello"]
layers = 4
"""
# vdb = "full" keeps Portage's consolidated metadata file (BUILD_TIME, #dir_mtime=), and
# would keep BINPKGMD5, the digest of a binary package made at build time.
LAYERED_FULL_VDB = LAYERED + 'vdb = "full"\n'

TIMESTAMPED = """
name = "localhost/staves-test/timestamped"
packages = ["app-misc/timestamped"]
command = ["/usr/bin/timestamped"]
"""
# The test snapshot's metadata/timestamp.chk: "Mon, 30 Nov 2026 00:45:01 +0000".
SNAPSHOT_CREATED = "2026-11-30T00:45:01Z"


class ColdBuilds:
    """Each build on a cache volume of its own, made for it and removed after; the
    distfiles volume is shared, so nothing but sources could pass between builds."""

    def __init__(self, workdir: Path, distfiles: str) -> None:
        self.workdir = workdir
        self.distfiles = distfiles
        self.volumes: list[str] = []

    def build(self, spec: str, *extra: str, env: dict[str, str] | None = None, **kw) -> Build:
        volume = f"staves-test-cold-{uuid.uuid4().hex[:8]}"
        self.volumes.append(volume)
        builder = Builder(volume, self.workdir, self.distfiles)
        return builder.build(spec, *extra, env={**os.environ, **(env or {})}, **kw)


@contextmanager
def cold_builds(workdir: Path) -> Iterator[ColdBuilds]:
    distfiles = f"staves-test-distfiles-{uuid.uuid4().hex[:8]}"
    builds = ColdBuilds(workdir, distfiles)
    try:
        yield builds
    finally:
        for volume in (*builds.volumes, distfiles):
            podman("volume", "rm", "-f", volume)


@pytest.fixture
def cold(test_images: None, tmp_path: Path) -> Iterator[ColdBuilds]:
    with cold_builds(tmp_path) as builds:
        yield builds


@dataclass(frozen=True)
class CheckedExample:
    checked: Build  # --check-reproducible: built, then built again from scratch
    elsewhere: Build  # a plain cold build beside it, on a cache volume of its own


@pytest.fixture(scope="module")
def example_checked(
    test_images: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CheckedExample]:
    """The example with the snapshot's epoch (SOURCE_DATE_EPOCH unset), side by side: once
    with --check-reproducible, once plainly, each on a new cache volume. The check's own
    first build and the plain one are two cold builds of one spec, as two CI machines would
    make them; three builds instead of a pair and a check's two."""
    env = {"SOURCE_DATE_EPOCH": ""}  # unset, whatever the calling environment says
    with cold_builds(tmp_path_factory.mktemp("checked")) as cold, ThreadPoolExecutor(2) as pool:
        checked = pool.submit(cold.build, EXAMPLE, "--check-reproducible", env=env)
        elsewhere = pool.submit(cold.build, EXAMPLE, env=env)
        yield CheckedExample(checked.result(), elsewhere.result())


def image_digest(build: Build) -> str:
    index = json.loads((build.layout / "index.json").read_text())
    return next(m["digest"] for m in index["manifests"] if "artifactType" not in m)


def config(build: Build) -> dict:
    blobs = build.layout / "blobs" / "sha256"
    manifest = json.loads((blobs / image_digest(build)[7:]).read_text())
    return json.loads((blobs / manifest["config"]["digest"][7:]).read_text())


@pytest.mark.parametrize(
    ("spec", "epoch", "created"),
    [
        (EXAMPLE, "1700000000", "2023-11-14T22:13:20Z"),
        (LAYERED, None, SNAPSHOT_CREATED),
        (LAYERED, "1700000000", "2023-11-14T22:13:20Z"),
        (LAYERED_FULL_VDB, None, SNAPSHOT_CREATED),
    ],
    ids=[
        "example-sde",
        "layered-snapshot-epoch",
        "layered-sde",
        "layered-full-vdb",
    ],
)
def test_two_cold_builds_give_one_manifest_digest(
    cold: ColdBuilds, spec: str, epoch: str | None, created: str, tmp_path: Path
) -> None:
    env = {"SOURCE_DATE_EPOCH": epoch} if epoch else {}
    if not epoch:
        env["SOURCE_DATE_EPOCH"] = ""  # unset, whatever the calling environment says
    # Side by side, as two CI machines would build (each on a new cache volume).
    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(lambda _: cold.build(spec, env=env), range(2))
    assert image_digest(first) == image_digest(second)
    assert first.proc.stdout.strip() == image_digest(first)
    made = config(first)
    assert made["created"] == created
    assert {h["created"] for h in made["history"]} == {created}
    if spec.startswith(LAYERED):
        assert len(made["rootfs"]["diff_ids"]) == 4
    assert f"SOURCE_DATE_EPOCH={epoch or 1795999501}" in first.log
    if spec == LAYERED_FULL_VDB:
        assert_portage_trusts_its_metadata(first, tmp_path / "image")


def assert_portage_trusts_its_metadata(build: Build, image: Path) -> None:
    """The vdb's consolidated metadata files that emerge wrote are ones Portage reads in the
    image as unpacked; BINPKGMD5 is not there."""
    from portage.dbapi.vartree import _read_metadata_file

    blobs = build.layout / "blobs" / "sha256"
    manifest = json.loads((blobs / image_digest(build)[7:]).read_text())
    for layer in manifest["layers"]:
        with tarfile.open(blobs / layer["digest"][7:]) as tar:
            tar.extractall(image, filter="fully_trusted")
    dbdirs = list((image / "var/db/pkg").glob("*/*"))
    assert "hello-1.0" in {d.name for d in dbdirs}
    for dbdir in dbdirs:
        assert not (dbdir / "BINPKGMD5").exists()
        fields = _read_metadata_file(str(dbdir / "metadata"))
        assert fields is not None, dbdir
        assert fields["COUNTER"] == (dbdir / "COUNTER").read_text().strip()


def test_check_names_the_package_that_embeds_its_build_time(cold: ColdBuilds) -> None:
    build = cold.build(TIMESTAMPED, "--check-reproducible", expect_ok=False)
    assert build.proc.returncode == 1, build.log[-2000:]
    lines = build.log.splitlines()
    differs = [line for line in lines if line.startswith("staves: differs: ")]
    assert len(differs) == 1, build.log[-3000:]
    assert differs[0].startswith("staves: differs: app-misc/timestamped-1.0: ")
    assert "/usr/bin/timestamped (content)" in differs[0]
    assert "/usr/share/timestamped/built-at (content)" in differs[0]
    assert lines[-1].startswith("staves: error: not reproducible: ")
    assert "(app-misc/timestamped-1.0)" in lines[-1]
    # A failed check writes nothing.
    assert not build.layout.exists()
    # The check's binary-package directory is gone from the cache volume.
    volume = cold.volumes[-1]
    listing = podman("run", "--rm", "-v", f"{volume}:/c", "--entrypoint", "ls", BUILDER, "/c")
    assert listing.returncode == 0, listing.stderr
    assert [n for n in listing.stdout.split() if n.startswith("check-")] == []


def test_check_passes_for_a_reproducible_spec_and_writes_the_image(
    example_checked: CheckedExample,
) -> None:
    build = example_checked.checked
    assert "staves: reproducible: a build from scratch gave the same layers" in build.log
    assert build.proc.stdout.strip() == image_digest(build)
    assert build.run() == "HELLO WORLD!\n"


def test_two_cold_builds_of_the_example_give_one_digest_dated_by_the_snapshot(
    example_checked: CheckedExample,
) -> None:
    first, second = example_checked.elsewhere, example_checked.checked
    assert image_digest(first) == image_digest(second)
    assert first.proc.stdout.strip() == image_digest(first)
    made = config(first)
    assert made["created"] == SNAPSHOT_CREATED
    assert {h["created"] for h in made["history"]} == {SNAPSHOT_CREATED}
    assert "SOURCE_DATE_EPOCH=1795999501" in first.log
