"""Cosign key files, simple signing payloads, signature manifests and DSSE envelopes.

Keys cosign wrote open with the passphrase cosign's tests use; what Staves signs verifies
with openssl and with securesystemslib (the DSSE reference implementation), not with code
of ours.
"""

import base64
import hashlib
import json
import subprocess
from pathlib import Path

import nacl.secret
import pytest
from cryptography.hazmat.primitives import serialization
from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import VerificationError
from securesystemslib.signer import SSlibKey

from oci.descriptor import Descriptor
from oci.media import MediaType
from oci.sign.cosign import (
    DSSE_ENVELOPE,
    SIGNATURE_ANNOTATION,
    SIMPLE_SIGNING,
    attestation_manifest,
    signature_manifest,
    signature_tag,
    simple_signing_payload,
)
from oci.sign.dsse import IN_TOTO_PAYLOAD, envelope, envelope_blob, pae
from oci.sign.keys import (
    OLD_PEM_TYPE,
    PEM_TYPE,
    KeyFileError,
    generate_key_pair,
    load_public_key,
    load_signing_key,
)
from tests.oci.cosign_keys import COSIGN_KEY, PASSPHRASE, SIGSTORE_KEY

SUBJECT = Descriptor(MediaType.OCI_MANIFEST, "sha256:" + "ab" * 32, 1234)


def openssl_verifies(public_pem: bytes, signature: bytes, data: bytes, tmp: Path) -> bool:
    (tmp / "key.pub").write_bytes(public_pem)
    (tmp / "sig.der").write_bytes(signature)
    (tmp / "data").write_bytes(data)
    argv = ["openssl", "dgst", "-sha256", "-verify", str(tmp / "key.pub")]
    argv += ["-signature", str(tmp / "sig.der"), str(tmp / "data")]
    return subprocess.run(argv, capture_output=True).returncode == 0


@pytest.mark.parametrize("text", [SIGSTORE_KEY, COSIGN_KEY], ids=["sigstore-pem", "cosign-pem"])
def test_keys_cosign_wrote_open_and_sign_what_openssl_verifies(text: bytes, tmp_path: Path) -> None:
    key = load_signing_key(text, PASSPHRASE)
    assert openssl_verifies(key.public_pem(), key.sign(b"payload"), b"payload", tmp_path)
    assert not openssl_verifies(key.public_pem(), key.sign(b"payload"), b"payloaD", tmp_path)


def test_a_wrong_passphrase_is_one_line_naming_the_file() -> None:
    with pytest.raises(KeyFileError) as caught:
        load_signing_key(SIGSTORE_KEY, b"wrong", "cosign.key")
    assert str(caught.value) == "cosign.key: wrong passphrase (the key does not decrypt)"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (
            b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
            "not a cosign private key",
        ),
        (f"-----BEGIN {PEM_TYPE}-----\n!!\n-----END {PEM_TYPE}-----".encode(), "not base64"),
        (
            f"-----BEGIN {PEM_TYPE}-----\n{base64.b64encode(b'[1]').decode()}\n"
            f"-----END {PEM_TYPE}-----".encode(),
            "not a readable cosign key",
        ),
    ],
)
def test_what_is_no_cosign_key_is_refused_saying_why(text: bytes, why: str) -> None:
    with pytest.raises(KeyFileError, match=why):
        load_signing_key(text, b"", "k")


def test_a_generated_key_pair_is_the_format_cosign_reads(tmp_path: Path) -> None:
    private_pem, public_pem = generate_key_pair(b"s3cret")
    lines = private_pem.decode().strip().splitlines()
    assert lines[0] == f"-----BEGIN {PEM_TYPE}-----" and lines[-1] == f"-----END {PEM_TYPE}-----"
    assert OLD_PEM_TYPE not in private_pem.decode()
    document = json.loads(base64.b64decode("".join(lines[1:-1])))
    assert document["kdf"]["name"] == "scrypt"
    assert document["kdf"]["params"] == {"N": 32768, "r": 8, "p": 1}
    assert document["cipher"]["name"] == "nacl/secretbox"
    # Opened by hand, as go-securesystemslib does: scrypt → secretbox → PKCS#8 DER.
    salt = base64.b64decode(document["kdf"]["salt"])
    box_key = hashlib.scrypt(b"s3cret", salt=salt, n=32768, r=8, p=1, maxmem=1 << 26, dklen=32)
    der = nacl.secret.SecretBox(box_key).decrypt(
        base64.b64decode(document["ciphertext"]), base64.b64decode(document["cipher"]["nonce"])
    )
    (tmp_path / "key.der").write_bytes(der)
    derived = subprocess.run(
        ["openssl", "pkey", "-inform", "DER", "-in", str(tmp_path / "key.der"), "-pubout"],
        capture_output=True,
        check=True,
    ).stdout
    assert derived == public_pem
    assert load_public_key(public_pem).curve.name == "secp256r1"
    key = load_signing_key(private_pem, b"s3cret")
    assert openssl_verifies(public_pem, key.sign(b"x"), b"x", tmp_path)


