"""distcc helpers end to end, against Debian's distccd on loopback.

A build whose compiles went to the helper (its log names every unit it compiled) gives the
image a build in the builder alone gives, digest for digest: the builder runs the helper's
compiler version, and Staves checked that before compiling. A helper whose compiler makes
other objects fails the build before anything is compiled, naming it; one that does not
answer is a warning, its share compiled in the builder.

The package is app-misc/manyunits of the test repository: sixteen units and a main, each
compiled on its own by make, as most C packages are. Both builds start from copies of the
run's seed cache, which holds everything the image needs but manyunits: each compiles
manyunits alone (and the helped one sys-devel/distcc into its builder, as a stage3 lacks
it), so the digests compare what was compiled, with and without the helper. The two run
side by side, as two runners would.
"""

import os
import re
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.builder_fixtures import Build, Builder, clone_volume, podman, seeded_cache, test_images
from tests.conftest import require_tools
from tests.loopback import free_port, wait_for_port
from tests.test_build_e2e import compiled_from_source

pytestmark = [pytest.mark.builder, pytest.mark.podman]
__all__ = ["seeded_cache", "test_images"]  # fixtures used by name

SPEC = """
name = "localhost/staves-test/manyunits"
version = "1"
packages = ["app-misc/manyunits"]
command = ["/usr/bin/manyunits", "7"]
"""
# The builder's own jobs: the last slot of DISTCC_HOSTS, and make's jobs for distcc itself.
JOBS = ("--jobs", "2")
SOURCES = {"main.c", *(f"unit{n}.c" for n in range(1, 17))}
# "distccd[42] (dcc_job_summary) client: 127.0.0.1:4711 COMPILE_OK exit:0 … time:9ms gcc x.c"
_COMPILED = re.compile(r"client: \S+ COMPILE_OK .* (\S+\.c)$", re.MULTILINE)


@dataclass
class Helper:
    port: int
    log: Path

    def compiled(self) -> set[str]:
        """The sources it compiled and sent back, from its own log."""
        return set(_COMPILED.findall(self.log.read_text(errors="replace")))


def start_distccd(
    directory: Path, path_first: Path | None = None
) -> tuple[Helper, subprocess.Popen[bytes]]:
    """Debian's distccd on 127.0.0.1 (as a helper machine runs it: distccd --daemon, the
    clients it allows); ``path_first`` goes before its PATH, where it finds compilers. Its
    log goes to a file opened here: distccd drops root for its own user, which could not
    open one under the tests' private directories."""
    directory.mkdir(parents=True, exist_ok=True)
    log = directory / "distccd.log"
    port = free_port()
    env = dict(os.environ)
    if path_first is not None:
        env["PATH"] = f"{path_first}:{env['PATH']}"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["distccd", "--daemon", "--no-detach", "--listen", "127.0.0.1", "--port", str(port),
             "--allow", "127.0.0.1", "--jobs", "4", "--log-stderr", "--log-level", "info"],
            env=env,
            stderr=out,
        )  # fmt: skip
    wait_for_port(port, proc)
    return Helper(port, log), proc


def names(emerged: list[str]) -> list[str]:
    """CATEGORY/PF of each ``CATEGORY/PF::REPO`` emerge names."""
    return [name.split("::")[0] for name in emerged]


@dataclass
class Builds:
    local: Build
    helped: Build
    helper: Helper
    workdir: Path
    helped_cache: str


