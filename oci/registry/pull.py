"""Reading an image from a registry over the OCI distribution API: the manifest (from an
index, the one for this host's platform), blobs streamed and checked against their digest,
and the artifacts that refer to the image (the referrers API, else the ``sha256-<hex>``
fallback tag the push side writes)."""

import hashlib
import io
import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, BinaryIO
from urllib.parse import urlencode, urljoin

import requests
import urllib3

from oci.artifact import referrers_tag
from oci.descriptor import Descriptor, Platform
from oci.errors import OciError
from oci.media import INDEX_TYPES, MANIFEST_TYPES, MediaType
from oci.platforms import pick_platform, platform_names
from oci.registry.errors import DigestMismatch, RegistryError
from oci.registry.options import RegistryOptions
from oci.registry.reference import Reference
from oci.registry.transport import RegistryClient, credentials_for, explain, repo_scope
from oci.source import SourceImage

log = logging.getLogger(__name__)

MANIFEST_ACCEPT = ", ".join((*MANIFEST_TYPES, *INDEX_TYPES))
_REDIRECTS = (301, 302, 303, 307, 308)
_MAX_REDIRECTS = 5
_MAX_DOCUMENT = 4 << 20  # manifests and indexes; anything bigger is not one
# What a registry without the referrers API answers for it.
_NO_REFERRERS_API = (400, 404, 405, 501)
_FROM = "from"


def _digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _media_type(response: requests.Response, document: Mapping[str, Any]) -> str:
    said = str(document.get("mediaType") or "")
    return said or response.headers.get("Content-Type", "").split(";", 1)[0].strip()


class _VerifiedStream(io.RawIOBase):
    """A blob's body as it arrives, hashed; at its end the digest must match."""

    def __init__(self, response: requests.Response, digest: str, where: str) -> None:
        self._response = response
        self._digest = digest
        self._where = where
        self._hash = hashlib.sha256()
        self._ended = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._ended:
            return 0
        try:
            data = self._response.raw.read(len(buffer))
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise RegistryError(
                f"pulling blob {self._digest}", self._where, explain(exc), towards=_FROM
            ) from None
        if not data:
            self._ended = True
            got = "sha256:" + self._hash.hexdigest()
            if got != self._digest:
                raise DigestMismatch(
                    f"pulling blob {self._digest}",
                    self._where,
                    f"received data with digest {got}",
                    towards=_FROM,
                )
            return 0
        self._hash.update(data)
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._response.close()
        super().close()


