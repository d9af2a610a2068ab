"""distcc helpers end to end, against Debian's distccd on loopback.

A cold build whose compiles went to the helper (its log names every unit it compiled)
gives the image a cold build in the builder alone gives, digest for digest: the builder
runs the helper's compiler version, and Staves checked that before compiling. A helper
whose compiler makes other objects fails the build before anything is compiled, naming
it; one that does not answer is a warning, its share compiled in the builder.

The package is app-misc/manyunits of the test repository: sixteen units and a main, each
compiled on its own by make, as most C packages are. Each build is cold (a cache volume
of its own), so the smallest spec that shows the point: that one package.
"""

import os
import re
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.builder_fixtures import Build, Builder, podman, test_images
from tests.conftest import require_tools
from tests.loopback import free_port, wait_for_port

pytestmark = [pytest.mark.builder, pytest.mark.podman]
__all__ = ["test_images"]  # fixtures used by name

SPEC = """
name = "localhost/staves-test/manyunits"
version = "1"
packages = ["app-misc/manyunits"]
command = ["/usr/bin/manyunits", "7"]
"""
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


@dataclass
class Builds:
    local: Build
    helped: Build
    helper: Helper
    workdir: Path
    helped_cache: str


@pytest.fixture(scope="module")
def builds(test_images: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Builds]:
    """The spec built cold twice: in the builder alone, and with one helper on loopback
    (the builder on the host's network, to reach it)."""
    require_tools("distccd")
    work = tmp_path_factory.mktemp("distcc")
    caches = [f"staves-test-distcc-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    helper, daemon = start_distccd(work / "helper")
    try:
        local = Builder(caches[0], work).build(SPEC, "--jobs", "1")
        # A limit above the units: the helper is asked first for each.
        helped = Builder(caches[1], work).build(
            SPEC, "--jobs", "1", "--network", "host", "--distcc", f"127.0.0.1:{helper.port}/32"
        )
        yield Builds(local, helped, helper, work, caches[1])
    finally:
        daemon.terminate()
        daemon.wait()
        for cache in caches:
            podman("volume", "rm", "-f", cache)


def test_the_helper_compiled_the_units_and_the_image_is_the_local_builds(builds: Builds) -> None:
    # Staves' probe, then the package's units: distcc hands most to the helper (its 32
    # slots come first), some to the builder's own slot (localhost/1) as it sees fit.
    compiled = builds.helper.compiled()
    assert "probe.c" in compiled
    assert compiled - {"probe.c"} <= SOURCES
    assert len(compiled & SOURCES) >= len(SOURCES) // 2, compiled
    assert builds.helped.proc.stdout.strip() == builds.local.proc.stdout.strip()
    assert builds.helped.run() == builds.local.run() != ""


def test_the_builder_got_distcc_and_checked_the_helper_first(builds: Builds) -> None:
    log = builds.helped.log
    assert "emerging sys-devel/distcc into the builder" in log
    helper = f"127.0.0.1:{builds.helper.port}/32"
    assert f"distcc: helper {helper} compiles as the builder does (GCC: " in log
    assert f"DISTCC_HOSTS='{helper} localhost/1' MAKEOPTS='-j67'" in log
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
            SPEC, "--jobs", "1", "--network", "host",
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
