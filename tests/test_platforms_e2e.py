"""Multi-platform builds end to end: one index for linux/amd64 and linux/arm64 (the arm64
builder emulated by qemu-user), CPU levels as amd64 variants, a platform built on its own
Podman service, and builders that lack the platform asked for.

Emulated builds are slow: the arm64 assertions share one cold build and one warm one
(module fixtures), and the CPU-level assertions one native build of two platforms.
"""

import hashlib
import json
import subprocess
import tarfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.builder_fixtures import (
    BUILDER,
    TEST_IMAGES,
    Build,
    Builder,
    builder,
    podman,
    test_images,
)
from tests.conftest import PROJECT, require_tools, run
from tests.registry_fixtures import Registry, start_registry

pytestmark = [pytest.mark.builder, pytest.mark.podman]
__all__ = ["builder", "test_images"]  # fixtures used by name

EXAMPLE = (PROJECT / "examples" / "hello" / "staves.toml").read_text()
INDEX = "application/vnd.oci.image.index.v1+json"
EM_X86_64, EM_AARCH64 = 62, 183
QEMU_AARCH64 = Path("/proc/sys/fs/binfmt_misc/qemu-aarch64")


def index_of(build: Build) -> dict[str, Any]:
    """The index the build tagged ``t`` in its layout."""
    top = json.loads((build.layout / "index.json").read_text())
    (entry,) = [m for m in top["manifests"] if m["mediaType"] == INDEX]
    return blob_json(build.layout, entry["digest"])


def blob_json(layout: Path, digest: str) -> Any:
    return json.loads((layout / "blobs" / "sha256" / digest.removeprefix("sha256:")).read_text())


def image_file(layout: Path, manifest: dict[str, Any], path: str) -> bytes:
    for layer in reversed(manifest["layers"]):
        with tarfile.open(layout / "blobs" / "sha256" / layer["digest"][7:]) as tar:
            try:
                member = tar.extractfile(path)
            except KeyError:
                continue
            if member is not None:
                return member.read()
    raise KeyError(path)


def by_platform(build: Build) -> dict[str, dict[str, Any]]:
    """Each platform's image manifest in the build's index, by os/arch[/variant]."""
    found = {}
    for entry in index_of(build)["manifests"]:
        plat = entry["platform"]
        name = "/".join(p for p in (plat["os"], plat["architecture"], plat.get("variant")) if p)
        found[name] = blob_json(build.layout, entry["digest"])
    return found


def e_machine(elf: bytes) -> int:
    """The ELF header's machine field (little-endian files: both platforms here)."""
    assert elf[:4] == b"\x7fELF"
    return int.from_bytes(elf[18:20], "little")


def partitions(log: str) -> dict[str, str]:
    """The image's binary-package directory each platform's builder used, from its log."""
    found = {}
    for line in log.splitlines():
        if "binary packages: the builder's in" in line and line.startswith("["):
            found[line[1 : line.index("]")]] = line.rsplit(" ", 1)[-1]
    return found


# -- linux/amd64 and linux/arm64 -------------------------------------------------------


@dataclass
class ArmBuilds:
    cold: Build
    warm: Build
    registry: Registry
    reference: str
    cold_seconds: float


def require_arm64() -> None:
    if not QEMU_AARCH64.exists():
        pytest.skip("no qemu-aarch64 binfmt handler (scripts/setup-binfmt registers one)")
    raw = podman("manifest", "inspect", BUILDER)
    arches = {
        m["platform"]["architecture"] for m in json.loads(raw.stdout or "{}").get("manifests", [])
    }
    if "arm64" not in arches:
        pytest.skip(f"{BUILDER} has no arm64 builder (scripts/build-test-images makes it)")


@pytest.fixture(scope="module")
def arm(builder: Builder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ArmBuilds]:
    """The bundled example for linux/amd64 and linux/arm64, cold, into a layout and the
    loopback registry; then the same again from the warm cache."""
    require_arm64()
    require_tools("skopeo")
    registry = start_registry(tmp_path_factory.mktemp("registry"))
    reference = f"{registry.host}/staves-test/hello-multi:1.0"
    args = ("--platform", "linux/amd64,linux/arm64", "--tls-verify=false")
    try:
        start = time.monotonic()
        cold = builder.build(EXAMPLE, *args, "-o", f"docker://{reference}")
        seconds = time.monotonic() - start
        warm = builder.build(EXAMPLE, *args)
        yield ArmBuilds(cold, warm, registry, reference, seconds)
    finally:
        registry.stop()


