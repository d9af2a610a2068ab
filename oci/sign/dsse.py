"""DSSE envelopes (secure-systems-lab/dsse, ``envelope.md`` and ``protocol.md``).

The signature is over the pre-authentication encoding (PAE) of the payload, never the
payload alone::

    PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body

with LEN the byte length in ASCII decimal. An envelope is JSON: ``payloadType``, the
base64 ``payload`` and ``signatures`` (``keyid``, base64 ``sig``); without a key it has no
signatures. As cosign does, the key id is left empty: the verifier names the key.
"""

import base64
from typing import Any

from oci.blob import BytesBlob, json_blob
from oci.sign.cosign import DSSE_ENVELOPE, Signer

IN_TOTO_PAYLOAD = "application/vnd.in-toto+json"


def pae(payload_type: str, payload: bytes) -> bytes:
    kind = payload_type.encode()
    return b" ".join(
        [b"DSSEv1", str(len(kind)).encode(), kind, str(len(payload)).encode(), payload]
    )


def envelope(payload: bytes, payload_type: str, key: Signer | None) -> dict[str, Any]:
    """The envelope of ``payload``, signed by ``key`` when there is one."""
    signatures = []
    if key is not None:
        sig = key.sign(pae(payload_type, payload))
        signatures.append({"keyid": "", "sig": base64.b64encode(sig).decode()})
    return {
        "payload": base64.b64encode(payload).decode(),
        "payloadType": payload_type,
        "signatures": signatures,
    }


def envelope_blob(payload: bytes, payload_type: str, key: Signer | None) -> BytesBlob:
    return json_blob(envelope(payload, payload_type, key), DSSE_ENVELOPE)
