"""``staves index create``: native runners each push their platform's image, a last step
joins them into one signed index, against the loopback registry.

The images stay where the runners pushed them: same digests, so their SBOMs, provenance
and signatures still refer to them. Read back with tools nobody here wrote: skopeo for
the index, Podman to run each platform's image through it, curl and openssl for the
signatures (tests/cosign_check.py).
"""

import json
import os
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.builder_fixtures import Build, Builder, builder, podman, test_images
from tests.conftest import PROJECT, require_tools, run
from tests.cosign_check import (
    MANIFEST_ACCEPT,
    curl,
    fetch_tagged,
    generate_keys,
    openssl_verifies,
    signature_tag,
)
from tests.registry_fixtures import Registry, busybox_rootfs, registry_factory, start_registry
from tests.test_build_e2e import compiled_from_source

__all__ = ["builder", "registry_factory", "test_images"]  # fixtures used by name

PASSWORD = "index pass"
INDEX = "application/vnd.oci.image.index.v1+json"
EXAMPLE = (PROJECT / "examples" / "hello" / "staves.toml").read_text()


def staves(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COSIGN_PASSWORD": PASSWORD}
    return subprocess.run(["staves", *args], capture_output=True, text=True, env=env)


def skopeo_raw(reference: str) -> dict:  # type: ignore[type-arg]
    shown = run("skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{reference}")
    return dict(json.loads(shown.stdout))


def fallback_referrers(host: str, repository: str, digest: str) -> list[str]:
    """The artifact types listed under the referrers fallback tag (this registry has no
    referrers API), with curl."""
    url = f"http://{host}/v2/{repository}/manifests/sha256-{digest[7:]}"
    listed = json.loads(curl(url, f"Accept: {INDEX}"))
    return sorted(m["artifactType"] for m in listed["manifests"])


# -- the error paths and the document, with tiny packed images -------------------------


@pytest.fixture
def packed(registry_factory, tmp_path: Path) -> tuple[Registry, dict[str, str]]:  # type: ignore[no-untyped-def]
    """A busybox root packed for linux/amd64 and linux/arm64 (the bytes do not matter to
    an index) into one repository, tagged by platform: their digests."""
    require_tools("skopeo")
    registry = registry_factory()
    root = busybox_rootfs(tmp_path / "rootfs")
    digests = {}
    for arch in ("amd64", "arm64"):
        ref = f"docker://{registry.host}/app:{arch}"
        done = staves(
            "pack", "--rootfs", str(root), "--platform", f"linux/{arch}", "--tag", "app:1.0",
            "-o", ref, "--tls-verify=false",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        digests[arch] = done.stdout.strip()
    return registry, digests


@pytest.mark.registry
def test_an_index_lists_the_images_by_digest_in_the_order_given(
    packed: tuple[Registry, dict[str, str]], tmp_path: Path
) -> None:
    registry, digests = packed
    digestfile = tmp_path / "digest"
    joined = staves(
        "index", "create", f"docker://{registry.host}/app:1.0",
        f"docker://{registry.host}/app:arm64", f"docker://{registry.host}/app@{digests['amd64']}",
        "--annotation", "org.example.pipeline=42", "--digestfile", str(digestfile),
        "--tls-verify=false",
    )  # fmt: skip
    assert joined.returncode == 0, joined.stderr
    digest = joined.stdout.strip()
    assert digestfile.read_text() == digest
    raw = skopeo_raw(f"{registry.host}/app:1.0")
    assert raw["mediaType"] == INDEX
    assert [(m["digest"], m["platform"]) for m in raw["manifests"]] == [
        (digests["arm64"], {"architecture": "arm64", "os": "linux"}),
        (digests["amd64"], {"architecture": "amd64", "os": "linux"}),
    ]
    # What both images say alike (title, version) and the first one's time; never a
    # per-image build key.
    notes = raw["annotations"]
    assert notes["org.opencontainers.image.title"] == "app"
    assert notes["org.opencontainers.image.version"] == "1.0"
    assert notes["org.example.pipeline"] == "42"
    assert "org.opencontainers.image.created" in notes
    # The images are untouched: still there under their tags, same digests.
    for arch, pushed in digests.items():
        listed = run("skopeo", "inspect", "--raw", "--tls-verify=false",
                     f"docker://{registry.host}/app:{arch}").stdout  # fmt: skip
        assert json.loads(listed)["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
        assert run("skopeo", "inspect", "--tls-verify=false", "--format", "{{.Digest}}",
                   f"docker://{registry.host}/app:{arch}").stdout.strip() == pushed  # fmt: skip
    # Joining the same images again gives the same index; an index as a source gives its
    # images (as podman manifest add --all does).
    again = staves(
        "index", "create", f"docker://{registry.host}/app:copy",
        f"docker://{registry.host}/app:1.0", "--tls-verify=false",
        "--annotation", "org.example.pipeline=42",
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == digest


@pytest.mark.registry
def test_bad_joins_fail_in_one_line_and_push_nothing(
    packed: tuple[Registry, dict[str, str]],
) -> None:
    registry, digests = packed
    host = registry.host
    cases = {
        # Another repository: its digest means nothing in the index's repository.
        (f"docker://{host}/app:2", f"docker://{host}/elsewhere:amd64"): "is not in",
        # Two images for one platform: a runtime could not choose.
        (f"docker://{host}/app:2", f"docker://{host}/app:amd64",
         f"docker://{host}/app@{digests['amd64']}"): "linux/amd64 twice",
        # An index is pushed under a tag, not a digest.
        (f"docker://{host}/app@{digests['amd64']}", f"docker://{host}/app:amd64"): "under a tag",
        ("oci:/tmp/layout:2", f"docker://{host}/app:amd64"): "joined in a registry",
    }  # fmt: skip
    for args, said in cases.items():
        failed = staves("index", "create", *args, "--tls-verify=false")
        assert failed.returncode == 2, (args, failed.stderr)
        lines = failed.stderr.strip().splitlines()
        assert len(lines) == 1 and said in lines[0], (args, failed.stderr)
    # A missing source fails before anything is pushed.
    missing = staves(
        "index", "create", f"docker://{host}/app:2", f"docker://{host}/app:amd64",
        f"docker://{host}/app:riscv64", "--tls-verify=false",
    )  # fmt: skip
    assert missing.returncode == 1
    assert len(missing.stderr.strip().splitlines()) == 1, missing.stderr
    tags = json.loads(curl(f"http://{host}/v2/app/tags/list"))["tags"]
    assert "2" not in tags


# -- two runners' builds, joined and signed ---------------------------------------------

# One image per runner: the baseline and a CPU level are two platforms of an index, built
# natively on this machine (as runners of two architectures build theirs), each from the
# run's seed cache: the baseline's packages are all there, the level compiles its own
# (its flags give it a cache partition of its own), as a runner with its own cache would.
SPEC = """
name = "hello"
version = "1.0"
packages = ["app-misc/hello"]
command = ["/usr/bin/hello"]
"""
PLATFORMS = ("linux/amd64", "linux/amd64/v2")
VARIANTS = {"linux/amd64": None, "linux/amd64/v2": "v2"}


def tag_of(platform: str) -> str:
    return "build-" + platform.removeprefix("linux/").replace("/", "-")


def skopeo_platform(platform: str) -> tuple[str, ...]:
    """skopeo's options choosing ``platform`` in an index."""
    _, arch, *variant = platform.split("/")
    return ("--override-arch", arch, *(("--override-variant", variant[0]) if variant else ()))


@dataclass
class Joined:
    registry: Registry
    builds: dict[str, Build]  # by platform
    digest: str
    public_key: Path

    def image_digest(self, platform: str) -> str:
        return self.builds[platform].proc.stdout.strip()


@pytest.fixture(scope="module")
def joined(builder: Builder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Joined]:
    """The spec built once per platform, side by side as two runners of a CI matrix
    would, each pushed signed into one repository; then joined into one signed index."""
    require_tools("skopeo", "curl", "openssl")
    keys = tmp_path_factory.mktemp("keys")
    private, public = generate_keys(keys, PASSWORD)
    registry = start_registry(tmp_path_factory.mktemp("registry"))
    env = {**os.environ, "COSIGN_PASSWORD": PASSWORD}

    def runner(platform: str) -> Build:
        return builder.build(
            SPEC, "--platform", platform, "--sign-key", str(private),
            "-o", f"docker://{registry.host}/hello:{tag_of(platform)}", "--tls-verify=false",
            env=env,
        )  # fmt: skip

    try:
        with ThreadPoolExecutor(len(PLATFORMS)) as pool:
            builds = dict(zip(PLATFORMS, pool.map(runner, PLATFORMS), strict=True))
        sources = [
            f"docker://{registry.host}/hello@{builds[p].proc.stdout.strip()}" for p in PLATFORMS
        ]
        made = staves(
            "index", "create", f"docker://{registry.host}/hello:1.0", *sources,
            "--sign-key", str(private), "--tls-verify=false",
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        yield Joined(registry, builds, made.stdout.strip(), public)
    finally:
        registry.stop()


@pytest.mark.registry
@pytest.mark.builder
@pytest.mark.podman
def test_the_runners_built_from_the_shared_cache(joined: Joined) -> None:
    """The baseline compiled nothing; the CPU level compiled the image's packages for its
    level, and none of the builder's (they are shared with the baseline)."""
    assert compiled_from_source(joined.builds["linux/amd64"].log) == []
    level = {name.split("::")[0] for name in compiled_from_source(joined.builds[PLATFORMS[1]].log)}
    assert "app-misc/hello-1.0" in level
    assert "dev-util/gentool-1.0" not in level


@pytest.mark.registry
@pytest.mark.builder
@pytest.mark.podman
def test_skopeo_reads_the_joined_index(joined: Joined) -> None:
    raw = skopeo_raw(f"{joined.registry.host}/hello:1.0")
    assert raw["mediaType"] == INDEX
    assert [(m["digest"], m["platform"]) for m in raw["manifests"]] == [
        (joined.image_digest("linux/amd64"), {"architecture": "amd64", "os": "linux"}),
        (
            joined.image_digest("linux/amd64/v2"),
            {"architecture": "amd64", "os": "linux", "variant": "v2"},
        ),
    ]
    # skopeo picks each platform's image through the index: that build's config (the
    # level's names its variant; the tiny binaries may be the same at both levels).
    reference = f"docker://{joined.registry.host}/hello:1.0"
    for platform, build in joined.builds.items():
        shown = run(
            "skopeo", "inspect", "--config", "--tls-verify=false", *skopeo_platform(platform),
            reference,
        )  # fmt: skip
        picked = json.loads(shown.stdout)
        digest = build.manifest()["config"]["digest"]
        config = json.loads((build.layout / "blobs" / "sha256" / digest[7:]).read_text())
        assert picked["architecture"] == "amd64"
        assert picked.get("variant") == VARIANTS[platform]
        assert picked["rootfs"] == config["rootfs"] and picked["created"] == config["created"]


@pytest.mark.registry
@pytest.mark.builder
@pytest.mark.podman
def test_podman_runs_each_platform_through_the_index(joined: Joined) -> None:
    reference = f"{joined.registry.host}/hello:1.0"
    for platform in PLATFORMS:
        pulled = podman("pull", "-q", "--tls-verify=false", "--platform", platform, reference)
        assert pulled.returncode == 0, pulled.stderr
        image_id = pulled.stdout.strip().splitlines()[-1]
        try:
            # The image pulled is that platform's: its config is the build's.
            config = joined.builds[platform].manifest()["config"]["digest"]
            assert f"sha256:{image_id}" == config, platform
            ran = podman("run", "--rm", "--platform", platform, image_id)
            assert ran.returncode == 0, ran.stderr
            assert ran.stdout == "Hello World!\n"
        finally:
            podman("rmi", "-f", image_id)


@pytest.mark.registry
@pytest.mark.builder
@pytest.mark.podman
def test_each_image_keeps_its_sbom_provenance_and_signature(joined: Joined, tmp_path: Path) -> None:
    host = joined.registry.host
    for platform in PLATFORMS:
        digest = joined.image_digest(platform)
        assert fallback_referrers(host, "hello", digest) == [
            "application/spdx+json",
            "application/vnd.dsse.envelope.v1+json",
        ]
        signed = fetch_tagged(host, "hello", signature_tag(digest))
        assert signed.document()["critical"]["image"]["docker-manifest-digest"] == digest
        assert openssl_verifies(joined.public_key, signed.signature, signed.payload, tmp_path)
        # Read through the index, the platform's image gives its packages from its SBOM.
        shown = staves("inspect", f"docker://{host}/hello:1.0", "--platform", platform,
                       "--format", "json", "--tls-verify=false")  # fmt: skip
        assert shown.returncode == 0, shown.stderr
        report = json.loads(shown.stdout)
        assert report["digest"] == digest
        assert report["source"] == "sbom"


@pytest.mark.registry
@pytest.mark.builder
@pytest.mark.podman
def test_the_index_is_signed_as_the_index(joined: Joined, tmp_path: Path) -> None:
    signed = fetch_tagged(joined.registry.host, "hello", signature_tag(joined.digest))
    critical = signed.document()["critical"]
    assert critical["image"]["docker-manifest-digest"] == joined.digest
    assert critical["identity"]["docker-reference"] == f"{joined.registry.host}/hello"
    assert openssl_verifies(joined.public_key, signed.signature, signed.payload, tmp_path)
    listed = curl(
        f"http://{joined.registry.host}/v2/hello/manifests/1.0", f"Accept: {MANIFEST_ACCEPT}"
    )
    assert json.loads(listed)["mediaType"] == INDEX
