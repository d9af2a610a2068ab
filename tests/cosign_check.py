"""Checking cosign signatures with tools nobody here wrote: curl fetches from the registry,
openssl verifies the ECDSA signature over the payload bytes."""

import base64
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MANIFEST_ACCEPT = (
    "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json"
)


def curl(url: str, *headers: str) -> bytes:
    argv = ["curl", "-sSf", *(a for h in headers for a in ("-H", h)), url]
    return subprocess.run(argv, capture_output=True, check=True).stdout


def curl_digest(url: str) -> str:
    """The Docker-Content-Digest the registry answers a manifest GET with."""
    argv = ["curl", "-sSf", "-o", "/dev/null", "-D", "-", "-H", f"Accept: {MANIFEST_ACCEPT}", url]
    head = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    for line in head.splitlines():
        name, _, value = line.partition(":")
        if name.strip().lower() == "docker-content-digest":
            return value.strip()
    raise AssertionError(f"no Docker-Content-Digest in {head!r}")


@dataclass(frozen=True)
class Fetched:
    """A signature manifest's one layer: its descriptor and its payload bytes."""

    manifest: dict[str, Any]
    layer: dict[str, Any]
    payload: bytes

    @property
    def signature(self) -> bytes:
        return base64.b64decode(self.layer["annotations"]["dev.cosignproject.cosign/signature"])

    def document(self) -> dict[str, Any]:
        return dict(json.loads(self.payload))


def fetch_tagged(host: str, repository: str, tag: str) -> Fetched:
    """The manifest tagged ``tag`` and its only layer's blob, with curl."""
    base = f"http://{host}/v2/{repository}"
    manifest = json.loads(curl(f"{base}/manifests/{tag}", f"Accept: {MANIFEST_ACCEPT}"))
    (layer,) = manifest["layers"]
    return Fetched(manifest, layer, curl(f"{base}/blobs/{layer['digest']}"))


def read_tagged(layout: Path, tag: str) -> Fetched:
    """The same from an OCI layout: the entry tagged ``tag`` in its artifacts layout."""
    layout = layout / "artifacts"
    index = json.loads((layout / "index.json").read_text())
    (entry,) = [
        m
        for m in index["manifests"]
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag
    ]
    blobs = layout / "blobs" / "sha256"
    manifest = json.loads((blobs / entry["digest"][7:]).read_bytes())
    (layer,) = manifest["layers"]
    return Fetched(manifest, layer, (blobs / layer["digest"][7:]).read_bytes())


def openssl_verifies(public_key: Path, signature: bytes, payload: bytes, work: Path) -> bool:
    """``openssl dgst -sha256 -verify KEY -signature SIG PAYLOAD``."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "sig.der").write_bytes(signature)
    (work / "payload").write_bytes(payload)
    argv = ["openssl", "dgst", "-sha256", "-verify", str(public_key)]
    argv += ["-signature", str(work / "sig.der"), str(work / "payload")]
    return subprocess.run(argv, capture_output=True).returncode == 0


def openssl_public_key(work: Path) -> Path:
    """A P-256 public key of a key pair openssl made (another signer's)."""
    work.mkdir(parents=True, exist_ok=True)
    private, public = work / "other.pem", work / "other.pub"
    subprocess.run(
        ["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(private)],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        ["openssl", "ec", "-in", str(private), "-pubout", "-out", str(public)],
        check=True,
        capture_output=True,
    )
    return public


def signature_tag(digest: str, suffix: str = "sig") -> str:
    """Written out here from cosign's SIGNATURE_SPEC, not imported: ``sha256-HEX.sig``."""
    return digest.replace(":", "-") + "." + suffix


def generate_keys(directory: Path, password: str) -> tuple[Path, Path]:
    """``staves generate-key-pair`` in ``directory``: (cosign.key, cosign.pub)."""
    subprocess.run(
        ["staves", "generate-key-pair"],
        cwd=directory,
        env={**os.environ, "COSIGN_PASSWORD": password},
        check=True,
        capture_output=True,
    )
    return directory / "cosign.key", directory / "cosign.pub"
