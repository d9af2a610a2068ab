"""Where a debug image goes: each destination of the image, tagged TAG-debug; an archive's
is a file of its own beside it."""

import pytest

from oci.transport import parse_destination
from staves.destinations.debug_names import debug_destination, debug_tag, destination_text
from staves.destinations.naming import ImageName
from staves.errors import StavesError

NAME = ImageName("localhost/hello", "1.0")


@pytest.mark.parametrize(
    ("image", "debug"),
    [
        ("oci:/out", "oci:/out:1.0-debug"),
        ("oci:/out:t", "oci:/out:t-debug"),
        ("oci-archive:/out/app.tar", "oci-archive:/out/app-debug.tar:1.0-debug"),
        ("oci-archive:/out/app.oci.tar:x", "oci-archive:/out/app-debug.oci.tar:x-debug"),
        (
            "docker-archive:/out/app.tar",
            "docker-archive:/out/app-debug.tar:localhost/hello:1.0-debug",
        ),
        ("docker-archive:/out/app.tar:other:2", "docker-archive:/out/app-debug.tar:other:2-debug"),
        ("containers-storage:app", "containers-storage:app:1.0-debug"),
        (
            "containers-storage:localhost:5000/app",
            "containers-storage:localhost:5000/app:1.0-debug",
        ),
        ("docker://localhost:5000/app", "docker://localhost:5000/app:1.0-debug"),
        ("docker://localhost:5000/app:3", "docker://localhost:5000/app:3-debug"),
    ],
)
def test_each_destination_has_its_debug_destination(image: str, debug: str) -> None:
    assert destination_text(debug_destination(parse_destination(image), NAME)) == debug


@pytest.mark.parametrize(
    "image",
    ["docker://localhost:5000/app@sha256:" + "a" * 64, "containers-storage:app@sha256:" + "a" * 64],
)
def test_a_digest_leaves_no_tag_to_add_to(image: str) -> None:
    with pytest.raises(StavesError, match="no tag to put -debug after"):
        debug_destination(parse_destination(image), NAME)


def test_a_tag_too_long_for_the_suffix_is_refused() -> None:
    assert debug_tag("t" * 122) == "t" * 122 + "-debug"
    with pytest.raises(StavesError, match="leaves no room"):
        debug_tag("t" * 123)
