"""The shape-checked JSON reader's errors: one line, naming the field, whatever the keys."""

import pytest

from oci.document import BadDocument, check
from oci.shapes import MANIFEST


def test_a_key_with_a_line_break_is_named_escaped_in_one_line() -> None:
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": "sha256:" + "a" * 64,
            "size": 2,
        },
        "layers": [],
        "annotations": {"bad\nkey": None},
    }
    with pytest.raises(BadDocument) as caught:
        check(manifest, MANIFEST, "docker://r/app: manifest 1")
    message = str(caught.value)
    assert "\n" not in message
    assert "annotations.'bad\\nkey'" in message and "expected a string, found null" in message
