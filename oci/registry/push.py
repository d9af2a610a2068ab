"""Pushing an image over the OCI distribution API: blobs (skip, mount or upload), then
the manifest, last, so a failed push tags nothing."""

import logging
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import Any, Protocol
from urllib.parse import urlencode, urljoin

import requests

from oci.artifact import SUBJECT_HEADER, Artifact, referrer_push, with_referrer
from oci.blob import Blob, BytesBlob, json_blob
from oci.errors import InvalidReference
from oci.index import ImageIndex
from oci.media import MediaType
from oci.registry.answers import RETRY_EXCEPTIONS, Retryable
from oci.registry.auth import Credentials
from oci.registry.errors import DigestMismatch, RegistryError
from oci.registry.locations import BlobLocations
from oci.registry.options import RegistryOptions
from oci.registry.progress import Progress, ProgressCallback, ProgressReader, PushResult
from oci.registry.reference import Reference
from oci.registry.transport import RegistryClient, credentials_for, repo_scope

log = logging.getLogger(__name__)

_OCTET = {"Content-Type": "application/octet-stream"}
_PROGRESS_STEP = 1 << 20


class Pushable(Protocol):
    """What a push sends: the blobs, then the manifest (an image, or any artifact)."""

    @property
    def manifest(self) -> BytesBlob: ...
    def blobs(self) -> Iterable[Blob]: ...


def _with_query(url: str, **params: str) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(params)


def _location(response: requests.Response, step: str, where: str) -> str:
    location = response.headers.get("Location")
    if not location:
        raise RegistryError(step, where, f"{response.status_code} without a Location header")
    return urljoin(response.url, location)