def test_one_index_names_both_platforms_in_the_layout_and_the_registry(arm: ArmBuilds) -> None:
    digest = arm.cold.proc.stdout.strip()
    pushed = run("skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{arm.reference}")
    raw = json.loads(pushed.stdout)
    assert raw["mediaType"] == INDEX
    assert [m["platform"] for m in raw["manifests"]] == [
        {"architecture": "amd64", "os": "linux"},
        {"architecture": "arm64", "os": "linux"},
    ]
    assert raw == index_of(arm.cold)
    local = run("skopeo", "inspect", "--raw", f"oci:{arm.cold.layout}:t").stdout.encode()
    assert f"sha256:{hashlib.sha256(local).hexdigest()}" == digest
    print(f"cold build of linux/amd64 + emulated linux/arm64: {arm.cold_seconds:.0f} s")


def test_the_arm64_image_holds_arm64_binaries_and_runs_emulated(arm: ArmBuilds) -> None:
    images = by_platform(arm.cold)
    layout = arm.cold.layout
    assert e_machine(image_file(layout, images["linux/arm64"], "usr/bin/hello")) == EM_AARCH64
    assert e_machine(image_file(layout, images["linux/amd64"], "usr/bin/hello")) == EM_X86_64
    arm_config = blob_json(layout, images["linux/arm64"]["config"]["digest"])
    assert (arm_config["os"], arm_config["architecture"]) == ("linux", "arm64")
    # The AArch64 loader where the ABI puts it, through glibc's link into lib64.
    files = {m.name for layer in images["linux/arm64"]["layers"] for m in _members(layout, layer)}
    assert "usr/lib64/ld-linux-aarch64.so.1" in files
    pulled = podman("pull", "--tls-verify=false", "--platform", "linux/arm64", arm.reference)
    assert pulled.returncode == 0, pulled.stderr
    image_id = pulled.stdout.strip().splitlines()[-1]
    try:
        ran = podman("run", "--rm", "--platform", "linux/arm64", image_id)
        assert ran.returncode == 0, ran.stderr
        assert ran.stdout == "HELLO WORLD!\n"
        arch = podman("image", "inspect", "--format", "{{.Architecture}}", image_id)
        assert arch.stdout.strip() == "arm64"
    finally:
        podman("rmi", "-f", image_id)


def _members(layout: Path, layer: dict[str, Any]) -> list[tarfile.TarInfo]:
    with tarfile.open(layout / "blobs" / "sha256" / layer["digest"][7:]) as tar:
        return tar.getmembers()


def test_each_platform_keeps_its_binary_packages_apart(arm: ArmBuilds) -> None:
    dirs = partitions(arm.cold.log)
    assert set(dirs) == {"linux/amd64", "linux/arm64"}
    assert "/x86_64-pc-linux-gnu.default_linux_amd64_23.0." in dirs["linux/amd64"]
    assert "/aarch64-unknown-linux-gnu.default_linux_arm64_23.0." in dirs["linux/arm64"]


def test_the_index_is_reproducible_and_the_warm_build_compiles_nothing(arm: ArmBuilds) -> None:
    assert arm.warm.proc.stdout.strip() == arm.cold.proc.stdout.strip()
    assert ">>> Emerging (" not in arm.warm.log
    assert "[linux/arm64] >>> staves: the kept root is up to date" in arm.warm.log


def test_containerd_pulls_the_index_for_each_platform(
    arm: ArmBuilds, tmp_path_factory: pytest.TempPathFactory
) -> None:
    require_tools("containerd", "ctr")
    with containerd(tmp_path_factory.mktemp("ctd")) as ctr:
        for platform in ("linux/arm64", "linux/amd64"):
            pulled = ctr("images", "pull", "--plain-http", "--platform", platform, arm.reference)
            assert pulled.returncode == 0, pulled.stderr
        listed = ctr("images", "ls")
        assert "linux/amd64,linux/arm64" in listed.stdout, listed.stdout


