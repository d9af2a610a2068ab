"""What ``staves build``, ``staves lock`` and ``staves diff`` say of a lock before any
container starts: a spec changed since its lock, a lock missing for --locked or --check,
an edited lock, the dry run's live packages and pinned repositories, two locks compared."""

import json
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from staves.cli import main
from staves.lockfile.inputs import spec_inputs
from staves.lockfile.model import Lock, LockedPlatform
from staves.lockfile.toml_text import render_lock
from staves.spec import build_plan, loads_spec
from tests.lockfile.test_lockfile import DIGEST, GLIBC, HELLO, LIVE, sample

SPEC = """
name = "live"
packages = ["app-misc/hello", "app-misc/livehello"]
command = ["/usr/bin/livehello"]

['app-misc/livehello']
keywords = ["**"]

[[repositories]]
name = "staves-overlay"
type = "git"
uri = "https://example.org/o.git"
"""


@pytest.fixture(autouse=True)
def _in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def locked(spec: str = SPEC) -> Lock:
    """A lock of ``spec`` for linux/amd64 (and the host's platform), a live package in it."""
    packages = (HELLO, GLIBC, LIVE)
    platforms = {"linux/amd64", "linux/arm64"}
    return replace(
        sample(*(LockedPlatform(p, DIGEST, packages) for p in sorted(platforms))),
        spec=spec_inputs(build_plan(loads_spec(spec), 1)),
    )


def staves(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def write(tmp_path: Path, spec: str = SPEC, lock: Lock | None = None) -> None:
    (tmp_path / "staves.toml").write_text(spec)
    (tmp_path / "staves.lock").write_text(render_lock(lock or locked(spec)))


def last_line(result: Result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) >= 1
    return lines[-1]


def test_a_spec_changed_since_its_lock_builds_nothing_and_says_run_staves_lock(
    tmp_path: Path,
) -> None:
    write(tmp_path, lock=locked())
    (tmp_path / "staves.toml").write_text(SPEC.replace('"app-misc/hello", ', ""))
    result = staves("build", "--platform", "linux/amd64")
    assert result.exit_code == 1
    assert last_line(result) == (
        "staves.lock: the spec's packages changed since the lock (-app-misc/hello); run staves lock"
    )
    (tmp_path / "staves.toml").write_text(SPEC + "['app-misc/hello']\nuse = [\"shout\"]\n")
    result = staves("build", "--dry-run", "--platform", "linux/amd64")
    assert result.exit_code == 1
    assert "Portage settings changed since the lock" in last_line(result)
    write(tmp_path)
    result = staves("build", "--dry-run", "--platform", "linux/riscv64")
    assert result.exit_code == 1
    assert last_line(result) == "staves.lock: the lock has no linux/riscv64; run staves lock"


def test_locked_and_check_need_a_lock(tmp_path: Path) -> None:
    (tmp_path / "staves.toml").write_text(SPEC)
    result = staves("build", "--locked", "--platform", "linux/amd64")
    assert result.exit_code == 2
    assert last_line(result) == "staves.lock: --locked: no lock beside the spec; run staves lock"
    result = staves("lock", "--check", "--platform", "linux/amd64")
    assert result.exit_code == 1
    assert last_line(result) == "staves.lock: no lock to check; run staves lock"


def test_an_edited_lock_is_one_line(tmp_path: Path) -> None:
    write(tmp_path)
    text = (tmp_path / "staves.lock").read_text().replace("live = true", "live = 1")
    (tmp_path / "staves.lock").write_text(text)
    result = staves("build", "--platform", "linux/amd64")
    assert result.exit_code == 2
    assert last_line(result).startswith("staves.lock: package[")
    assert last_line(result).endswith(
        ".live: is not true or false; run staves lock to write it anew"
    )


def test_the_dry_run_names_the_lock_its_pinned_repositories_and_live_packages(
    tmp_path: Path,
) -> None:
    write(tmp_path)
    result = staves("build", "--dry-run", "--platform", "linux/amd64")
    assert result.exit_code == 0, result.output
    assert "lock: staves.lock" in result.stdout
    assert "pinned_repositories: staves-overlay" in result.stdout
    live = "=app-misc/livehello-9999::staves-overlay"
    assert f"rebuild: always: live packages are built anew: linux/amd64 {live}" in result.stdout
    document = json.loads(staves("build", "--dry-run", "--format", "json").stdout)
    assert document["rebuild"]["unpinned_repositories"] == []
    assert f"linux/amd64 {live}" in document["rebuild"]["live_packages"]
    assert document["settings"]["lock"] == "staves.lock"


def test_diff_of_two_locks_lists_version_and_use_changes_per_platform(tmp_path: Path) -> None:
    old = locked()
    bumped = replace(HELLO, cpv="app-misc/hello-1.1", use=("debug", "shout"))
    new = replace(
        old, platforms=tuple(replace(p, packages=(bumped, GLIBC, LIVE)) for p in old.platforms)
    )
    (tmp_path / "old.lock").write_text(render_lock(old))
    (tmp_path / "new.lock").write_text(render_lock(new))
    result = staves("diff", "old.lock", "new.lock")
    assert result.exit_code == 1
    assert result.stdout == (
        "linux/amd64:\n"
        "  app-misc/hello 1.0 → 1.1, USE +debug\n"
        "linux/arm64:\n"
        "  app-misc/hello 1.0 → 1.1, USE +debug\n"
    )
    document = json.loads(staves("diff", "--format", "json", "old.lock", "new.lock").stdout)
    assert [c["platform"] for c in document["packages"]] == ["linux/amd64", "linux/arm64"]
    same = staves("diff", "old.lock", "old.lock")
    assert (same.exit_code, same.stdout) == (0, "same packages\n")
    page = staves("diff", "--format", "html", "old.lock", "new.lock")
    assert page.exit_code == 2
    assert "--format html compares two images" in last_line(page)
