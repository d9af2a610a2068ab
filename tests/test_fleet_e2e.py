"""A fleet of runners sharing one cache: a binhost made by ``staves cache export`` and served
over HTTP, and the cache pushed to and pulled from a registry. One build (the "team's
runner", on a copy of the run's seed cache) feeds every other runner here, each with an empty
cache volume of its own."""

import gzip
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.builder_fixtures import (
    BUILDER,
    PORTAGE,
    Build,
    Builder,
    clone_volume,
    podman,
    test_images,
)
from tests.loopback import free_port, wait_for_port
from tests.registry_fixtures import PASSWORD, USER, Registry, start_registry
from tests.test_build_e2e import HELLO

pytestmark = [pytest.mark.builder, pytest.mark.podman, pytest.mark.registry]
__all__ = ["test_images"]


@dataclass
class Fleet:
    team: Builder  # the runner whose cache the others use
    first: Build  # its cold build, which pushed the cache
    registry: Registry
    cache_ref: str
    workdir: Path
    volumes: list[str]

    def runner(self) -> Builder:
        """A runner with a cache volume of its own, empty (removed with the module)."""
        volume = f"staves-test-fleet-{uuid.uuid4().hex[:8]}"
        self.volumes.append(volume)
        return Builder(volume, self.workdir)


def volume_files(volume: str) -> list[str]:
    """The files in a cache volume, through a container of the test builder."""
    listing = podman(
        "run",
        "--rm",
        "--network",
        "none",
        "-v",
        f"{volume}:/v:ro",
        BUILDER,
        "find",
        "/v",
        "-type",
        "f",
    )
    assert listing.returncode == 0, listing.stderr
    return listing.stdout.split()


@pytest.fixture(scope="module")
def fleet(seeded_cache: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    registry = start_registry(tmp_path_factory.mktemp("fleet-registry"), htpasswd=True)
    workdir = tmp_path_factory.mktemp("fleet")
    # The team's runner has built before: a copy of the run's seed cache, which holds HELLO.
    team = Builder(f"staves-test-fleet-{uuid.uuid4().hex[:8]}", workdir)
    cache_ref = f"{registry.host}/team/binpkgs:hello"
    try:
        clone_volume(seeded_cache, team.cache)
        # As a CI job runs it every time: from the cache, which is not there yet the first
        # time, and back to it.
        cache = f"docker://{cache_ref}"
        creds = f"{USER}:{PASSWORD}"
        first = team.build(HELLO, "--cache-from", cache, "--cache-to", cache, "--creds", creds)
        yield Fleet(team, first, registry, cache_ref, workdir, [team.cache])
    finally:
        registry.stop()
        podman("volume", "rm", "-f", team.cache)


@pytest.fixture(scope="module")
def runners(fleet: Fleet) -> Iterator[Fleet]:
    try:
        yield fleet
    finally:
        for volume in fleet.volumes:
            podman("volume", "rm", "-f", volume)


def export(fleet: Fleet, directory: Path) -> subprocess.CompletedProcess[str]:
    spec = fleet.workdir / "export.toml"
    spec.write_text(HELLO)
    return subprocess.run(
        [
            "staves",
            "cache",
            "export",
            "-c",
            str(spec),
            "--builder",
            BUILDER,
            "--portage",
            PORTAGE,
            "--build-cache",
            fleet.team.cache,
            str(directory),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def indexed_packages(packages_file: Path) -> set[str]:
    """The CPV entries of a Portage Packages index."""
    text = packages_file.read_text()
    return {line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("CPV: ")}


@pytest.fixture(scope="module")
def binhost(runners: Fleet) -> Iterator[tuple[str, Path]]:
    """The team's cache exported and served by python -m http.server on 127.0.0.1."""
    directory = runners.workdir / "binhost"
    done = export(runners, directory)
    assert done.returncode == 0, done.stderr[-3000:]
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)],
        cwd=directory,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_port(port, server)
        yield f"http://127.0.0.1:{port}", directory
    finally:
        server.terminate()
        server.wait()


def test_export_writes_a_binhost_portage_indexed(runners: Fleet, binhost: tuple[str, Path]) -> None:
    _, directory = binhost
    (key,) = [path for path in directory.iterdir() if not path.name.startswith(".")]
    image_dir = next(key.glob("image-env-*"))
    assert {"dev-libs/libgreet-1.0", "app-misc/hello-1.0"} <= indexed_packages(
        image_dir / "Packages"
    )
    # The builder's own build dependencies are a partition of their own, indexed too.
    assert "dev-util/gentool-1.0" in indexed_packages(key / "builder" / "Packages")
    assert (
        gzip.decompress((image_dir / "Packages.gz").read_bytes())
        == (image_dir / "Packages").read_bytes()
    )
    assert list(image_dir.glob("app-misc/hello/hello-1.0-*.gpkg.tar"))


def test_a_runner_fed_by_the_binhost_compiles_nothing(
    runners: Fleet, binhost: tuple[str, Path]
) -> None:
    uri, _ = binhost
    runner = runners.runner()
    # The builder reaches the host's loopback through the host's network.
    fed = runner.build(HELLO, "--network", "host", "--binhost", uri)
    assert fed.compiled() == []
    assert ">>> Emerging binary" in fed.log and "app-misc/hello-1.0" in fed.log
    assert fed.run() == "Hello World!\n"
    # The same packages, so the same image as the team's.
    assert fed.manifest()["layers"] == runners.first.manifest()["layers"]
    # --getbinpkg: the builder's own binrepos.conf (a stage3's official binhost; the test
    # builder's stand-in is a closed port) is asked as well.
    assert "[gentoo] Error fetching binhost package info from 'http://127.0.0.1:9/" in fed.log
    # What was fetched is kept in the runner's cache volume, beside its partition (the
    # binhost's "location"), so the next build downloads only what changed.
    fetched = [f for f in volume_files(runner.cache) if "/binhost/binhost-1/image-env-" in f]
    assert any(f.endswith(".gpkg.tar") and "/app-misc/hello/" in f for f in fetched)


def test_a_runner_fed_by_the_registry_cache_compiles_nothing(runners: Fleet) -> None:
    assert "no cache there yet" in runners.first.log
    assert "staves: cache pushed to docker://" in runners.first.log
    runner = runners.runner()
    creds = ("--creds", f"{USER}:{PASSWORD}")
    fed = runner.build(
        HELLO,
        "--cache-from",
        f"docker://{runners.cache_ref}",
        "--cache-to",
        f"docker://{runners.cache_ref}",
        *creds,
    )
    assert fed.compiled() == []
    assert fed.run() == "Hello World!\n"
    assert fed.manifest()["layers"] == runners.first.manifest()["layers"]
    # Pushing the same packages again sends no blob: the registry has every one.
    assert ", 0 blobs uploaded (0 bytes)" in fed.log


def test_cache_from_without_credentials_is_one_line(runners: Fleet) -> None:
    build = runners.team.build(
        HELLO, "--cache-from", f"docker://{runners.cache_ref}", expect_ok=False
    )
    assert build.proc.returncode == 1
    (line,) = [line for line in build.log.splitlines() if line.startswith("staves: error:")]
    assert "--cache-from" in line and "401" in line
