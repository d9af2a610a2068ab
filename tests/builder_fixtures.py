"""Fixtures for end-to-end builds: the test builder images, cache volumes, a build runner.

The binary packages most builds need are compiled once per test run, into the seed cache
volume (``seeded_cache``); ``builder`` gives each test module a copy of it. See
tests/README.md for which fixture to reuse in a new end-to-end test.
"""

import fcntl
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from staves.podman.owners import OWNER_LABEL, Owner
from tests.conftest import PROJECT, require_tools
from tests.loopback import free_port, wait_for_port
from tests.run_shared import made_once, run_id, run_labels

# The images scripts/build-test-images tagged (STAVES_TEST_IMAGES keeps checkouts apart).
TEST_IMAGES = os.environ.get("STAVES_TEST_IMAGES", "localhost/staves-test")
BUILDER = f"{TEST_IMAGES}/builder:latest"
PORTAGE = f"{TEST_IMAGES}/portage:latest"
# Locks on the built images tests store in Podman while they run them (Build.stored).
IMAGE_LOCKS = Path(tempfile.gettempdir()) / "staves-test-image-locks"


def podman(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["podman", *args], capture_output=True, text=True, check=False)


def builder_containers(owner_pid: int) -> set[str]:
    """Builder containers owned by process ``owner_pid`` (their ``io.staves.owner`` label),
    so that builds of other test runs on the machine do not count."""
    out = podman("ps", "-a", "--filter", "label=io.staves.role=builder", "--format", "json")
    found = set()
    for container in json.loads(out.stdout or "[]"):
        owner = Owner.parse((container.get("Labels") or {}).get(OWNER_LABEL, ""))
        if owner is not None and owner.pid == owner_pid:
            found.add(container["Id"][:12])
    return found


def compiled_by(metadata: dict[str, Any]) -> list[str]:
    """CATEGORY/PF of each package a build's --metadata-file says it compiled, into an
    image, the builder or another root (the debug image's)."""
    merged = [
        p
        for one in metadata["staves.platforms"].values()
        for p in (*one["packages"], *one["builder_merges"], *one["other_merges"])
    ]
    return sorted({p["cpv"] for p in merged if p["how"] == "compiled"})