class RegistrySource:
    """``docker://HOST/REPO:TAG`` (or ``@sha256:…``): one image in one repository."""

    def __init__(
        self, client: RegistryClient, reference: Reference, platform: Platform | None = None
    ) -> None:
        self._client = client
        self._ref = reference
        self._repo = reference.repository
        self._where = reference.name
        self._scopes = [repo_scope(reference.repository, "pull")]
        self._platform = platform or Platform.host()

    def _get(
        self, path: str, step: str, *, expected: tuple[int, ...] = (200,), **kwargs: Any
    ) -> requests.Response:
        return self._client.request(
            "GET",
            path,
            step=step,
            where=self._where,
            scopes=self._scopes,
            expected=expected,
            **kwargs,
        )

    def _document(
        self, ref: str, accept: str, *, missing_ok: bool = False
    ) -> tuple[dict[str, Any], str, str] | None:
        """The manifest or index at ``ref`` (tag or digest): its JSON, digest, media type."""
        step = f"pulling manifest {ref}"
        expected = (200, 404) if missing_ok else (200,)
        response = self._get(
            f"/v2/{self._repo}/manifests/{ref}", step, expected=expected, headers={"Accept": accept}
        )
        if response.status_code == 404:
            return None
        data = response.content
        if len(data) > _MAX_DOCUMENT:
            raise RegistryError(
                step, self._where, f"{len(data)} bytes is too big for a manifest", towards=_FROM
            )
        digest = _digest_of(data)
        if ref.startswith("sha256:") and digest != ref:
            raise DigestMismatch(
                step, self._where, f"received a manifest with digest {digest}", towards=_FROM
            )
        try:
            document = json.loads(data)
        except ValueError:
            raise RegistryError(
                step, self._where, "the answer is not JSON", towards=_FROM
            ) from None
        if not isinstance(document, dict):
            raise RegistryError(step, self._where, "the answer is not a manifest", towards=_FROM)
        return document, digest, _media_type(response, document)

    def _manifest(self) -> tuple[dict[str, Any], str]:
        ref = self._ref.digest or self._ref.manifest_ref
        found = self._document(ref, MANIFEST_ACCEPT)
        assert found is not None
        document, digest, media_type = found
        if media_type in INDEX_TYPES:
            entry = pick_platform(document, self._platform)
            if entry is None:
                raise OciError(
                    f"docker://{self._ref}: no {self._platform} image in the index "
                    f"(it has {platform_names(document)})"
                )
            log.debug("%s: picked %s for %s", self._ref, entry["digest"], self._platform)
            found = self._document(str(entry["digest"]), MANIFEST_ACCEPT)
            assert found is not None
            document, digest, media_type = found
        if media_type not in MANIFEST_TYPES:
            raise OciError(
                f"docker://{self._ref}: {media_type or 'a document of unknown type'} "
                "is not an image manifest"
            )
        return document, digest

    def manifest(self) -> tuple[dict[str, Any], str]:
        """The manifest the reference names (an image's or an artifact's), and its digest."""
        return self._manifest()

    def named(self) -> Descriptor:
        """The manifest or index the reference names, no platform picked: what a
        signature of this reference signs."""
        return self.named_document()[1]

    def named_document(self) -> tuple[dict[str, Any], Descriptor]:
        """The manifest or index the reference names (no platform picked), parsed, and its
        descriptor (the digest of the bytes the registry gave)."""
        ref = self._ref.digest or self._ref.manifest_ref
        step = f"pulling manifest {ref}"
        response = self._get(
            f"/v2/{self._repo}/manifests/{ref}", step, headers={"Accept": MANIFEST_ACCEPT}
        )
        data = response.content[: _MAX_DOCUMENT + 1]
        digest = _digest_of(data)
        if len(data) > _MAX_DOCUMENT or (ref.startswith("sha256:") and digest != ref):
            raise RegistryError(step, self._where, "the answer is not that manifest", towards=_FROM)
        try:
            document = json.loads(data)
        except ValueError:
            raise RegistryError(
                step, self._where, "the answer is not JSON", towards=_FROM
            ) from None
        if not isinstance(document, dict):
            raise RegistryError(step, self._where, "the answer is not a manifest", towards=_FROM)
        return document, Descriptor(_media_type(response, document), digest, len(data))

    def config_of(self, manifest: Mapping[str, Any]) -> dict[str, Any]:
        """The image config a manifest names, parsed (checked against its digest)."""
        config_digest = str((manifest.get("config") or {}).get("digest", ""))
        if not config_digest.startswith("sha256:"):
            raise OciError(f"docker://{self._ref}: the manifest names no config")
        with self.open_blob(config_digest) as data:
            raw = data.read(_MAX_DOCUMENT + 1)
        try:
            config = json.loads(raw)
        except ValueError:
            raise OciError(f"docker://{self._ref}: config {config_digest} is not JSON") from None
        if not isinstance(config, dict):
            raise OciError(f"docker://{self._ref}: config {config_digest} is not an image config")
        return config

    def image(self) -> SourceImage:
        manifest, digest = self._manifest()
        return SourceImage(digest, manifest, self.config_of(manifest))

    def open_blob(self, digest: str) -> BinaryIO:
        """The blob streamed (redirects to other hosts followed, without our credentials)."""
        step = f"pulling blob {digest}"
        path = f"/v2/{self._repo}/blobs/{digest}"
        headers = {"Accept-Encoding": "identity"}
        response = self._get(path, step, expected=(200, *_REDIRECTS), headers=headers, stream=True)
        for _ in range(_MAX_REDIRECTS):
            if response.status_code not in _REDIRECTS:
                break
            location = response.headers.get("Location")
            response.close()
            if not location:
                raise RegistryError(
                    step,
                    self._where,
                    f"{response.status_code} without a Location header",
                    towards=_FROM,
                )
            url = urljoin(response.url, location)
            response = self._get(
                url, step, expected=(200, *_REDIRECTS), headers=headers, stream=True
            )
        if response.status_code != 200:
            response.close()
            raise RegistryError(step, self._where, "too many redirects", towards=_FROM)
        return io.BufferedReader(_VerifiedStream(response, digest, self._where), 1 << 20)

    def _referrer_list(self, subject: str, artifact_type: str | None) -> list[dict[str, Any]]:
        """Descriptors from the referrers API, else from the fallback tag's index."""
        query = "?" + urlencode({"artifactType": artifact_type}) if artifact_type else ""
        response = self._get(
            f"/v2/{self._repo}/referrers/{subject}{query}",
            f"listing referrers of {subject}",
            expected=(200, *_NO_REFERRERS_API),
            headers={"Accept": MediaType.OCI_INDEX},
        )
        if response.status_code == 200:
            try:
                return list(response.json().get("manifests") or [])
            except (ValueError, AttributeError):
                log.debug("%s: referrers answer is not an index", self._where)
                return []
        log.debug(
            "%s: no referrers API (%d); trying the fallback tag", self._where, response.status_code
        )
        found = self._document(referrers_tag(subject), MediaType.OCI_INDEX, missing_ok=True)
        if found is None:
            return []
        return list(found[0].get("manifests") or [])

    def referrers(self, subject: str, artifact_type: str | None = None) -> list[dict[str, Any]]:
        out = []
        for entry in self._referrer_list(subject, artifact_type):
            listed = entry.get("artifactType")
            if artifact_type is not None and listed not in (None, artifact_type):
                continue
            if entry.get("mediaType") != MediaType.OCI_MANIFEST:
                continue
            found = self._document(
                str(entry.get("digest")), MediaType.OCI_MANIFEST, missing_ok=True
            )
            if found is None:
                continue  # listed, but deleted since
            manifest = found[0]
            kind = manifest.get("artifactType") or (manifest.get("config") or {}).get("mediaType")
            if (manifest.get("subject") or {}).get("digest") != subject:
                continue
            if artifact_type is None or kind == artifact_type:
                out.append(manifest)
        return out


@contextmanager
def open_registry_source(
    reference: Reference, options: RegistryOptions, platform: Platform | None = None
) -> Iterator[RegistrySource]:
    """A source for ``reference``, with credentials found as for a push."""
    client = RegistryClient(
        reference.api_host, options, credentials_for(reference, options), towards=_FROM
    )
    try:
        yield RegistrySource(client, reference, platform)
    finally:
        client.close()
