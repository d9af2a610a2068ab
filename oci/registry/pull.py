"""Reading an image from a registry over the OCI distribution API: the manifest (from an
index, the one for this host's platform), blobs streamed and checked against their digest,
and the artifacts that refer to the image (the referrers API, else the ``sha256-<hex>``
fallback tag the push side writes)."""

import hashlib
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, BinaryIO
from urllib.parse import urlencode, urljoin

import requests
import urllib3

from oci.artifact import referrers_tag
from oci.descriptor import Descriptor, Platform
from oci.document import MAX_CONFIG, BadDocument, check, load_json, parse_json
from oci.errors import OciError
from oci.layer_reader import DEFAULT_LIMITS, LayerLimits
from oci.media import INDEX_TYPES, MANIFEST_TYPES, MediaType
from oci.platforms import pick_platform, platform_names
from oci.registry.errors import DigestMismatch, RegistryError
from oci.registry.options import RegistryOptions
from oci.registry.reference import Reference
from oci.registry.transport import RegistryClient, credentials_for, explain, repo_scope
from oci.shapes import CONFIG, INDEX, INDEX_OR_MANIFEST, MANIFEST
from oci.source import SourceImage
from oci.verified import verified

log = logging.getLogger(__name__)

MANIFEST_ACCEPT = ", ".join((*MANIFEST_TYPES, *INDEX_TYPES))
_REDIRECTS = (301, 302, 303, 307, 308)
_MAX_REDIRECTS = 5
# What a registry without the referrers API answers for it.
_NO_REFERRERS_API = (400, 404, 405, 501)
_FROM = "from"


@dataclass(frozen=True)
class _Document:
    document: dict[str, Any]
    digest: str
    media_type: str
    size: int


def _digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _media_type(response: requests.Response, document: Mapping[str, Any]) -> str:
    said = str(document.get("mediaType") or "")
    return said or response.headers.get("Content-Type", "").split(";", 1)[0].strip()


class _Body:
    """A blob's body as it arrives: urllib3's failures as one registry line."""

    def __init__(self, response: requests.Response, step: str, where: str) -> None:
        self._response = response
        self._step = step
        self._where = where

    def read(self, size: int = -1) -> bytes:
        try:
            return self._response.raw.read(size)  # type: ignore[no-any-return]
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise RegistryError(self._step, self._where, explain(exc), towards=_FROM) from None

    def close(self) -> None:
        self._response.close()


class RegistrySource:
    """``docker://HOST/REPO:TAG`` (or ``@sha256:…``): one image in one repository."""

    def __init__(
        self,
        client: RegistryClient,
        reference: Reference,
        platform: Platform | None = None,
        limits: LayerLimits = DEFAULT_LIMITS,
    ) -> None:
        self.limits = limits
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

    def _document(self, ref: str, accept: str, *, missing_ok: bool = False) -> _Document | None:
        """The manifest or index at ``ref`` (tag or digest), its fields checked."""
        step = f"pulling manifest {ref}"
        expected = (200, 404) if missing_ok else (200,)
        response = self._get(
            f"/v2/{self._repo}/manifests/{ref}", step, expected=expected, headers={"Accept": accept}
        )
        if response.status_code == 404:
            return None
        data = response.content
        digest = _digest_of(data)
        if ref.startswith("sha256:") and digest != ref:
            raise DigestMismatch(
                step, self._where, f"received a manifest with digest {digest}", towards=_FROM
            )
        source = f"docker://{self._where}: manifest {ref}"
        document = check(parse_json(data, source), INDEX_OR_MANIFEST, source)
        media_type = _media_type(response, document)
        document = check(document, INDEX if media_type in INDEX_TYPES else MANIFEST, source)
        return _Document(document, digest, media_type, len(data))

    def _manifest(self) -> tuple[dict[str, Any], str]:
        ref = self._ref.digest or self._ref.manifest_ref
        found = self._document(ref, MANIFEST_ACCEPT)
        assert found is not None
        document, digest, media_type = found.document, found.digest, found.media_type
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
            document, digest, media_type = found.document, found.digest, found.media_type
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
        found = self._document(ref, MANIFEST_ACCEPT)
        assert found is not None
        return found.document, Descriptor(found.media_type, found.digest, found.size)

    def config_of(self, manifest: Mapping[str, Any]) -> dict[str, Any]:
        """The image config a (checked) manifest names, parsed and checked against its
        digest and the size limit of a config."""
        config_digest, size = manifest["config"]["digest"], manifest["config"]["size"]
        source = f"docker://{self._where}: config {config_digest}"
        if size > MAX_CONFIG:
            raise BadDocument(source, f"is {size} bytes; a config may have {MAX_CONFIG >> 20} MiB")
        with self.open_blob(config_digest, size) as data:
            return check(load_json(data, source, MAX_CONFIG), CONFIG, source)

    def image(self) -> SourceImage:
        manifest, digest = self._manifest()
        return SourceImage(digest, manifest, self.config_of(manifest))

    def open_blob(self, digest: str, size: int | None = None) -> BinaryIO:
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
        said = response.headers.get("Content-Length", "")
        if size is None and said.isdigit():
            size = int(said)
        body = _Body(response, step, self._where)

        def mismatch(why: str) -> DigestMismatch:
            return DigestMismatch(step, self._where, why, towards=_FROM)

        return verified(body, digest, self._where, size=size, mismatch=mismatch)  # type: ignore[arg-type]

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
            source = f"docker://{self._where}: referrers of {subject}"
            try:
                return list(check(parse_json(response.content, source), INDEX, source)["manifests"])
            except BadDocument as exc:
                log.debug("%s", exc)  # as good as no referrers API: nothing attached is read
                return []
        log.debug(
            "%s: no referrers API (%d); trying the fallback tag", self._where, response.status_code
        )
        found = self._document(referrers_tag(subject), MediaType.OCI_INDEX, missing_ok=True)
        if found is None:
            return []
        return list(found.document.get("manifests", []))

    def referrers(self, subject: str, artifact_type: str | None = None) -> list[dict[str, Any]]:
        out = []
        for entry in self._referrer_list(subject, artifact_type):
            listed = entry.get("artifactType")
            if artifact_type is not None and listed not in (None, artifact_type):
                continue
            if entry.get("mediaType") != MediaType.OCI_MANIFEST:
                continue
            found = self._document(entry["digest"], MediaType.OCI_MANIFEST, missing_ok=True)
            if found is None:
                continue  # listed, but deleted since
            manifest = found.document
            kind = manifest.get("artifactType") or (manifest.get("config") or {}).get("mediaType")
            if (manifest.get("subject") or {}).get("digest") != subject:
                continue
            if artifact_type is None or kind == artifact_type:
                out.append(manifest)
        return out


@contextmanager
def open_registry_source(
    reference: Reference,
    options: RegistryOptions,
    platform: Platform | None = None,
    limits: LayerLimits = DEFAULT_LIMITS,
) -> Iterator[RegistrySource]:
    """A source for ``reference``, with credentials found as for a push."""
    client = RegistryClient(
        reference.api_host, options, credentials_for(reference, options), towards=_FROM
    )
    try:
        yield RegistrySource(client, reference, platform, limits)
    finally:
        client.close()
