"""--progress, -q and -v as every command takes them (before or after its name), and the
files ``pack`` writes for machines: --metadata-file and --iidfile."""

import json
import re
from pathlib import Path

from staves.progress.setup import KEPT_LOGS, default_log_path, logs_directory
from tests.helpers import staves


def rootfs(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "hello").write_text("hi\n")
    return root


def test_quiet_before_or_after_the_command_leaves_the_digest_alone(tmp_path: Path) -> None:
    root = rootfs(tmp_path)
    after = staves("pack", "--rootfs", root, "-o", f"oci:{tmp_path}/a:t", "-q")
    before = staves("-q", "pack", "--rootfs", root, "-o", f"oci:{tmp_path}/b:t")
    spelled = staves("pack", "--rootfs", root, "-o", f"oci:{tmp_path}/c:t", "--progress=quiet")
    for proc in (after, before, spelled):
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr == ""
        assert re.fullmatch(r"sha256:[0-9a-f]{64}\n", proc.stdout)
    assert after.stdout == before.stdout == spelled.stdout


def test_plain_progress_is_a_timed_line_per_event(tmp_path: Path) -> None:
    proc = staves("pack", "--rootfs", rootfs(tmp_path), "-o", f"oci:{tmp_path}/a:t")
    assert proc.returncode == 0, proc.stderr  # stderr is no terminal here: plain
    lines = proc.stderr.splitlines()
    assert re.fullmatch(rf" *\d+\.\ds  wrote oci:{tmp_path}/a:t", lines[0]), lines
    assert re.fullmatch(r" *\d+\.\ds  done in \d+\.\d s", lines[-1]), lines
    assert "\x1b" not in proc.stderr


def test_an_unknown_progress_mode_is_a_usage_error(tmp_path: Path) -> None:
    proc = staves(
        "pack", "--rootfs", rootfs(tmp_path), "-o", f"oci:{tmp_path}/a", "--progress", "fancy"
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("staves: error: --progress: ")
    assert "'auto', 'tty', 'plain', 'quiet'" in proc.stderr and len(proc.stderr.splitlines()) == 1


def test_pack_writes_its_metadata_and_image_id(tmp_path: Path) -> None:
    meta, iid = tmp_path / "meta.json", tmp_path / "iid"
    proc = staves(
        "pack",
        "--rootfs",
        rootfs(tmp_path),
        "-t",
        "app:1",
        "-o",
        f"oci:{tmp_path}/a:t",
        "--metadata-file",
        meta,
        "--iidfile",
        iid,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(meta.read_text())
    assert data["containerimage.digest"] == proc.stdout.strip()
    assert data["image.name"] == "app:1"
    assert data["staves.destinations"] == [f"oci:{tmp_path}/a:t"]
    (platform,) = data["staves.platforms"].values()
    index = json.loads((tmp_path / "a" / "index.json").read_text())
    manifest_digest = index["manifests"][0]["digest"]
    manifest = json.loads((tmp_path / "a/blobs/sha256" / manifest_digest[7:]).read_text())
    assert platform["digest"] == manifest_digest
    assert [layer["digest"] for layer in platform["layers"]] == [
        layer["digest"] for layer in manifest["layers"]
    ]
    assert iid.read_text() == manifest["config"]["digest"] == data["containerimage.config.digest"]


def test_a_metadata_file_that_cannot_be_written_fails_before_anything_is(tmp_path: Path) -> None:
    proc = staves(
        "pack",
        "--rootfs",
        rootfs(tmp_path),
        "-o",
        f"oci:{tmp_path}/a:t",
        "--metadata-file",
        tmp_path / "no" / "such" / "dir" / "m.json",
    )
    assert proc.returncode == 2 and proc.stderr.startswith("staves: error: --metadata-file: ")
    assert not (tmp_path / "a").exists()


def test_logs_go_under_the_xdg_state_directory_and_the_oldest_go(tmp_path: Path) -> None:
    from datetime import datetime, timedelta

    environ = {"HOME": str(tmp_path)}
    assert logs_directory(environ) == tmp_path / ".local/state/staves/logs"
    assert logs_directory({"XDG_STATE_HOME": "/s", "HOME": "/h"}) == Path("/s/staves/logs")
    assert logs_directory({}) is None
    start = datetime(2026, 1, 2, 3, 4, 5)
    made = []
    for n in range(KEPT_LOGS + 3):
        path = default_log_path(environ, "ghcr.io/x/app:1", start + timedelta(seconds=n))
        assert path is not None
        path.write_text("log")
        made.append(path)
    assert made[0].name == "build-20260102T030405.000000-ghcr.io-x-app-1.log"
    kept = sorted((tmp_path / ".local/state/staves/logs").iterdir())
    assert kept == made[-KEPT_LOGS:]
