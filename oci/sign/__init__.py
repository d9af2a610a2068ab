"""Signing images the way cosign does: key files, the payloads signed, the signature and
attestation manifests, and DSSE envelopes."""
