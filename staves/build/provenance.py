"""The provenance, an attestation of each image: an SLSA statement of what it was built
from, in a DSSE envelope (signed when a key is given), attached to the image."""

from oci.image import Image
from staves import __version__
from staves.build.request import BuildRequest
from staves.build.root import BuiltRoot
from staves.destinations.signing import Attestation, attest
from staves.gentoo.provenance import ProvenanceSubject, build_provenance


def provenance_of(request: BuildRequest, root: BuiltRoot, image: Image) -> Attestation:
    """The image's SLSA provenance, attached to it."""
    subject = ProvenanceSubject(request.name.reference or "image", image.manifest.digest)
    statement = build_provenance(
        subject, root.inputs, root.sources, request.plan, str(image.platform), __version__
    )
    return attest(image.descriptor(), statement, request.signing.key)
