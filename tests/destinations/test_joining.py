"""``staves index create``'s document: which images an index source gives, the annotations
the joined index carries, and what it refuses."""

import json
from typing import Any

import pytest

from oci.descriptor import Descriptor, Platform
from oci.media import MediaType
from staves.caches.build_key import BUILD_KEY
from staves.commands.index import PER_IMAGE_ANNOTATIONS
from staves.destinations.joining import Member, index_annotations, joined_index, members_of
from staves.errors import StavesError

CREATED = "org.opencontainers.image.created"
TITLE = "org.opencontainers.image.title"


def member(arch: str, digest: str, **annotations: str) -> Member:
    entry = Descriptor(MediaType.OCI_MANIFEST, digest, 500, platform=Platform("linux", arch))
    return Member(entry, annotations, f"docker://r/app:{arch}")


class Named:
    """What members_of reads of a registry source: the document a reference names."""

    def __init__(self, document: dict[str, Any], media_type: str) -> None:
        self.document, self.media_type = document, media_type

    def named_document(self) -> tuple[dict[str, Any], Descriptor]:
        data = json.dumps(self.document).encode()
        return self.document, Descriptor(self.media_type, "sha256:" + "a" * 64, len(data))

    def config_of(self, manifest: dict[str, Any]) -> dict[str, Any]:
        return {"os": "linux", "architecture": "riscv64"}


def test_the_index_takes_the_first_images_time_and_what_all_images_say_alike() -> None:
    first = {CREATED: "2026-01-01T00:00:00Z", TITLE: "app", BUILD_KEY: "k1", "only.amd64": "x"}
    one = member("amd64", "sha256:" + "1" * 64, **first)
    two = member(
        "arm64", "sha256:" + "2" * 64, **{CREATED: "2026-01-02", TITLE: "app", BUILD_KEY: "k2"}
    )
    assert index_annotations(
        [one, two], {"org.example.run": "7", TITLE: "renamed"}, PER_IMAGE_ANNOTATIONS
    ) == {
        CREATED: "2026-01-01T00:00:00Z",
        TITLE: "renamed",
        "org.example.run": "7",
    }
    document = json.loads(joined_index([one, two], {}, PER_IMAGE_ANNOTATIONS).manifest.data)
    assert [m["platform"]["architecture"] for m in document["manifests"]] == ["amd64", "arm64"]
    assert BUILD_KEY not in document["annotations"]
    # One image alone says its build key "alike": still not the index's.
    alone = json.loads(joined_index([one], {}, PER_IMAGE_ANNOTATIONS).manifest.data)
    assert BUILD_KEY not in alone["annotations"]
    assert alone["annotations"]["only.amd64"] == "x"


def test_two_images_for_one_platform_or_none_at_all_are_refused() -> None:
    twice = [member("amd64", "sha256:" + "1" * 64), member("amd64", "sha256:" + "2" * 64)]
    with pytest.raises(StavesError, match="linux/amd64 twice"):
        joined_index(twice, {})
    with pytest.raises(StavesError, match="hold no image"):
        joined_index([], {})


def test_an_image_gives_its_configs_platform() -> None:
    (found,) = members_of(Named({"config": {}, "layers": []}, MediaType.OCI_MANIFEST), "x")  # type: ignore[arg-type]
    assert found.entry.platform == Platform("linux", "riscv64")


def test_an_index_gives_its_images_not_attestations_nor_artifacts() -> None:
    entry = {"mediaType": MediaType.OCI_MANIFEST, "size": 9}
    arm = {"os": "linux", "architecture": "arm", "variant": "v7"}
    unknown = {"os": "unknown", "architecture": "unknown"}
    attestation = {"vnd.docker.reference.type": "attestation-manifest"}
    index = {
        "manifests": [
            {**entry, "digest": "sha256:" + "1" * 64, "platform": arm},
            {
                **entry,
                "digest": "sha256:" + "2" * 64,
                "platform": unknown,
                "annotations": attestation,
            },
            {**entry, "digest": "sha256:" + "3" * 64},
        ],
        "annotations": {TITLE: "app"},
    }
    found = members_of(Named(index, MediaType.OCI_INDEX), "x")  # type: ignore[arg-type]
    assert [(m.entry.digest[-1], str(m.entry.platform)) for m in found] == [("1", "linux/arm/v7")]
    assert found[0].annotations == {TITLE: "app"}


def test_an_artifact_is_not_an_image() -> None:
    sbom = {"artifactType": "application/spdx+json", "config": {}, "subject": {}}
    with pytest.raises(Exception, match="not an image"):
        members_of(Named(sbom, MediaType.OCI_MANIFEST), "docker://r/app:sbom")  # type: ignore[arg-type]