@dataclass
class _Containerd:
    address: str

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["ctr", "--address", self.address, *args], capture_output=True, text=True, check=False
        )


@contextmanager
def containerd(directory: Path) -> Iterator[_Containerd]:
    """A private containerd (its own root, state and socket; no CRI) for one test."""
    address = str(directory / "containerd.sock")
    config = directory / "config.toml"
    config.write_text(
        "version = 2\n"
        f'root = "{directory / "root"}"\nstate = "{directory / "state"}"\n'
        'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
        f'[grpc]\n  address = "{address}"\n'
    )
    process = subprocess.Popen(
        ["containerd", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = _Containerd(address)
    try:
        for _ in range(100):
            if client("version").returncode == 0:
                break
            time.sleep(0.1)
        else:
            pytest.fail("containerd did not start")
        yield client
    finally:
        process.terminate()
        process.wait(10)
        subprocess.run(["umount", "-R", str(directory / "root")], capture_output=True, check=False)


# -- CPU levels, and a platform on its own service ------------------------------------


@dataclass
class Service:
    url: str
    log: Path


@pytest.fixture(scope="module")
def second_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """Another Podman API service, on a socket of its own, logging the requests it gets."""
    require_tools("podman")
    directory = tmp_path_factory.mktemp("service")
    url = f"unix://{directory / 'podman.sock'}"
    log = directory / "service.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            ["podman", "system", "service", "--time", "0", "--log-level", "info", url],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        for _ in range(100):
            if (directory / "podman.sock").exists():
                break
            time.sleep(0.1)
        yield Service(url, log)
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="module")
def levels(builder: Builder, second_service: Service) -> Build:
    """The example for linux/amd64 and linux/amd64/v3, the v3 one on the second service,
    with the full package database so that the recorded CFLAGS are in the image."""
    return builder.build(
        'vdb = "full"\n' + EXAMPLE,
        "--platform",
        "linux/amd64,linux/amd64/v3",
        "--url",
        f"linux/amd64/v3={second_service.url}",
    )


def test_a_cpu_level_is_an_index_entry_compiled_for_it(levels: Build) -> None:
    images = by_platform(levels)
    assert list(images) == ["linux/amd64", "linux/amd64/v3"]
    layout = levels.layout
    cflags = {
        name: image_file(layout, manifest, "var/db/pkg/app-misc/hello-1.0/CFLAGS").decode()
        for name, manifest in images.items()
    }
    assert "-march=x86-64-v3" in cflags["linux/amd64/v3"]
    assert "-march" not in cflags["linux/amd64"]
    v3_config = blob_json(layout, images["linux/amd64/v3"]["config"]["digest"])
    assert v3_config.get("variant") == "v3"
    assert v3_config["architecture"] == "amd64"
    dirs = partitions(levels.log)
    assert dirs["linux/amd64"] != dirs["linux/amd64/v3"]


def test_a_platform_mapped_to_another_service_builds_there(
    levels: Build, second_service: Service
) -> None:
    requests = second_service.log.read_text()
    assert requests.count("/libpod/containers/create") == 1
    assert "[linux/amd64/v3] >>> staves: packages into /tmp/rootfs" in levels.log


# -- builders that lack the platform ---------------------------------------------------


def test_a_platform_the_builder_image_lacks_is_one_line(builder: Builder) -> None:
    build = builder.build(EXAMPLE, "--platform", "linux/s390x", "--pull", "never", expect_ok=False)
    assert build.proc.returncode == 1
    (line,) = [line for line in build.log.splitlines() if line.startswith("staves: error:")]
    assert f"builder image {BUILDER} has no image for linux/s390x and --pull is never" in line
    assert "it offers linux/amd64" in line


def test_a_one_platform_builder_never_labels_its_binaries_another_platform(
    builder: Builder,
) -> None:
    amd64_only = f"{TEST_IMAGES}/builder:amd64"
    build = builder.build(
        EXAMPLE,
        "--builder",
        amd64_only,
        "--platform",
        "linux/arm64",
        "--pull",
        "never",
        expect_ok=False,
    )
    assert build.proc.returncode == 1
    assert f"builder image {amd64_only} has no image for linux/arm64" in build.log
    assert "it offers linux/amd64" in build.log
    assert not (build.layout / "index.json").exists()
