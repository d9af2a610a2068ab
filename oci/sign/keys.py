"""Key pairs in the files ``cosign generate-key-pair`` writes.

``cosign.key`` is a PEM block ``ENCRYPTED SIGSTORE PRIVATE KEY`` (older cosign:
``ENCRYPTED COSIGN PRIVATE KEY``) whose body is a JSON document, the encrypted format of
go-securesystemslib::

    {"kdf": {"name": "scrypt", "params": {"N": 32768, "r": 8, "p": 1}, "salt": B64},
     "cipher": {"name": "nacl/secretbox", "nonce": B64}, "ciphertext": B64}

The secretbox key is scrypt(passphrase, salt) (32 bytes); the plaintext is the private
key as PKCS#8 DER. ``cosign.pub`` is the public key as a PEM ``PUBLIC KEY`` block.
Only ECDSA P-256 keys are used for signing, as cosign generates them.
"""

import base64
import binascii
import hashlib
import json
import os
from dataclasses import dataclass
from typing import Any

import nacl.exceptions
import nacl.secret
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from oci.document import BadDocument, Count, Fields, Text, check, parse_json
from oci.errors import OciError

PEM_TYPE = "ENCRYPTED SIGSTORE PRIVATE KEY"
OLD_PEM_TYPE = "ENCRYPTED COSIGN PRIVATE KEY"
PASSWORD_VARIABLE = "COSIGN_PASSWORD"  # where cosign reads the passphrase from, if set
# go-securesystemslib's defaults, which cosign uses.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 32768, 8, 1
_SALT_BYTES = 32
_MAX_SCRYPT_N = 1 << 20  # refuse key files that would need gigabytes to open
MAX_KEY_FILE = 64 << 10  # a cosign key file is under 1 KiB
_SCRYPT = Fields({"N": Count(), "r": Count(), "p": Count()}, required=("N", "r", "p"))
_KEY_FILE = Fields(
    {
        "kdf": Fields(
            {"name": Text(), "params": _SCRYPT, "salt": Text()},
            required=("name", "params", "salt"),
        ),
        "cipher": Fields({"name": Text(), "nonce": Text()}, required=("name", "nonce")),
        "ciphertext": Text(),
    },
    required=("kdf", "cipher", "ciphertext"),
    name="a cosign key document",
)


class KeyFileError(OciError):
    """A key file that cannot be read or opened; the message says which and why."""


@dataclass(frozen=True)
class SigningKey:
    """An opened ECDSA P-256 private key: signs bytes as cosign does (SHA-256, ASN.1 DER)."""

    private: ec.EllipticCurvePrivateKey

    def sign(self, data: bytes) -> bytes:
        # RFC 6979 signatures: the same key and payload give the same signature, so a
        # signed build stays reproducible down to its signature manifest.
        return self.private.sign(data, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))

    def public_pem(self) -> bytes:
        return public_pem(self.private.public_key())