@pytest.fixture(scope="module")
def builds(seeded_cache: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Builds]:
    """The spec built twice side by side, each on a copy of the seed cache: in the builder
    alone, and with one helper on loopback (the builder on the host's network, to reach
    it)."""
    require_tools("distccd")
    work = tmp_path_factory.mktemp("distcc")
    caches = [f"staves-test-distcc-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    helper, daemon = start_distccd(work / "helper")
    try:
        for cache in caches:
            clone_volume(seeded_cache, cache)
        local, helped = Builder(caches[0], work), Builder(caches[1], work)
        with ThreadPoolExecutor(2) as pool:
            alone = pool.submit(local.build, SPEC, *JOBS)
            # A limit above the units: the helper is asked first for each.
            with_helper = pool.submit(
                helped.build, SPEC, *JOBS, "--network", "host",
                "--distcc", f"127.0.0.1:{helper.port}/32",
            )  # fmt: skip
            yield Builds(alone.result(), with_helper.result(), helper, work, caches[1])
    finally:
        daemon.terminate()
        daemon.wait()
        for cache in caches:
            podman("volume", "rm", "-f", cache)


def test_the_helper_compiled_the_units_and_the_image_is_the_local_builds(builds: Builds) -> None:
    # Staves' probe, then the package's units: distcc hands most to the helper (its 32
    # slots come first), some to the builder's own slots (localhost/2) as it sees fit.
    compiled = builds.helper.compiled()
    assert "probe.c" in compiled
    assert compiled - {"probe.c"} <= SOURCES
    assert len(compiled & SOURCES) >= len(SOURCES) // 2, compiled
    # Each compiled manyunits alone (the helped one distcc too, into its builder): the
    # digests compare what was compiled with and without the helper.
    assert names(compiled_from_source(builds.local.log)) == ["app-misc/manyunits-1"]
    helped = names(compiled_from_source(builds.helped.log))
    assert helped == ["sys-devel/distcc-3.4", "app-misc/manyunits-1"]
    assert builds.helped.proc.stdout.strip() == builds.local.proc.stdout.strip()
    assert builds.helped.run() == builds.local.run() != ""


def test_the_builder_got_distcc_and_checked_the_helper_first(builds: Builds) -> None:
    log = builds.helped.log
    assert "emerging sys-devel/distcc into the builder" in log
    helper = f"127.0.0.1:{builds.helper.port}/32"
    assert f"distcc: helper {helper} compiles as the builder does (GCC: " in log
    assert f"DISTCC_HOSTS='{helper} localhost/2' MAKEOPTS='-j69'" in log
    compiling = re.search(r">>> Emerging \(\d+ of \d+\) app-misc/manyunits", log)
    assert compiling is not None and log.index("compiles as the builder does") < compiling.start()
    assert "distcc" not in builds.local.log


def test_a_helper_compiling_otherwise_fails_before_anything_is_compiled(
    builds: Builds, tmp_path: Path
) -> None:
    """A helper whose compiler makes other code (here: -O0 forced by a wrapper in its PATH,
    as another compiler version would), listed after one that does not answer."""
    # Where distccd, as its own user, can run them (not under the tests' private tmp).
    wrappers = Path(tempfile.mkdtemp(prefix="stv-cc-"))
    wrappers.chmod(0o755)
    for name in ("cc", "gcc", "x86_64-linux-gnu-gcc", "x86_64-linux-gnu-gcc-12"):
        wrapper = wrappers / name
        wrapper.write_text(f'#!/bin/sh\nexec /usr/bin/{name} "$@" -O0\n')
        wrapper.chmod(0o755)
    other, daemon = start_distccd(tmp_path / "other", path_first=wrappers)
    silent = free_port()  # nothing listens there
    try:
        failed = Builder(builds.helped_cache, builds.workdir).build(
            SPEC, *JOBS, "--network", "host",
            "--distcc", f"127.0.0.1:{silent}", "--distcc", f"127.0.0.1:{other.port}",
            expect_ok=False,
        )  # fmt: skip
    finally:
        daemon.terminate()
        daemon.wait()
        shutil.rmtree(wrappers, ignore_errors=True)
    assert failed.proc.returncode == 1
    assert f"warning: distcc helper 127.0.0.1:{silent} did not compile the probe" in failed.log
    last = failed.log.strip().splitlines()[-1]
    assert last.startswith(
        f"staves: error: distcc helper 127.0.0.1:{other.port} compiles otherwise than the "
        "builder, both with GCC: ("
    ), last
    assert ">>> Emerging (1 of" not in failed.log
    assert not failed.layout.exists()