@dataclass
class Build:
    proc: subprocess.CompletedProcess[str]
    layout: Path
    pid: int  # of the staves process, which owns its builder
    work: Path | None = None  # where its --log-file and --metadata-file are

    @property
    def log(self) -> str:
        """The build's whole log (--log-file): its events, emerge's output, its last error;
        what it printed where it kept none."""
        path = self.work / "build.log" if self.work is not None else None
        return path.read_text() if path is not None and path.exists() else self.proc.stderr

    def metadata(self) -> dict[str, Any]:
        """What --metadata-file says the build made."""
        assert self.work is not None
        return dict(json.loads((self.work / "metadata.json").read_text()))

    def packages(self) -> dict[str, str]:
        """CATEGORY/PF → how it was obtained (compiled, binary, unchanged, builder), of
        every platform's image."""
        platforms = self.metadata()["staves.platforms"].values()
        return {p["cpv"]: p["how"] for one in platforms for p in one.get("packages", [])}

    def compiled(self) -> list[str]:
        """CATEGORY/PF of what this build compiled, into the image or the builder (the
        metadata's): never read from what it printed, which a quieter output would empty."""
        return compiled_by(self.metadata())

    def manifest(self) -> dict[str, Any]:
        index = json.loads((self.layout / "index.json").read_text())
        image = next(m for m in index["manifests"] if "artifactType" not in m)
        return json.loads((self.layout / "blobs" / "sha256" / image["digest"][7:]).read_text())

    def config(self) -> dict[str, Any]:
        """The image's runtime config (``config`` in the OCI image config)."""
        digest = self.manifest()["config"]["digest"]
        blob = self.layout / "blobs" / "sha256" / digest[7:]
        return dict(json.loads(blob.read_text())["config"])

    def members(self) -> dict[str, tarfile.TarInfo]:
        """The entries of the image's layers by path (a later layer's entry wins)."""
        found: dict[str, tarfile.TarInfo] = {}
        for layer in self.manifest()["layers"]:
            with tarfile.open(self.layout / "blobs" / "sha256" / layer["digest"][7:]) as tar:
                found.update((m.name.rstrip("/"), m) for m in tar.getmembers())
        return found

    def read(self, path: str) -> bytes:
        """A regular file of the image's layers."""
        for layer in reversed(self.manifest()["layers"]):
            with tarfile.open(self.layout / "blobs" / "sha256" / layer["digest"][7:]) as tar:
                try:
                    data = tar.extractfile(path)
                except KeyError:
                    continue
                if data is not None:
                    return data.read()
        raise KeyError(path)

    def files(self) -> set[str]:
        """Paths in the image's layer."""
        index = json.loads((self.layout / "index.json").read_text())
        blobs = self.layout / "blobs" / "sha256"
        image = next(m for m in index["manifests"] if "artifactType" not in m)
        manifest = json.loads((blobs / image["digest"][7:]).read_text())
        names: set[str] = set()
        for layer in manifest["layers"]:
            listing = subprocess.run(
                ["tar", "-tzf", str(blobs / layer["digest"][7:])],
                capture_output=True,
                text=True,
                check=True,
            )
            names.update(n.rstrip("/") for n in listing.stdout.split())
        return names

    def layer_blob(self) -> Path:
        """The image's only layer (``layers = 1``, the default), a gzipped tar."""
        index = json.loads((self.layout / "index.json").read_text())
        blobs = self.layout / "blobs" / "sha256"
        image = next(m for m in index["manifests"] if "artifactType" not in m)
        manifest = json.loads((blobs / image["digest"][7:]).read_text())
        (layer,) = manifest["layers"]
        return blobs / layer["digest"][7:]

    def config_digest(self) -> str:
        index = json.loads((self.layout / "index.json").read_text())
        blobs = self.layout / "blobs" / "sha256"
        image = next(m for m in index["manifests"] if "artifactType" not in m)
        manifest = json.loads((blobs / image["digest"][7:]).read_text())
        return str(manifest["config"]["digest"])

    @property
    def image(self) -> str:
        """The image as ``podman run`` names it."""
        return f"oci:{self.layout}:t"

    @contextmanager
    def stored(self) -> Iterator[None]:
        """While ``podman run`` of ``image`` may use the copy it stores (its ID is the config
        digest); that copy is removed after, unless another test still uses it.

        Builds are reproducible: tests running side by side (other xdist workers, other
        checkouts on the machine) store the same image under the same ID. Each holds a
        shared lock on the ID while it uses it; the last to finish removes it.
        """
        image_id = self.config_digest().removeprefix("sha256:")
        IMAGE_LOCKS.mkdir(exist_ok=True)
        with (IMAGE_LOCKS / f"{image_id}.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_SH)
            try:
                yield
            finally:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    pass  # in use elsewhere: the last user removes it
                else:
                    podman("rmi", "-f", image_id)

    def run(self, *command: str, options: tuple[str, ...] = ()) -> str:
        """Run the built image with podman (``options`` before the image); its stdout."""
        with self.stored():
            proc = subprocess.run(
                ["podman", "run", "--rm", *options, self.image, *command],
                capture_output=True,
                text=True,
                check=False,
            )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout


class Builder:
    """Runs ``staves build`` with the test images and one binpkg cache volume."""

    def __init__(self, cache: str, workdir: Path, distfiles: str | None = None) -> None:
        self.cache = cache
        self.workdir = workdir
        self.distfiles = distfiles  # None: staves' default volume

    def command(self, spec: str, *extra: str) -> tuple[list[str], Path]:
        """The command line that builds ``spec`` (written into a new directory) into that
        directory's ``layout``, with its log and metadata files there; the directory."""
        work = self.workdir / uuid.uuid4().hex[:8]
        work.mkdir()
        (work / "staves.toml").write_text(spec)
        argv = [
            "staves",
            "build",
            "-c",
            str(work / "staves.toml"),
            "--builder",
            BUILDER,
            "--portage",
            PORTAGE,
            "--build-cache",
            self.cache,
            *(("--distfiles-cache", self.distfiles) if self.distfiles else ()),
            "-o",
            f"oci:{work / 'layout'}:t",
            "--log-file",
            str(work / "build.log"),
            "--metadata-file",
            str(work / "metadata.json"),
            *extra,
        ]
        return argv, work

    def build(
        self,
        spec: str,
        *extra: str,
        expect_ok: bool = True,
        env: Mapping[str, str] | None = None,
    ) -> Build:
        argv, work = self.command(spec, *extra)
        layout = work / "layout"
        popen = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        out, err = popen.communicate()
        proc = subprocess.CompletedProcess(popen.args, popen.returncode, out, err)
        if expect_ok:
            assert proc.returncode == 0, proc.stderr[-3000:]
        return Build(proc, layout, popen.pid, work)


@pytest.fixture(scope="session")
def test_images() -> None:
    require_tools("podman")
    for image in (BUILDER, PORTAGE):
        if podman("image", "exists", image).returncode != 0:
            pytest.skip(f"{image} is missing; scripts/build-test-images builds it")


# What the seed cache holds: the packages of most test builds (hello, its library, the C
# library and the skeleton; gentool in the builder's own partition), with their default USE
# flags. A test that checks that one of these compiles uses another USE flag or a cache
# volume of its own (``fresh_cache``).
SEED_SPEC = """
name = "localhost/staves-test/seed"
packages = ["app-misc/hello"]
command = ["/usr/bin/hello"]
"""


def create_cache_volume(name: str) -> None:
    """A binary-package cache volume as staves creates one, labelled as this run's too."""
    labels = ("--label", "io.staves.purpose=binpkg-cache", *run_labels())
    made = podman("volume", "create", *labels, name)
    assert made.returncode == 0, made.stderr


def clone_volume(source: str, name: str) -> None:
    """A new cache volume ``name`` holding what ``source`` holds (``podman volume
    export|import``)."""
    create_cache_volume(name)
    with subprocess.Popen(["podman", "volume", "export", source], stdout=subprocess.PIPE) as out:
        imported = subprocess.run(
            ["podman", "volume", "import", name, "-"],
            stdin=out.stdout,
            capture_output=True,
            text=True,
            check=False,
        )
    assert out.returncode == 0 and imported.returncode == 0, imported.stderr


@pytest.fixture(scope="session")
def seeded_cache(test_images: None, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The run's seed cache volume, after one cold build of SEED_SPEC: made once for the
    whole run (under pytest-xdist too) and never written to again; copy it with
    ``clone_volume`` (``builder`` does), never build on it."""

    def make() -> str:
        volume = f"staves-test-seed-{run_id()}"
        create_cache_volume(volume)
        Builder(volume, tmp_path_factory.mktemp("seed")).build(SEED_SPEC)
        return volume

    return made_once(tmp_path_factory, "seeded-cache", make)


@pytest.fixture(scope="module")
def builder(seeded_cache: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Builder]:
    """A build runner for the module, on a copy of the seed cache of its own."""
    cache = f"staves-test-cache-{uuid.uuid4().hex[:8]}"
    try:
        clone_volume(seeded_cache, cache)
        yield Builder(cache, tmp_path_factory.mktemp("builds"))
    finally:
        podman("volume", "rm", "-f", cache)


@pytest.fixture
def cloned_builder(seeded_cache: str, tmp_path: Path) -> Iterator[Builder]:
    """A build runner for this test alone, on a copy of the seed cache of its own."""
    cache = f"staves-test-clone-{uuid.uuid4().hex[:8]}"
    try:
        clone_volume(seeded_cache, cache)
        yield Builder(cache, tmp_path)
    finally:
        podman("volume", "rm", "-f", cache)


@pytest.fixture
def fresh_cache(test_images: None) -> Iterator[str]:
    """The name of a cache volume that does not exist yet (removed after the test)."""
    cache = f"staves-test-fresh-{uuid.uuid4().hex[:8]}"
    try:
        yield cache
    finally:
        podman("volume", "rm", "-f", cache)


@contextmanager
def overlay_git_server(directory: Path) -> Iterator[str]:
    """The test overlay as a git repository (``directory/overlay.git``) served by git
    daemon on 127.0.0.1: its URI while the context lasts."""
    require_tools("git")
    repo = directory / "overlay.git"
    shutil.copytree(PROJECT / "tests" / "testbed" / "overlay", repo)
    for args in (
        ["init", "-q", "-b", "main"],
        ["add", "-A"],
        ["-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "-qm", "overlay"],
    ):
        subprocess.run(["git", "-C", str(repo), *args], check=True)
    port = free_port()
    daemon = subprocess.Popen(
        [
            "git",
            "daemon",
            "--listen=127.0.0.1",
            f"--port={port}",
            "--export-all",
            f"--base-path={directory}",
            "--reuseaddr",
            str(directory),
        ],
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, daemon)
        yield f"git://127.0.0.1:{port}/overlay.git"
    finally:
        daemon.terminate()
        daemon.wait()


@pytest.fixture
def overlay_git(tmp_path: Path) -> Iterator[str]:
    """The test overlay as a git repository served by git daemon on 127.0.0.1 (a URI)."""
    with overlay_git_server(tmp_path) as uri:
        yield uri