def test_the_simple_signing_payload_is_cosigns() -> None:
    payload = simple_signing_payload("registry.example/app", SUBJECT.digest)
    assert json.loads(payload) == {
        "critical": {
            "identity": {"docker-reference": "registry.example/app"},
            "image": {"docker-manifest-digest": SUBJECT.digest},
            "type": "cosign container image signature",
        },
        "optional": None,
    }


def test_the_signature_manifest_carries_payload_and_signature(tmp_path: Path) -> None:
    key = load_signing_key(SIGSTORE_KEY, PASSPHRASE)
    tagged = signature_manifest(SUBJECT, "registry.example/app", key)
    assert tagged.tag == "sha256-" + "ab" * 32 + ".sig" == signature_tag(SUBJECT.digest)
    manifest = json.loads(tagged.manifest.data)
    assert manifest["mediaType"] == MediaType.OCI_MANIFEST
    assert manifest["config"]["mediaType"] == MediaType.OCI_CONFIG
    (layer,) = manifest["layers"]
    assert layer["mediaType"] == SIMPLE_SIGNING
    (payload,) = tagged.layers
    assert layer["digest"] == payload.digest
    signature = base64.b64decode(layer["annotations"][SIGNATURE_ANNOTATION])
    assert openssl_verifies(key.public_pem(), signature, payload.data, tmp_path)
    again = signature_manifest(SUBJECT, "registry.example/app", key)
    assert again.manifest.digest == tagged.manifest.digest  # RFC 6979: reproducible


def test_pae_is_the_dsse_specs_example() -> None:
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


def verifier_of(public_pem: bytes) -> SSlibKey:
    """securesystemslib's key for ``public_pem``, under the empty key id cosign writes."""
    found = SSlibKey.from_crypto(serialization.load_pem_public_key(public_pem))  # type: ignore[arg-type]
    return SSlibKey("", found.keytype, found.scheme, found.keyval)


def test_a_signed_envelope_verifies_with_securesystemslib_and_only_with_its_key() -> None:
    key = load_signing_key(SIGSTORE_KEY, PASSPHRASE)
    text = json.dumps(envelope(b'{"a": 1}', IN_TOTO_PAYLOAD, key))
    Envelope.from_dict(json.loads(text)).verify([verifier_of(key.public_pem())], 1)
    _, stranger = generate_key_pair(b"other")
    with pytest.raises(VerificationError):
        Envelope.from_dict(json.loads(text)).verify([verifier_of(stranger)], 1)
    tampered = {**json.loads(text), "payload": base64.b64encode(b'{"a": 2}').decode()}
    with pytest.raises(VerificationError):
        Envelope.from_dict(tampered).verify([verifier_of(key.public_pem())], 1)


def test_the_attestation_manifest_is_cosigns_att_shape() -> None:
    assert envelope(b"{}", IN_TOTO_PAYLOAD, None)["signatures"] == []
    blob = envelope_blob(b"{}", IN_TOTO_PAYLOAD, None)
    tagged = attestation_manifest(SUBJECT, blob, "https://slsa.dev/provenance/v1")
    assert tagged.tag.endswith(".att")
    (layer,) = json.loads(tagged.manifest.data)["layers"]
    assert layer["mediaType"] == DSSE_ENVELOPE
    assert layer["annotations"] == {
        SIGNATURE_ANNOTATION: "",
        "predicateType": "https://slsa.dev/provenance/v1",
    }