def public_pem(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _pem_body(text: bytes, where: str) -> bytes:
    lines = text.decode("ascii", "replace").strip().splitlines()
    begin = lines[0] if lines else ""
    kinds = [kind for kind in (PEM_TYPE, OLD_PEM_TYPE) if begin == f"-----BEGIN {kind}-----"]
    if not kinds or lines[-1] != f"-----END {kinds[0]}-----":
        raise KeyFileError(
            f"{where}: not a cosign private key (expected a PEM block "
            f"'{PEM_TYPE}' or '{OLD_PEM_TYPE}', as cosign generate-key-pair writes)"
        )
    try:
        return base64.b64decode("".join(lines[1:-1]), validate=True)
    except binascii.Error as exc:
        raise KeyFileError(f"{where}: the PEM block is not base64: {exc}") from None


def _b64(value: str, what: str, where: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:  # binascii.Error, and non-ASCII text
        raise KeyFileError(f"{where}: {what} is not base64") from None


def _secretbox_key(document: dict[str, Any], passphrase: bytes, where: str) -> bytes:
    kdf = document["kdf"]
    if kdf["name"] != "scrypt":
        raise KeyFileError(f"{where}: key derivation {kdf['name']!r} is not scrypt")
    n, r, p = (kdf["params"][k] for k in ("N", "r", "p"))
    if not (1 < n <= _MAX_SCRYPT_N and n & (n - 1) == 0 and 0 < r <= 64 and 0 < p <= 16):
        raise KeyFileError(f"{where}: scrypt parameters N={n} r={r} p={p} are out of range")
    salt = _b64(kdf["salt"], "kdf.salt", where)
    return hashlib.scrypt(passphrase, salt=salt, n=n, r=r, p=p, maxmem=256 * n * r, dklen=32)


def _decrypt(document: dict[str, Any], passphrase: bytes, where: str) -> bytes:
    if document["cipher"]["name"] != "nacl/secretbox":
        raise KeyFileError(f"{where}: the cipher is not nacl/secretbox")
    nonce = _b64(document["cipher"]["nonce"], "cipher.nonce", where)
    if len(nonce) != nacl.secret.SecretBox.NONCE_SIZE:
        raise KeyFileError(
            f"{where}: cipher.nonce has {len(nonce)} bytes, not {nacl.secret.SecretBox.NONCE_SIZE}"
        )
    sealed = _b64(document["ciphertext"], "ciphertext", where)
    key = _secretbox_key(document, passphrase, where)
    try:
        return nacl.secret.SecretBox(key).decrypt(sealed, nonce)
    except nacl.exceptions.CryptoError:
        raise KeyFileError(f"{where}: wrong passphrase (the key does not decrypt)") from None


def read_key_file(path: str) -> bytes:
    """A key file's bytes, refusing to read past MAX_KEY_FILE (``/dev/zero`` is no key)."""
    with open(path, "rb") as data:
        text = data.read(MAX_KEY_FILE + 1)
    if len(text) > MAX_KEY_FILE:
        raise KeyFileError(f"{path}: over {MAX_KEY_FILE >> 10} KiB; not a cosign key file")
    return text


def load_signing_key(text: bytes, passphrase: bytes, where: str = "the key") -> SigningKey:
    """Open a cosign private key file with ``passphrase``."""
    body = _pem_body(text, where)
    try:
        document = check(parse_json(body, "", limit=MAX_KEY_FILE), _KEY_FILE, "")
    except BadDocument as exc:
        at = f"{exc.at}: " if exc.at else ""
        raise KeyFileError(f"{where}: not a readable cosign key: {at}{exc.problem}") from None
    plain = _decrypt(document, passphrase, where)
    try:
        private = serialization.load_der_private_key(plain, password=None)
    except ValueError as exc:
        raise KeyFileError(f"{where}: the decrypted key is not PKCS#8 DER: {exc}") from None
    if not isinstance(private, ec.EllipticCurvePrivateKey) or private.curve.name != "secp256r1":
        raise KeyFileError(f"{where}: only ECDSA P-256 keys can sign (cosign's default)")
    return SigningKey(private)


def encrypt_private_key(private: ec.EllipticCurvePrivateKey, passphrase: bytes) -> bytes:
    """``private`` as the PEM file cosign writes, encrypted with ``passphrase``."""
    der = private.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    salt = os.urandom(_SALT_BYTES)
    key = hashlib.scrypt(
        passphrase,
        salt=salt,
        n=SCRYPT_N,
        r=SCRYPT_R,
        p=SCRYPT_P,
        maxmem=256 * SCRYPT_N * 8,
        dklen=32,
    )
    nonce = os.urandom(nacl.secret.SecretBox.NONCE_SIZE)
    sealed = nacl.secret.SecretBox(key).encrypt(der, nonce).ciphertext
    document = {
        "kdf": {
            "name": "scrypt",
            "params": {"N": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P},
            "salt": base64.b64encode(salt).decode(),
        },
        "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(nonce).decode()},
        "ciphertext": base64.b64encode(sealed).decode(),
    }
    body = base64.b64encode(json.dumps(document, separators=(",", ":")).encode()).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "\n".join(
        [f"-----BEGIN {PEM_TYPE}-----", *lines, f"-----END {PEM_TYPE}-----", ""]
    ).encode()


def generate_key_pair(passphrase: bytes) -> tuple[bytes, bytes]:
    """A new ECDSA P-256 key pair: (the encrypted private key file, the public key file)."""
    private = ec.generate_private_key(ec.SECP256R1())
    return encrypt_private_key(private, passphrase), public_pem(private.public_key())


def load_public_key(text: bytes, where: str = "the public key") -> ec.EllipticCurvePublicKey:
    try:
        key = serialization.load_pem_public_key(text)
    except ValueError as exc:
        raise KeyFileError(f"{where}: not a PEM public key: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise KeyFileError(f"{where}: not an ECDSA public key")
    return key


def check_private_key_file(text: bytes, where: str = "the key") -> None:
    """Refuse what is not a cosign private key file, without decrypting it."""
    _pem_body(text, where)
