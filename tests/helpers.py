"""Small helpers shared by tests: running the staves CLI, reading layouts."""

import json
import os
import subprocess
from pathlib import Path
from typing import Any


def staves(
    *args: str | Path, env: dict[str, str] | None = None, input: bytes | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed ``staves`` command as a user would."""
    return subprocess.run(
        ["staves", *map(str, args)],
        capture_output=True,
        text=input is None,
        input=input,
        env={**os.environ, **(env or {})},
        check=False,
    )


def layout_blob(layout: Path, digest: str) -> Path:
    return layout / "blobs" / "sha256" / digest.split(":", 1)[1]


def layout_json(layout: Path, digest: str) -> Any:
    return json.loads(layout_blob(layout, digest).read_bytes())


def layout_index(layout: Path) -> dict[str, Any]:
    return json.loads((layout / "index.json").read_bytes())


def manifest_for_tag(layout: Path, tag: str) -> dict[str, Any]:
    for entry in layout_index(layout)["manifests"]:
        if entry.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
            return layout_json(layout, entry["digest"])
    raise AssertionError(f"tag {tag} not in {layout}")