class _RepoPusher:
    """Everything sent to one repository of one registry."""

    def __init__(
        self,
        client: RegistryClient,
        reference: Reference,
        locations: BlobLocations,
        result: PushResult,
        progress: ProgressCallback | None,
    ) -> None:
        self.client = client
        self.registry = reference.registry
        self.repository = reference.repository
        self.where = reference.name
        self.scopes = [repo_scope(self.repository)]
        self.locations = locations
        self.result = result
        self.progress = progress

    def _report(self, blob: Blob, done: int, state: str) -> None:
        if self.progress is not None:
            self.progress(Progress(blob.digest, blob.size, done, state))

    def push_blobs(self, blobs: Sequence[Blob]) -> None:
        unique = list({b.digest: b for b in blobs}.values())
        workers = max(1, min(self.client.options.parallel, len(unique)))
        with ThreadPoolExecutor(workers, thread_name_prefix="push") as pool:
            futures = [pool.submit(self.push_blob, blob) for blob in unique]
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            failed = [f for f in done if f.exception() is not None]
            if failed:
                pool.shutdown(wait=True, cancel_futures=True)
                failed[0].result()

    def push_blob(self, blob: Blob) -> None:
        step = f"pushing blob {blob.digest}"
        self._report(blob, 0, "checking")
        if self._exists(blob, step):
            outcome = "present"
        else:
            outcome = self.client.with_retries(step, self.where, lambda: self._send(blob, step))
        self.locations.record(self.registry, self.repository, blob.digest)
        self.result.count(outcome, blob.size)
        self._report(blob, blob.size, outcome)
        log.debug("%s %s (%d bytes) in %s", outcome, blob.digest, blob.size, self.where)

    def _exists(self, blob: Blob, step: str) -> bool:
        response = self.client.request(
            "HEAD",
            f"/v2/{self.repository}/blobs/{blob.digest}",
            step=step,
            where=self.where,
            scopes=self.scopes,
            expected=(200, 307, 404),
        )
        return response.status_code != 404

    def _send(self, blob: Blob, step: str) -> str:
        """One attempt: mount or start an upload, then upload; retried as a whole."""
        location = None
        for source in self.locations.sources(self.registry, blob.digest, self.repository)[:1]:
            location = self._mount(blob, source, step)
            if location is None:
                return "mounted"
        if location is None:
            response = self.client.request(
                "POST",
                f"/v2/{self.repository}/blobs/uploads/",
                step=step,
                where=self.where,
                scopes=self.scopes,
                expected=(202,),
                retry=False,
            )
            location = _location(response, step, self.where)
        chunk = self.client.options.chunk_size
        if chunk and blob.size > chunk:
            return self._upload_chunked(blob, location, chunk, step)
        return self._upload_whole(blob, location, step)

    def _mount(self, blob: Blob, source: str, step: str) -> str | None:
        """Mount ``blob`` from ``source``: None when mounted, else the upload location."""
        path = f"/v2/{self.repository}/blobs/uploads/?" + urlencode(
            {"mount": blob.digest, "from": source}
        )
        response = self.client.request(
            "POST",
            path,
            step=step,
            where=self.where,
            scopes=[*self.scopes, repo_scope(source, "pull")],
            expected=(201, 202),
            retry=False,
        )
        if response.status_code == 201:
            self._check_digest(response, blob.digest, step)
            return None
        log.debug("%s: mount from %s refused, uploading", blob.digest, source)
        self.locations.forget(self.registry, source, blob.digest)
        return _location(response, step, self.where)

    def _reader(self, blob: Blob, start: int, length: int) -> Callable[[], ProgressReader]:
        done = [start]

        def report(n: int) -> None:
            before = done[0]
            done[0] += n
            if done[0] // _PROGRESS_STEP != before // _PROGRESS_STEP or done[0] == blob.size:
                self._report(blob, done[0], "uploading")

        def open_at() -> ProgressReader:
            done[0] = start
            stream = blob.open()
            if start:
                stream.seek(start)
            return ProgressReader(stream, length, report)

        return open_at

    def _upload_whole(self, blob: Blob, location: str, step: str) -> str:
        return self._close_upload(
            blob, location, step, headers=_OCTET, body=self._reader(blob, 0, blob.size)
        )

    def _close_upload(self, blob: Blob, location: str, step: str, **body: Any) -> str:
        """The final PUT of an upload (with the data, or after PATCHes); checks the digest."""
        response = self.client.request(
            "PUT",
            _with_query(location, digest=blob.digest),
            step=step,
            where=self.where,
            scopes=self.scopes,
            expected=(201,),
            retry=False,
            **body,
        )
        self._check_digest(response, blob.digest, step)
        return "uploaded"

    def _upload_chunked(self, blob: Blob, location: str, chunk: int, step: str) -> str:
        """PATCH chunk after chunk; after a failed chunk, ask where the upload stands."""
        offset, failures = 0, 0
        while offset < blob.size:
            try:
                location = self._patch(blob, location, offset, min(chunk, blob.size - offset))
                offset, failures = offset + min(chunk, blob.size - offset), 0
            except (*RETRY_EXCEPTIONS, Retryable) as err:
                failures += 1
                if failures > self.client.options.retries:
                    raise
                log.info(
                    "%s to %s: chunk at %d failed (%s); resuming", step, self.where, offset, err
                )
                location, offset = self._resume(location, step, offset, chunk)
        return self._close_upload(blob, location, step)

    def _patch(self, blob: Blob, location: str, start: int, length: int) -> str:
        step = f"pushing blob {blob.digest}"
        response = self.client.request(
            "PATCH",
            location,
            step=step,
            where=self.where,
            scopes=self.scopes,
            expected=(202,),
            headers={**_OCTET, "Content-Range": f"{start}-{start + length - 1}"},
            body=self._reader(blob, start, length),
            retry=False,
        )
        return _location(response, step, self.where)

    def _resume(self, location: str, step: str, offset: int, chunk: int) -> tuple[str, int]:
        """Where the upload stands: before or after the failed chunk; else start over.

        A chunk the registry kept only part of is not resumed: registries disagree on
        what such a part holds.
        """
        try:
            response = self.client.request(
                "GET",
                location,
                step=step,
                where=self.where,
                scopes=self.scopes,
                expected=(204,),
                retry=False,
            )
        except RegistryError as err:
            raise Retryable(f"upload cannot be resumed ({err.why}); starting over") from None
        last = response.headers.get("Range", "0--1").rpartition("-")[2]
        if not last.lstrip("-").isdigit():
            raise Retryable("upload status has no Range; starting over")
        size = int(last) + 1
        if size not in (offset, offset + chunk):
            raise Retryable(f"upload stands at {size} bytes, mid-chunk; starting over")
        return _location(response, step, self.where), size

    def _check_digest(self, response: requests.Response, digest: str, step: str) -> None:
        said = response.headers.get("Docker-Content-Digest")
        if said and said != digest:
            raise DigestMismatch(step, self.where, f"registry stored {said}, expected {digest}")

    def push_images_of(self, index: ImageIndex) -> None:
        """An index's images, each with its blobs, under their digests: the index may be
        put only once every manifest it names is there."""
        for image in index.images:
            self.push_blobs(list(image.blobs()))
            self._put_document(image.manifest, image.manifest.digest)

    def put_manifest(self, image: Pushable, reference: Reference) -> None:
        self._put_document(image.manifest, reference.manifest_ref)
        log.info("pushed %s (%s)", reference, image.manifest.digest)

    def _put_document(self, document: BytesBlob, ref: str) -> requests.Response:
        """PUT a manifest or index under a tag or its digest."""
        step = f"pushing manifest {document.digest} as {ref}"
        response = self.client.request(
            "PUT",
            f"/v2/{self.repository}/manifests/{ref}",
            step=step,
            where=self.where,
            scopes=self.scopes,
            expected=(201,),
            headers={"Content-Type": document.media_type},
            body=lambda: document.data,
        )
        self._check_digest(response, document.digest, step)
        return response

    def attach(self, artifact: Artifact) -> None:
        """Push ``artifact`` with its subject; list it under the fallback tag when the
        registry has no referrers API (it then answers without ``OCI-Subject``)."""
        pushed = referrer_push(artifact)
        self.push_blobs(list(pushed.blobs))
        response = self._put_document(pushed.manifest, pushed.manifest.digest)
        if SUBJECT_HEADER in response.headers:
            return
        step = f"updating referrers tag {pushed.fallback_tag}"
        found = self.client.request(
            "GET",
            f"/v2/{self.repository}/manifests/{pushed.fallback_tag}",
            step=step,
            where=self.where,
            scopes=self.scopes,
            expected=(200, 404),
            headers={"Accept": MediaType.OCI_INDEX},
        )
        current = found.json() if found.status_code == 200 else None
        index = json_blob(with_referrer(current, pushed.descriptor), MediaType.OCI_INDEX)
        self._put_document(index, pushed.fallback_tag)
        log.info("attached %s to %s", pushed.manifest.digest, artifact.subject.digest)


