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
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.builder_fixtures import TEST_IMAGES, Build, Builder, builder, podman, test_images
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
from tests.test_platforms_e2e import QEMU_AARCH64

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


# -- two native runners' builds, joined and signed --------------------------------------


@dataclass
class Joined:
    registry: Registry
    builds: dict[str, Build]  # by platform
    digest: str
    public_key: Path


@pytest.fixture(scope="module")
def joined(builder: Builder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Joined]:
    """The bundled example built once per platform, as two runners of a CI matrix would,
    each pushed signed into one repository; then joined into one signed index."""
    if not QEMU_AARCH64.exists():
        pytest.skip("no qemu-aarch64 binfmt handler (scripts/setup-binfmt registers one)")
    # Each runner names its own builder, as a native one would pull the stage3 for itself.
    builders = {arch: f"{TEST_IMAGES}/builder:{arch}" for arch in ("amd64", "arm64")}
    for image in builders.values():
        if podman("image", "exists", image).returncode != 0:
            pytest.skip(f"{image} is missing (scripts/build-test-images makes it)")
    require_tools("skopeo", "curl", "openssl")
    keys = tmp_path_factory.mktemp("keys")
    private, public = generate_keys(keys, PASSWORD)
    registry = start_registry(tmp_path_factory.mktemp("registry"))
    env = {**os.environ, "COSIGN_PASSWORD": PASSWORD}
    try:
        builds = {}
        for arch in ("amd64", "arm64"):
            builds[arch] = builder.build(
                EXAMPLE, "--platform", f"linux/{arch}", "--builder", builders[arch],
                "--sign-key", str(private),
                "-o", f"docker://{registry.host}/hello:build-{arch}", "--tls-verify=false",
                env=env,
            )  # fmt: skip
        sources = [
            f"docker://{registry.host}/hello@{builds[arch].proc.stdout.strip()}"
            for arch in ("amd64", "arm64")
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
def test_skopeo_reads_the_joined_index(joined: Joined) -> None:
    raw = skopeo_raw(f"{joined.registry.host}/hello:1.0")
    assert raw["mediaType"] == INDEX
    assert [(m["digest"], m["platform"]["architecture"]) for m in raw["manifests"]] == [
        (joined.builds["amd64"].proc.stdout.strip(), "amd64"),
        (joined.builds["arm64"].proc.stdout.strip(), "arm64"),
    ]
    # skopeo picks each platform's image through the index: that build's layers.
    reference = f"docker://{joined.registry.host}/hello:1.0"
    for arch, build in joined.builds.items():
        shown = run("skopeo", "inspect", "--tls-verify=false", "--override-arch", arch, reference)
        picked = json.loads(shown.stdout)
        assert picked["Architecture"] == arch
        assert picked["Layers"] == [layer["digest"] for layer in build.manifest()["layers"]]


@pytest.mark.registry
@pytest.mark.builder
@pytest.mark.podman
def test_podman_runs_each_platform_through_the_index(joined: Joined) -> None:
    reference = f"{joined.registry.host}/hello:1.0"
    for arch in ("amd64", "arm64"):
        pulled = podman(
            "pull", "-q", "--tls-verify=false", "--platform", f"linux/{arch}", reference
        )
        assert pulled.returncode == 0, pulled.stderr
        image_id = pulled.stdout.strip().splitlines()[-1]
        try:
            ran = podman("run", "--rm", "--platform", f"linux/{arch}", image_id)
            assert ran.returncode == 0, ran.stderr
            assert ran.stdout == "HELLO WORLD!\n"
            seen = podman("image", "inspect", "--format", "{{.Architecture}}", image_id)
            assert seen.stdout.strip() == arch
        finally:
            podman("rmi", "-f", image_id)


@pytest.mark.registry
@pytest.mark.builder
@pytest.mark.podman
def test_each_image_keeps_its_sbom_provenance_and_signature(joined: Joined, tmp_path: Path) -> None:
    host = joined.registry.host
    for arch, build in joined.builds.items():
        digest = build.proc.stdout.strip()
        assert fallback_referrers(host, "hello", digest) == [
            "application/spdx+json",
            "application/vnd.dsse.envelope.v1+json",
        ]
        signed = fetch_tagged(host, "hello", signature_tag(digest))
        assert signed.document()["critical"]["image"]["docker-manifest-digest"] == digest
        assert openssl_verifies(joined.public_key, signed.signature, signed.payload, tmp_path)
        # Read through the index, the platform's image gives its packages from its SBOM.
        shown = staves("inspect", f"docker://{host}/hello:1.0", "--platform", f"linux/{arch}",
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
