"""Step 6, signed: next to each image in the destinations that keep them, its provenance
as cosign's ``.att`` and, with a key, its ``.sig``; an index is signed as the index."""

from staves.build.request import BuildRequest
from staves.build.result import Result
from staves.destinations.signing import sign_outputs


def sign(result: Result, request: BuildRequest) -> None:
    """Write each image's attestation (and signature), then the index's signature."""
    for one in result.images:
        sign_outputs(
            one.image.descriptor(),
            request.destinations,
            request.name,
            request.signing,
            [one.provenance],
        )
    if result.is_index and request.signing.key is not None:
        sign_outputs(
            result.published.descriptor(), request.destinations, request.name, request.signing
        )
