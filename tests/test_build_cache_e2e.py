"""Build caches end to end: no-op rebuilds by build key, ``--no-cache``, package layers
reused from the layer cache. One cold build feeds every test of the module."""

import json
import os
import subprocess
import tarfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from staves.podman.owners import OWNER_LABEL, Owner
from tests.builder_fixtures import (
    BUILDER,
    PORTAGE,
    Builder,
    builder,
    compiled_by,
    podman,
    test_images,
)
from tests.registry_fixtures import Registry, start_registry

pytestmark = [pytest.mark.builder, pytest.mark.podman, pytest.mark.registry]
__all__ = ["builder", "test_images"]  # fixtures used by name

SPEC = """
name = "localhost/staves-wt-cache/shapes"
packages = ["app-misc/shaper", "app-misc/hello"]
command = ["/usr/bin/shaper"]
layers = 8
"""
USE_CHANGE = "['app-misc/hello']\nuse = ['shout']\n"
KEY = "io.staves.build-key"
STORED = "localhost/staves-wt-cache/shapes:noop"


@dataclass
class Run:
    proc: subprocess.CompletedProcess[str]
    pid: int
    started: datetime
    ended: float  # time.monotonic() when staves exited
    files: Path  # its --log-file (.log) and --metadata-file (.json), by this stem

    @property
    def digest(self) -> str:
        return self.proc.stdout.strip()

    @property
    def log(self) -> str:
        """The build's whole log: its events and the builder's output."""
        return self.files.with_suffix(".log").read_text()

    def metadata(self) -> dict:
        return json.loads(self.files.with_suffix(".json").read_text())

    def repacked(self) -> tuple[int, int]:
        (platform,) = self.metadata()["staves.platforms"].values()
        return platform["counts"]["layers_repacked"], platform["counts"]["layers"]

    def compiled(self) -> list[str]:
        """What the build compiled, into the image or the builder (the metadata's)."""
        return compiled_by(self.metadata())

    def builders_created(self) -> list[str]:
        """Builder containers this run's staves created, from Podman's event log."""
        # The log is read up to a second ago (--until 1s): wait until that covers the run.
        time.sleep(max(0.0, self.ended + 1.5 - time.monotonic()))
        events = podman(
            "events",
            "--since",
            self.started.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "--until",  # a time in the past makes podman 4.3 list nothing; 1s ago works
            "1s",
            "--filter",
            "event=create",
            "--filter",
            "label=io.staves.role=builder",
            "--format",
            "json",
        )
        assert events.returncode == 0, events.stderr
        names = []
        for line in events.stdout.splitlines():
            event = json.loads(line)
            owner = Owner.parse((event.get("Attributes") or {}).get(OWNER_LABEL, ""))
            if owner is not None and owner.pid == self.pid:
                names.append(event["Name"])
        return names


