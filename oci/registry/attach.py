"""Pushing cosign's tagged manifests (``sha256-<hex>.sig``, ``.att``) next to an image."""

from collections.abc import Sequence

from oci.registry.locations import BlobLocations
from oci.registry.options import RegistryOptions
from oci.registry.progress import PushResult
from oci.registry.push import _Clients, _group, _RepoPusher
from oci.registry.reference import Reference
from oci.sign.cosign import TaggedManifest


def push_tagged(
    manifests: Sequence[TaggedManifest],
    references: Sequence[Reference],
    options: RegistryOptions | None = None,
    locations: BlobLocations | None = None,
) -> None:
    """Push every manifest (its blobs first) under its tag into each repository of
    ``references``; the signed image is expected there already."""
    opts = options or RegistryOptions()
    known = locations if locations is not None else BlobLocations()
    clients = _Clients(opts)
    result = PushResult("", tuple(references))
    try:
        for refs in _group(references).values():
            pusher = _RepoPusher(clients.for_reference(refs[0]), refs[0], known, result, None)
            for tagged in manifests:
                pusher.push_blobs(list(tagged.blobs()))
                pusher._put_document(tagged.manifest, tagged.tag)
    finally:
        clients.close()
        known.save()