def _check_references(image: Pushable, references: Sequence[Reference]) -> None:
    if not references:
        raise InvalidReference("no registry destination to push to")
    for ref in references:
        if ref.digest is not None and ref.digest != image.manifest.digest:
            raise InvalidReference(
                f"docker://{ref}: names digest {ref.digest} but the image is "
                f"{image.manifest.digest}"
            )


def _group(references: Sequence[Reference]) -> dict[tuple[str, str], list[Reference]]:
    groups: dict[tuple[str, str], list[Reference]] = {}
    for ref in references:
        groups.setdefault((ref.registry, ref.repository), []).append(ref)
    return groups


class _Clients:
    """One client per registry and credentials, shared by the repositories pushed to."""

    def __init__(self, options: RegistryOptions) -> None:
        self.options = options
        self._clients: dict[tuple[str, Credentials | None], RegistryClient] = {}

    def for_reference(self, ref: Reference) -> RegistryClient:
        creds = credentials_for(ref, self.options)
        key = (ref.api_host, creds)
        if key not in self._clients:
            self._clients[key] = RegistryClient(ref.api_host, self.options, creds)
        return self._clients[key]

    def close(self) -> None:
        for client in self._clients.values():
            client.close()


def push_image(
    image: Pushable,
    references: Sequence[Reference],
    options: RegistryOptions | None = None,
    *,
    progress: ProgressCallback | None = None,
    locations: BlobLocations | None = None,
    referrers: Sequence[Artifact] = (),
) -> PushResult:
    """Push ``image`` (an image or an index) to every reference (several tags,
    repositories, registries).

    Blobs go first (present ones skipped, known ones mounted), in parallel; each
    repository's manifest is put only after all its blobs are there; ``referrers``
    (artifacts whose subject is the image, such as an SBOM) are attached last.
    """
    opts = options or RegistryOptions()
    _check_references(image, references)
    known = locations if locations is not None else BlobLocations()
    result = PushResult(image.manifest.digest, tuple(references))
    clients = _Clients(opts)
    try:
        for refs in _group(references).values():
            pusher = _RepoPusher(clients.for_reference(refs[0]), refs[0], known, result, progress)
            if isinstance(image, ImageIndex):
                pusher.push_images_of(image)
            else:
                pusher.push_blobs(list(image.blobs()))
            for ref in refs:
                pusher.put_manifest(image, ref)
            for artifact in referrers:
                pusher.attach(artifact)
    finally:
        clients.close()
        known.save()
    return result
