"""The build key: what changes it, what does not, and when there is none."""

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from oci.descriptor import Platform
from oci.image import ImageConfig
from staves.caches.build_key import BUILD_KEY, KeyInputs, build_key, with_build_key
from tests.conftest import PROJECT

PLAN = {
    "files": {"/etc/portage/package.use/staves": "app-misc/hello shout\n"},
    "append": {},
    "sync": [],
    "packages": ["app-misc/hello"],
    "jobs": 2,
    "root": "/tmp/rootfs",
    "epoch": None,
}
INPUTS = KeyInputs(
    builder_id="sha256:" + "1" * 64,
    snapshot_id="sha256:" + "2" * 64,
    config=ImageConfig(entrypoint=("/usr/bin/hello",)),
    annotations={"org.opencontainers.image.title": "hello"},
    layers=1,
    vdb="trim",
    compression="gzip",
    platform=Platform("linux", "amd64"),
    epoch=None,
)


def test_the_same_inputs_give_the_same_key_and_jobs_do_not_count() -> None:
    key = build_key(PLAN, INPUTS)
    assert key is not None and key.startswith("sha256:")
    assert build_key(dict(PLAN), replace(INPUTS)) == key
    assert build_key({**PLAN, "jobs": 64}, INPUTS) == key


@pytest.mark.parametrize(
    "change",
    [
        {"builder_id": "sha256:" + "3" * 64},
        {"snapshot_id": "sha256:" + "3" * 64},
        {"config": ImageConfig(entrypoint=("/usr/bin/other",))},
        {"annotations": {}},
        {"layers": 8},
        {"vdb": "full"},
        {"compression": "zstd"},
        {"platform": Platform("linux", "arm64")},
        {"epoch": 1700000000},
    ],
)
def test_every_input_that_shapes_the_image_changes_the_key(change: dict) -> None:
    assert build_key(PLAN, replace(INPUTS, **change)) != build_key(PLAN, INPUTS)


def test_the_plan_changes_the_key() -> None:
    other = {**PLAN, "packages": ["app-misc/hello", "app-misc/motd"]}
    assert build_key(other, INPUTS) != build_key(PLAN, INPUTS)


def test_a_synced_repository_means_no_key() -> None:
    assert build_key({**PLAN, "sync": ["overlay"]}, INPUTS) is None


def test_a_repository_a_lock_pins_has_a_key_that_moves_with_its_commit() -> None:
    pinned = {**PLAN, "sync": ["overlay"], "pins": {"overlay": "a" * 40}}
    key = build_key(pinned, INPUTS)
    assert key is not None
    assert build_key({**pinned, "pins": {"overlay": "b" * 40}}, INPUTS) not in (key, None)
    assert build_key({**pinned, "sync": ["overlay", "other"]}, INPUTS) is None


def test_the_key_is_a_label_too() -> None:
    config = with_build_key(ImageConfig(labels={"a": "1"}), "sha256:k")
    assert config.to_dict()["Labels"] == {"a": "1", BUILD_KEY: "sha256:k"}


def dry_run(spec: Path, *extra: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "staves", "build", "-c", str(spec), "--dry-run", *extra],
        capture_output=True,
        text=True,
        check=True,
        cwd=PROJECT,
    )
    return done.stdout


def test_dry_run_says_whether_an_unchanged_build_is_skipped(tmp_path: Path) -> None:
    spec = tmp_path / "staves.toml"
    spec.write_text('name = "hello"\npackages = ["app-misc/hello"]\n')
    assert "rebuild: skipped when every destination holds this build" in dry_run(spec)
    spec.write_text(
        'name = "hello"\npackages = ["app-misc/hello::extra"]\n'
        '[[repositories]]\nname = "extra"\ntype = "git"\nuri = "https://example.org/x.git"\n'
    )
    assert "rebuild: always: repository extra is synced from a branch" in dry_run(spec)
    policy = json.loads(dry_run(spec, "--format", "json"))["rebuild"]
    assert policy == {
        "skip_when_unchanged": False,
        "unpinned_repositories": ["extra"],
        "live_packages": [],
    }