@dataclass
class Bed:
    builder: Builder
    work: Path
    layer_cache: Path
    registry: Registry

    def build(self, spec: str, *outputs: str, extra: tuple[str, ...] = ()) -> Run:
        path = self.work / f"spec-{abs(hash(spec))}.toml"
        path.write_text(spec)
        argv = ["staves", "build", "-c", str(path), "--builder", BUILDER, "--portage", PORTAGE]
        argv += ["--build-cache", self.builder.cache]
        for dest in outputs:
            argv += ["-o", dest]
        files = self.work / f"run-{uuid.uuid4().hex[:8]}"
        argv += ["--log-file", f"{files}.log", "--metadata-file", f"{files}.json"]
        env = {**os.environ, "STAVES_LAYER_CACHE": str(self.layer_cache)}
        started = datetime.now(UTC)
        popen = subprocess.Popen(
            [*argv, *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        out, err = popen.communicate()
        proc = subprocess.CompletedProcess(argv, popen.returncode, out, err)
        assert proc.returncode == 0, err[-3000:]
        return Run(proc, popen.pid, started, time.monotonic(), files)

    @property
    def all_outputs(self) -> tuple[str, ...]:
        return (
            f"oci:{self.work}/layout:t",
            f"oci-archive:{self.work}/image.oci.tar:t",
            f"docker-archive:{self.work}/image.docker.tar:{STORED}",
            f"containers-storage:{STORED}",
            f"docker://{self.registry.host}/wt-cache/shapes:noop",
        )


@pytest.fixture(scope="module")
def bed(builder: Builder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bed]:
    registry = start_registry(tmp_path_factory.mktemp("registry"))
    work = tmp_path_factory.mktemp("cache-e2e")
    try:
        yield Bed(builder, work, work / "layer-cache", registry)
    finally:
        registry.stop()
        podman("rmi", "-f", STORED)


@pytest.fixture(scope="module")
def cold(bed: Bed) -> Run:
    """The first build, to every kind of destination."""
    return bed.build(SPEC, *bed.all_outputs)


def manifest_of_layout(layout: Path) -> dict:
    index = json.loads((layout / "index.json").read_text())
    entry = next(
        m
        for m in index["manifests"]
        if m["annotations"].get("org.opencontainers.image.ref.name") == "t"
    )
    return json.loads((layout / "blobs/sha256" / entry["digest"][7:]).read_text())


def test_every_destination_records_the_build_key(bed: Bed, cold: Run) -> None:
    key = manifest_of_layout(bed.work / "layout")["annotations"][KEY]
    assert key.startswith("sha256:")
    with tarfile.open(bed.work / "image.docker.tar") as tar:
        (entry,) = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
        config = json.loads(tar.extractfile(entry["Config"]).read())  # type: ignore[union-attr]
    assert config["config"]["Labels"][KEY] == key
    stored = podman("image", "inspect", "--format", "{{json .Labels}}", STORED)
    assert json.loads(stored.stdout)[KEY] == key
    pushed = requests.get(
        f"http://{bed.registry.host}/v2/wt-cache/shapes/manifests/noop",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
        timeout=30,
    )
    assert pushed.json()["annotations"][KEY] == key
    repacked, layers = cold.repacked()
    assert repacked == layers > 1  # an empty layer cache: every layer packed


def test_unchanged_spec_starts_no_container_and_writes_nothing(bed: Bed, cold: Run) -> None:
    layout_index = (bed.work / "layout" / "index.json").stat().st_mtime_ns
    sbom = bed.work / "noop.spdx.json"
    again = bed.build(SPEC, *bed.all_outputs, extra=("--sbom", str(sbom)))
    assert "staves: unchanged: every destination holds this build" in again.log
    assert again.builders_created() == []
    assert again.digest == cold.digest
    assert (bed.work / "layout" / "index.json").stat().st_mtime_ns == layout_index
    # --sbom still gets the SBOM, the one attached to the image in a destination.
    document = json.loads(sbom.read_text())
    assert document["spdxVersion"].startswith("SPDX-")
    assert cold.digest in json.dumps(document)


def test_destinations_lacking_the_image_get_a_copy_without_a_build(bed: Bed, cold: Run) -> None:
    pushed = f"{bed.registry.host}/wt-cache/shapes:copy"
    run = bed.build(
        SPEC, f"oci:{bed.work}/layout:t", f"oci:{bed.work}/second:t", f"docker://{pushed}"
    )
    assert "copied this build to the 2 that lacked it; no container started" in run.log
    assert run.builders_created() == []
    assert run.digest == cold.digest
    assert manifest_of_layout(bed.work / "second") == manifest_of_layout(bed.work / "layout")
    index = json.loads((bed.work / "second" / "index.json").read_text())
    assert [m.get("artifactType") for m in index["manifests"]] == [None]
    # The image's referrers, the SBOM and the provenance, in its artifacts layout.
    artifacts = json.loads((bed.work / "second" / "artifacts" / "index.json").read_text())
    assert [m.get("artifactType") for m in artifacts["manifests"]] == [
        "application/spdx+json",
        "application/vnd.dsse.envelope.v1+json",
    ]
    head = requests.head(
        f"http://{bed.registry.host}/v2/wt-cache/shapes/manifests/copy",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
        timeout=30,
    )
    assert head.headers["Docker-Content-Digest"] == cold.digest


def test_a_holder_that_keeps_no_compressed_layers_means_a_warm_build(bed: Bed, cold: Run) -> None:
    held = f"docker-archive:{bed.work}/image.docker.tar:{STORED}"
    run = bed.build(SPEC, held, f"oci:{bed.work}/third:t")
    assert "building for the others" in run.log
    assert len(run.builders_created()) == 1
    assert run.compiled() == []
    assert run.repacked() == (0, 8)  # every layer came from the layer cache
    assert run.digest == cold.digest


PRETEND = "running emerge --color=n --pretend"


def test_no_cache_builds_anyway_and_a_build_like_the_last_skips_the_drift_check(
    bed: Bed, cold: Run
) -> None:
    # The previous test's warm build compiled nothing from the same plan, images and
    # binary packages: this one cannot compile anything, so nothing can have drifted.
    run = bed.build(SPEC, f"oci:{bed.work}/layout:t", extra=("--no-cache",))
    assert len(run.builders_created()) == 1
    assert run.repacked() == (8, 8)
    assert run.digest == cold.digest
    assert "no drift check needed" in run.log
    assert PRETEND not in run.log
    assert "checking the licenses" not in run.log  # accepted by that build already


def test_one_changed_package_repacks_one_layer_as_a_fresh_pack_would(bed: Bed, cold: Run) -> None:
    changed = bed.build(SPEC + USE_CHANGE, f"oci:{bed.work}/changed:t")
    assert changed.compiled() == ["app-misc/hello-1.0"]
    assert changed.repacked() == (1, 8)
    # A compile: the drift check runs, on the build's one dependency calculation.
    assert "checking the builder's libraries against the image's" in changed.log
    # --no-cache: a build although the destination holds it, every layer packed afresh.
    fresh = bed.build(SPEC + USE_CHANGE, f"oci:{bed.work}/changed:t", extra=("--no-cache",))
    assert len(fresh.builders_created()) == 1
    assert fresh.repacked() == (8, 8)
    assert fresh.digest == changed.digest


def calculations(run: Run) -> int:
    """Dependency calculations in the run, as Portage counts them out loud."""
    return run.log.count("Calculating dependencies")


def layout_files(layout: Path) -> set[str]:
    manifest = manifest_of_layout(layout)
    files = set()
    for layer in manifest["layers"]:
        with tarfile.open(layout / "blobs/sha256" / layer["digest"][7:]) as tar:
            files |= {member.name for member in tar}
    return files


def test_a_warm_build_runs_one_dependency_calculation_and_merges_nothing(
    bed: Bed, cold: Run
) -> None:
    bed.build(SPEC, f"oci:{bed.work}/one-calc:t", extra=("--no-cache",))
    warm = bed.build(SPEC, f"oci:{bed.work}/one-calc:t", extra=("--no-cache",))
    assert calculations(warm) == 1
    assert ">>> Emerging" not in warm.log  # the root kept from the last build
    assert warm.digest == cold.digest
    assert "running emerge" not in warm.log and "portageq" not in warm.log


def test_an_updated_root_is_the_root_a_build_from_scratch_gives(bed: Bed, cold: Run) -> None:
    bed.build(SPEC, f"oci:{bed.work}/before-update:t")  # the kept root holds SPEC's
    # One USE flag changed: the build updates the kept root (hello anew), then a second
    # build from scratch (--check-reproducible) must give the same layers.
    checked = bed.build(
        SPEC + USE_CHANGE, f"oci:{bed.work}/updated:t", extra=("--check-reproducible",)
    )
    assert "updating the root kept from this image's last build" in checked.log
    assert "reproducible: a build from scratch gave the same layers" in checked.log


def test_a_package_leaving_the_image_leaves_the_root_too(bed: Bed, cold: Run) -> None:
    bed.build(SPEC, f"oci:{bed.work}/with-hello:t")
    alone = SPEC.replace('"app-misc/shaper", "app-misc/hello"', '"app-misc/shaper"')
    without = bed.build(alone, f"oci:{bed.work}/without-hello:t")
    files = layout_files(bed.work / "without-hello")
    assert "usr/bin/shaper" in files
    assert not any("hello" in name or "libgreet" in name for name in files)
    assert without.compiled() == []


def test_a_default_build_does_not_ask_the_stage3s_binhost(cold: Run) -> None:
    # The test builder's binrepos.conf names a stand-in for Gentoo's official binhost on a
    # closed loopback port; only --getbinpkg asks it (tests/test_fleet_e2e.py).
    assert "127.0.0.1:9" not in cold.log


def test_a_package_the_builder_has_is_taken_from_it(bed: Bed) -> None:
    # The test builder has dev-libs/libshape-1 installed, built as the image would build it.
    sbom = bed.work / "libshape-1.spdx.json"
    spec = 'name = "localhost/staves-wt-cache/libshape1"\npackages = ["=dev-libs/libshape-1"]\n'
    run = bed.build(spec, f"oci:{bed.work}/libshape-1:t", extra=("--sbom", str(sbom)))
    assert "dev-libs/libshape-1" not in run.compiled()
    assert "usr/lib64/libshape.so.1" in layout_files(bed.work / "libshape-1")
    packages = {p["name"]: p for p in json.loads(sbom.read_text())["packages"]}
    # The SBOM's annotation of a package holds one "KEY: value" line each (issue 30).
    notes = [n for a in packages["libshape"]["annotations"] for n in a["comment"].splitlines()]
    assert any(note.startswith("origin: builder") for note in notes)
    assert not any(
        note.startswith("origin: builder")
        for a in packages["glibc"]["annotations"]
        for note in a["comment"].splitlines()
    )
