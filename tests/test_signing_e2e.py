"""``--sign-key`` and ``staves sign`` against the loopback registry and OCI layouts.

What Staves writes is checked as cosign's spec lays it out and with tools nobody here
wrote: curl fetches the ``sha256-<hex>.sig`` manifest and its payload from the registry,
openssl verifies the signature with ``cosign.pub``; a tampered payload and another
signer's key are refused.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest

from oci.blob import BytesBlob, canonical_json, describe
from oci.layout import add_to_layout
from oci.media import MediaType
from tests.conftest import require_tools
from tests.cosign_check import (
    curl_digest,
    fetch_tagged,
    generate_keys,
    openssl_public_key,
    openssl_verifies,
    read_tagged,
    signature_tag,
)
from tests.registry_fixtures import Registry, registry_factory

pytestmark = [pytest.mark.registry]
__all__ = ["registry_factory"]  # fixtures used by name

PASSWORD = "correct horse"


def staves(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "COSIGN_PASSWORD": PASSWORD, **(env or {})}
    return subprocess.run(["staves", *args], capture_output=True, text=True, env=environ)


@pytest.fixture
def registry(registry_factory) -> Registry:  # type: ignore[no-untyped-def]
    require_tools("curl", "openssl")
    return registry_factory()


@pytest.fixture
def rootfs(tmp_path: Path) -> Path:
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "motd").write_text("signed\n")
    return root


def test_pack_signs_in_the_registry_and_the_layout_and_openssl_verifies(
    registry: Registry, rootfs: Path, tmp_path: Path
) -> None:
    private, public = generate_keys(tmp_path, PASSWORD)
    layout = tmp_path / "layout"
    packed = staves(
        "pack", "--rootfs", str(rootfs), "--tag", "signed:1", "-o", f"docker://{registry.host}/signed:1",
        "-o", f"oci:{layout}:1", "--sign-key", str(private),
    )  # fmt: skip
    assert packed.returncode == 0, packed.stderr
    digest = packed.stdout.strip()
    assert curl_digest(f"http://{registry.host}/v2/signed/manifests/1") == digest

    pushed = fetch_tagged(registry.host, "signed", signature_tag(digest))
    assert pushed.manifest["mediaType"] == MediaType.OCI_MANIFEST
    assert pushed.layer["mediaType"] == "application/vnd.dev.cosign.simplesigning.v1+json"
    critical = pushed.document()["critical"]
    assert critical["image"]["docker-manifest-digest"] == digest
    assert critical["identity"]["docker-reference"] == f"{registry.host}/signed"
    assert critical["type"] == "cosign container image signature"
    assert openssl_verifies(public, pushed.signature, pushed.payload, tmp_path / "v")

    tampered = pushed.payload.replace(digest[-8:].encode(), b"00000000")
    assert tampered != pushed.payload
    assert not openssl_verifies(public, pushed.signature, tampered, tmp_path / "v")
    stranger = openssl_public_key(tmp_path / "other")
    assert not openssl_verifies(stranger, pushed.signature, pushed.payload, tmp_path / "v")

    stored = read_tagged(layout, signature_tag(digest))
    assert stored.document()["critical"]["image"]["docker-manifest-digest"] == digest
    assert openssl_verifies(public, stored.signature, stored.payload, tmp_path / "v")
    # The layout lists the image alone, as scanners want it; the signature is in its
    # artifacts layout, marked as cosign save marks it.
    (image,) = json.loads((layout / "index.json").read_text())["manifests"]
    assert image["digest"] == digest
    index = json.loads((layout / "artifacts" / "index.json").read_text())
    kinds = [m.get("annotations", {}).get("kind") for m in index["manifests"]]
    assert kinds.count("dev.cosignproject.cosign/sigs") == 1
    # Readers find the one image in the layout without a tag.
    inspected = staves("inspect", f"oci:{layout}", "--format", "json")
    assert inspected.returncode == 0, inspected.stderr
    assert json.loads(inspected.stdout)["digest"] == digest


def test_staves_sign_signs_an_image_where_it_is(
    registry: Registry, rootfs: Path, tmp_path: Path
) -> None:
    private, public = generate_keys(tmp_path, PASSWORD)
    ref = f"docker://{registry.host}/later:2"
    packed = staves("pack", "--rootfs", str(rootfs), "-o", ref)
    assert packed.returncode == 0, packed.stderr
    digest = packed.stdout.strip()
    with pytest.raises(subprocess.CalledProcessError):
        fetch_tagged(registry.host, "later", signature_tag(digest))  # not signed yet

    signed = staves("sign", ref, "--key", str(private))
    assert signed.returncode == 0, signed.stderr
    assert signed.stdout.strip() == digest
    found = fetch_tagged(registry.host, "later", signature_tag(digest))
    assert found.document()["critical"]["image"]["docker-manifest-digest"] == digest
    assert openssl_verifies(public, found.signature, found.payload, tmp_path / "v")


def test_an_index_is_signed_as_the_index(rootfs: Path, tmp_path: Path) -> None:
    require_tools("openssl")
    private, public = generate_keys(tmp_path, PASSWORD)
    layout = tmp_path / "layout"
    packed = staves("pack", "--rootfs", str(rootfs), "-o", f"oci:{layout}:one")
    assert packed.returncode == 0, packed.stderr
    (entry,) = json.loads((layout / "index.json").read_text())["manifests"]
    index = canonical_json(
        {"schemaVersion": 2, "mediaType": MediaType.OCI_INDEX, "manifests": [entry]}
    )
    blob = BytesBlob(index, MediaType.OCI_INDEX)
    add_to_layout(
        layout, [blob], describe(blob, {"org.opencontainers.image.ref.name": "all"}), "all"
    )

    signed = staves("sign", f"oci:{layout}:all", "--key", str(private))
    assert signed.returncode == 0, signed.stderr
    assert signed.stdout.strip() == blob.digest
    stored = read_tagged(layout, signature_tag(blob.digest))
    assert stored.document()["critical"]["image"]["docker-manifest-digest"] == blob.digest
    assert openssl_verifies(public, stored.signature, stored.payload, tmp_path / "v")


def test_key_mistakes_are_one_line_before_anything_is_written(rootfs: Path, tmp_path: Path) -> None:
    private, _ = generate_keys(tmp_path, PASSWORD)
    layout = tmp_path / "layout"
    wrong = staves(
        "pack", "--rootfs", str(rootfs), "-o", f"oci:{layout}", "--sign-key", str(private),
        env={"COSIGN_PASSWORD": "not it"},
    )  # fmt: skip
    assert wrong.returncode == 2
    assert wrong.stderr == (
        f"staves: error: --sign-key: {private}: wrong passphrase (the key does not decrypt)\n"
    )
    assert not layout.exists()
    nowhere = staves(
        "pack", "--rootfs", str(rootfs), "-o", f"docker-archive:{tmp_path / 'a.tar'}",
        "--sign-key", str(private),
    )  # fmt: skip
    assert nowhere.returncode == 2
    assert nowhere.stderr.startswith("staves: error: --sign-key: no destination keeps signatures")
    assert len(nowhere.stderr.splitlines()) == 1


def test_sign_refuses_a_source_that_keeps_no_signatures(tmp_path: Path) -> None:
    private, _ = generate_keys(tmp_path, PASSWORD)
    refused = staves("sign", f"docker-archive:{tmp_path / 'a.tar'}", "--key", str(private))
    assert refused.returncode == 2
    assert refused.stderr == (
        f"staves: error: SOURCE: docker-archive:{tmp_path / 'a.tar'}: signatures are kept next "
        "to the image in a registry or an OCI layout; give docker://REF or oci:DIR[:TAG]\n"
    )
