"""``staves lock`` end to end against the test repository and overlay: a lock holds a
build to its versions while a newer snapshot moves on (``--locked`` and ``lock --check``
say so, ``staves lock`` moves it); a repository the lock pins builds the same after its
branch moves, and an unchanged build of it is skipped; a live package is built anew by
every build and follows its upstream's branch; one lock for amd64 and arm64.

Every test builds on the module's copy of the seed cache (hello and its dependencies are
binary packages there): what compiles is what the test is about (hello 1.1 of the newer
snapshot, the overlay's packages)."""

import json
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from staves.lockfile.model import Lock
from staves.lockfile.read import read_lock
from tests.builder_fixtures import (
    BUILDER,
    PORTAGE,
    Build,
    Builder,
    builder,
    overlay_git_server,
    podman,
    test_images,
)
from tests.conftest import require_tools
from tests.run_shared import run_labels
from tests.test_platforms_e2e import require_arm64

pytestmark = [pytest.mark.builder, pytest.mark.podman]
__all__ = ["builder", "test_images"]  # fixtures used by name

HELLO = """
name = "localhost/staves-test/locked-hello"
packages = ["app-misc/hello"]
command = ["/usr/bin/hello"]
"""


@dataclass
class Project:
    """A directory holding staves.toml (and its staves.lock), built with the test images
    on the module's cache volume."""

    directory: Path
    cache: str

    @property
    def spec(self) -> Path:
        return self.directory / "staves.toml"

    def staves(
        self, command: str, *args: str, portage: str = PORTAGE
    ) -> subprocess.CompletedProcess[str]:
        images = ["--builder", BUILDER, "--portage", portage, "--build-cache", self.cache]
        return subprocess.run(
            ["staves", command, "-c", str(self.spec), *images, *args],
            capture_output=True,
            text=True,
            check=False,
        )

    def lock(self, *args: str, portage: str = PORTAGE) -> Lock:
        done = self.staves("lock", *args, portage=portage)
        assert done.returncode == 0, done.stderr[-3000:]
        found = read_lock(self.directory / "staves.lock")
        assert found is not None
        return found

    def build(self, name: str, *args: str, portage: str = PORTAGE) -> Build:
        layout = self.directory / name
        work = self.directory / f"files-{uuid.uuid4().hex[:8]}"  # its log and metadata
        work.mkdir()
        files = [
            "--log-file",
            str(work / "build.log"),
            "--metadata-file",
            str(work / "metadata.json"),
        ]
        done = self.staves("build", "-o", f"oci:{layout}:t", *files, *args, portage=portage)
        return Build(done, layout, 0, work)


def versions(lock: Lock, platform: str = "linux/amd64") -> dict[str, str]:
    found = lock.platform(platform)
    assert found is not None
    return {p.name: p.version for p in found.packages}


def image_packages(build: Build) -> dict[str, str]:
    shown = subprocess.run(
        ["staves", "inspect", "--format", "json", build.image],
        capture_output=True,
        text=True,
        check=True,
    )
    return {p["name"]: p["version"] for p in json.loads(shown.stdout)["packages"]}


