"""The OCI and Docker documents as far as Staves reads them, as ``oci.document`` shapes.

Only the fields something reads are named; the rest pass through unchecked. Digests are
sha256, the only algorithm Staves reads blobs by.
"""

from oci.document import Count, Each, Fields, MapOf, Shape, Text

DIGEST = Text("a sha256 digest (sha256:<64 hex digits>)", r"sha256:[a-f0-9]{64}")
ANNOTATIONS = MapOf(Text(), name="an object of strings")
PLATFORM = Fields(
    {"os": Text(), "architecture": Text(), "variant": Text()}, required=("os", "architecture")
)
DESCRIPTOR = Fields(
    {
        "mediaType": Text(),
        "digest": DIGEST,
        "size": Count(),
        "annotations": ANNOTATIONS,
        "platform": PLATFORM,
        "artifactType": Text(),
    },
    required=("mediaType", "digest", "size"),
    name="a descriptor (mediaType, digest, size)",
)
INDEX = Fields(
    {
        "mediaType": Text(),
        "manifests": Each(DESCRIPTOR),
        "annotations": ANNOTATIONS,
        "subject": DESCRIPTOR,
    },
    required=("manifests",),
    name="an index",
)
MANIFEST = Fields(
    {
        "mediaType": Text(),
        "config": DESCRIPTOR,
        "layers": Each(DESCRIPTOR),
        "annotations": ANNOTATIONS,
        "subject": DESCRIPTOR,
        "artifactType": Text(),
    },
    required=("config",),
    name="an image manifest",
)
# An index or a manifest: what a tag names, before its media type is known.
INDEX_OR_MANIFEST = Fields(
    {
        "mediaType": Text(),
        "manifests": Each(DESCRIPTOR),
        "config": DESCRIPTOR,
        "layers": Each(DESCRIPTOR),
        "annotations": ANNOTATIONS,
        "subject": DESCRIPTOR,
        "artifactType": Text(),
    },
    name="a manifest or an index",
)
CONFIG = Fields(
    {
        "architecture": Text(),
        "os": Text(),
        "variant": Text(),
        "config": Fields({"Labels": ANNOTATIONS}),
        "rootfs": Fields({"type": Text(), "diff_ids": Each(DIGEST)}),
    },
    name="an image config",
)
# ``manifest.json`` of a docker-archive: one entry per image.
DOCKER_ARCHIVE: Shape = Each(
    Fields(
        {"Config": Text(), "RepoTags": Each(Text()), "Layers": Each(Text())},
        required=("Config",),
    ),
    name="an array of images",
)