def last_line(done: subprocess.CompletedProcess[str]) -> str:
    return done.stderr.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def newer_snapshot(test_images: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The test snapshot with app-misc/hello 1.1 beside 1.0 (its md5-cache entry the
    same, the ebuild being the same) and a timestamp.commit of its own, as the next day's
    snapshot would have it."""
    require_tools("podman")
    work = tmp_path_factory.mktemp("newer-snapshot")
    reader = f"staves-test-reader-{uuid.uuid4().hex[:8]}"
    made = podman("create", "--image-volume=ignore", "--name", reader, PORTAGE, "/none")
    assert made.returncode == 0, made.stderr
    try:
        cache = "/var/db/repos/gentoo/metadata/md5-cache/app-misc/hello-1.0"
        copied = podman("cp", f"{reader}:{cache}", str(work / "hello-1.1"))
        assert copied.returncode == 0, copied.stderr
    finally:
        podman("rm", "-f", reader)
    repo = Path(__file__).parent / "testbed" / "repo"
    shutil.copy(repo / "app-misc/hello/hello-1.0.ebuild", work / "hello-1.1.ebuild")
    commit = "1" * 40
    (work / "timestamp.commit").write_text(f"{commit} 1796086800 Tue, 01 Dec 2026 00:00:00 +0000\n")
    tree = "/var/db/repos/gentoo"
    (work / "Containerfile").write_text(
        f"FROM {PORTAGE}\n"
        f"COPY hello-1.1.ebuild {tree}/app-misc/hello/hello-1.1.ebuild\n"
        f"COPY hello-1.1 {tree}/metadata/md5-cache/app-misc/hello-1.1\n"
        f"COPY timestamp.commit {tree}/metadata/timestamp.commit\n"
    )
    name = f"localhost/staves-test-lock-{uuid.uuid4().hex[:8]}/portage:newer"
    built = podman(
        "build", "-q", *run_labels(), "-f", str(work / "Containerfile"), "-t", name, str(work)
    )
    assert built.returncode == 0, built.stderr
    try:
        yield name
    finally:
        podman("rmi", "-f", name)


def test_a_lock_holds_the_build_while_the_snapshot_moves_until_staves_lock_moves_it(
    builder: Builder, newer_snapshot: str, tmp_path: Path
) -> None:
    project = Project(tmp_path, builder.cache)
    project.spec.write_text(HELLO)
    lock = project.lock()
    assert versions(lock)["app-misc/hello"] == "1.0"
    assert lock.timestamp_commit == "6828cc6a6941be646bc97be23cd92738a444c84b"
    platform = lock.platform("linux/amd64")
    assert platform is not None and not platform.live
    assert {p.atom for p in platform.packages} >= {
        "=app-misc/hello-1.0::gentoo",
        "=dev-libs/libgreet-1.0::gentoo",
        "=virtual/libc-1-r1::gentoo",
    }
    shutil.copy(tmp_path / "staves.lock", tmp_path / "before.lock")

    check = project.staves("lock", "--check", "--format", "json", portage=newer_snapshot)
    assert check.returncode == 1, check.stderr[-2000:]
    changes = json.loads(check.stdout)["changes"]
    (hello,) = changes["packages"]
    assert (hello["name"], hello["changes"]) == ("app-misc/hello", ["1.0 → 1.1"])
    assert any(
        line.startswith("repository gentoo 6828cc6a6941 → 111111111111")
        for line in changes["inputs"]
    )
    assert (tmp_path / "staves.lock").read_text() == (tmp_path / "before.lock").read_text()

    held = project.build("held", portage=newer_snapshot)
    assert held.proc.returncode == 0, held.log[-3000:]
    assert "building from the lock's snapshot" in held.log
    assert image_packages(held)["app-misc/hello"] == "1.0"
    assert held.run() == "Hello World!\n"

    strict = project.build("strict", "--locked", portage=newer_snapshot)
    assert strict.proc.returncode == 1
    assert "--locked: the lock is out of date: app-misc/hello 1.0 → 1.1 (linux/amd64)" in last_line(
        strict.proc
    )
    assert last_line(strict.proc).endswith(
        "run staves lock (staves lock --check lists every change)"
    )
    assert not strict.layout.exists()

    moved = project.lock(portage=newer_snapshot)
    assert versions(moved)["app-misc/hello"] == "1.1"
    assert moved.snapshot.id != lock.snapshot.id
    diff = subprocess.run(
        ["staves", "diff", str(tmp_path / "before.lock"), str(tmp_path / "staves.lock")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert diff.returncode == 1
    assert "linux/amd64:\n  app-misc/hello 1.0 → 1.1\n" in diff.stdout

    bumped = project.build("bumped", "--locked", portage=newer_snapshot)
    assert bumped.proc.returncode == 0, bumped.log[-3000:]
    assert "--locked: the snapshot and builders are the lock's; it is up to date" in bumped.log
    assert image_packages(bumped)["app-misc/hello"] == "1.1"


def commit_all(repo: Path, message: str) -> str:
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@localhost"]
    subprocess.run([*git, "commit", "-qam", message], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
    return head.stdout.strip()


def test_a_repository_the_lock_pins_builds_the_same_after_its_branch_moves_and_is_skipped(
    builder: Builder, tmp_path: Path
) -> None:
    project = Project(tmp_path, builder.cache)
    with overlay_git_server(tmp_path / "git") as uri:
        project.spec.write_text(
            'name = "localhost/staves-test/locked-overlay"\n'
            'packages = ["app-misc/overlay-hello"]\ncommand = ["/usr/bin/overlay-hello"]\n'
            f'[[repositories]]\nname = "staves-overlay"\ntype = "git"\nuri = "{uri}"\n'
        )
        # The git server listens on the host's loopback: the builder shares its network.
        lock = project.lock("--network", "host")
        (pinned,) = [r for r in lock.repositories if r.name == "staves-overlay"]
        assert lock.pins == {"staves-overlay": pinned.commit}
        source = tmp_path / "git/overlay.git/app-misc/overlay-hello/files/overlay.c"
        source.write_text(source.read_text().replace("from the overlay", "from the moved overlay"))
        moved = commit_all(tmp_path / "git/overlay.git", "the branch moves on")

        first = project.build("image", "--network", "host")
        assert first.proc.returncode == 0, first.log[-3000:]
        assert f"repository staves-overlay at {pinned.commit}, as the lock pins it" in first.log
        assert first.run() == "hello from the overlay\n"
        again = project.build("image", "--network", "host")
        assert again.proc.returncode == 0, again.log[-3000:]
        assert "unchanged: every destination holds this build" in again.log
        assert "no container started" in again.log

        check = project.staves("lock", "--check", "--network", "host")
        assert check.returncode == 1
        assert f"repository staves-overlay {pinned.commit[:12]} → {moved[:12]}" in check.stdout


def test_a_live_package_is_built_anew_by_every_build_from_its_upstreams_branch(
    builder: Builder, tmp_path: Path
) -> None:
    project = Project(tmp_path, builder.cache)
    with overlay_git_server(tmp_path / "git") as overlay:
        upstream = tmp_path / "git" / "livehello.git"
        upstream.mkdir()
        (upstream / "livehello.c").write_text(
            '#include <stdio.h>\nint main(void) { puts("live 1"); return 0; }\n'
        )
        git = ["git", "-C", str(upstream), "-c", "user.name=t", "-c", "user.email=t@localhost"]
        for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "one"]):
            subprocess.run([*git, *args], check=True)
        project.spec.write_text(
            'name = "localhost/staves-test/live"\n'
            'packages = ["app-misc/livehello"]\ncommand = ["/usr/bin/livehello"]\n'
            '[\'app-misc/livehello\']\nkeywords = ["**"]\nenv = ["upstream"]\n'
            "[env.upstream]\n"
            f'EGIT_OVERRIDE_REPO_LIVEHELLO = "{overlay.removesuffix("overlay.git")}livehello.git"\n'
            f'[[repositories]]\nname = "staves-overlay"\ntype = "git"\nuri = "{overlay}"\n'
        )
        lock = project.lock("--network", "host")
        platform = lock.platform("linux/amd64")
        assert platform is not None
        assert [p.atom for p in platform.live] == ["=app-misc/livehello-9999::staves-overlay"]
        dry = project.staves("build", "--dry-run", "--format", "json")
        assert json.loads(dry.stdout)["rebuild"]["skip_when_unchanged"] is False

        first = project.build("image", "--network", "host")
        assert first.proc.returncode == 0, first.log[-3000:]
        assert first.run() == "live 1\n"
        assert first.manifest()["annotations"]["io.staves.live"] == "app-misc/livehello-9999"
        assert "io.staves.build-key" not in first.manifest()["annotations"]

        (upstream / "livehello.c").write_text(
            (upstream / "livehello.c").read_text().replace("live 1", "live 2")
        )
        commit_all(upstream, "upstream moves on")
        second = project.build("image", "--network", "host")
        assert second.proc.returncode == 0, second.log[-3000:]
        assert "staves.skipped" not in second.metadata()  # built, not skipped as unchanged
        assert "live packages, fetched and compiled anew: app-misc/livehello" in second.log
        assert second.run() == "live 2\n"


def test_one_lock_for_amd64_and_arm64_from_one_snapshot(builder: Builder, tmp_path: Path) -> None:
    require_arm64()
    project = Project(tmp_path, builder.cache)
    project.spec.write_text(HELLO + 'platforms = ["linux/amd64", "linux/arm64"]\n')
    lock = project.lock("--format", "json")
    assert [p.platform for p in lock.platforms] == ["linux/amd64", "linux/arm64"]
    amd64, arm64 = lock.platforms
    assert amd64.builder_id != arm64.builder_id
    assert versions(lock, "linux/amd64") == versions(lock, "linux/arm64")
    assert "app-misc/hello" in versions(lock, "linux/arm64")
    dry = project.staves("build", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "lock: " in dry.stdout
