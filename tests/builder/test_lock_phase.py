"""The in-builder program's lock phase (resolve, merge nothing, record), repositories held
at a lock's commits, and live packages never taken as they are."""

import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from staves.builder import lock
from staves.builder.live import installed_live
from staves.builder.lock import LOCK_ROOT, Resolved, package_record, resolve, use_flags
from staves.builder.merge import Merging, binpkg_options, judge_merges
from staves.builder.pins import checkout_pins
from staves.builder.plan import PlanError, load_plan
from staves.builder.roots import ImageRoot
from staves.builder.session import Calculation, Planned
from tests.builder.plans import plan_for
from tests.conftest import require_tools

HELLO = Planned(
    "ebuild",
    "app-misc/hello-1.0",
    LOCK_ROOT + "/",
    "merge",
    frozenset({"shout", "amd64"}),
    frozenset({"shout", "debug"}),
    "0",
    "gentoo",
)
GENTOOL = Planned("ebuild", "dev-util/gentool-1.0", "/", "merge", slot="0", repo="gentoo")


@dataclass
class FakeSession:
    """Shows the judge one calculation; answers distfiles and repositories."""

    calculation: Calculation
    runs: list[list[str]] = field(default_factory=list)
    problems: str = ""

    def emerge(self, args: list[str], judge: Callable | None = None, quiet: bool = False) -> int:
        self.runs.append(args)
        if judge is not None:
            judge(self.calculation)
        return 0

    def distfiles(self, cpv: str, repo: str, use: frozenset[str], config_root: str) -> list[str]:
        return ["hello-1.0.tar.gz"] if cpv.startswith("app-misc/hello") else []


def test_a_lock_resolves_into_an_empty_root_and_merges_nothing(tmp_path: Path) -> None:
    root = tmp_path / "lock-root"
    hello = replace(HELLO, root=f"{root}/")
    session = FakeSession(Calculation((hello, GENTOOL)))
    tasks = resolve(session, ["app-misc/hello"], skeleton=True, root=str(root))  # type: ignore[arg-type]
    assert tasks == [hello]  # the builder's build dependency is not the image's
    (args,) = session.runs
    assert "--pretend" not in args and "--usepkg" not in args  # from ebuilds, judged
    assert args[-3:] == ["sys-apps/baselayout", "virtual/libc", "app-misc/hello"]
    assert f"--root={root}" in args
    assert root.is_dir() and not any(root.iterdir())


def test_each_package_has_every_flag_on_or_off_and_its_manifest_distfiles(
    tmp_path: Path,
) -> None:
    assert use_flags(HELLO) == ["-debug", "shout"]
    (tmp_path / "app-misc/hello").mkdir(parents=True)
    (tmp_path / "app-misc/hello/Manifest").write_text(
        f"DIST hello-1.0.tar.gz 42 BLAKE2B {'a' * 128} SHA512 {'b' * 128}\n"
    )
    record = package_record(FakeSession(Calculation(())), HELLO, {"gentoo": str(tmp_path)})  # type: ignore[arg-type]
    assert record == {
        "cpv": "app-misc/hello-1.0",
        "repository": "gentoo",
        "slot": "0",
        "use": ["-debug", "shout"],
        "live": False,
        "distfiles": [
            {
                "name": "hello-1.0.tar.gz",
                "size": 42,
                "digests": {"BLAKE2B": "a" * 128, "SHA512": "b" * 128},
            }
        ],
    }


def test_the_lock_phase_writes_its_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record_file = tmp_path / "lock.json"
    snapshot = tmp_path / "gentoo"
    (snapshot / "metadata").mkdir(parents=True)
    (snapshot / "metadata/timestamp.commit").write_text("6828cc6a 1795999501 Mon\n")
    monkeypatch.setattr(lock, "LOCK_FILE", str(record_file))
    monkeypatch.setattr(lock, "REPO_PATH", str(snapshot))
    monkeypatch.setattr(lock, "LOCK_ROOT", str(tmp_path / "root"))

    class Session(FakeSession):
        def repositories(self, config_root: str = "/") -> dict[str, str]:
            return {"gentoo": str(snapshot)}

    live = Planned(
        "ebuild",
        "app-misc/livehello-9999",
        str(tmp_path / "root") + "/",
        "merge",
        slot="0",
        repo="gentoo",
        live=True,
    )
    session = Session(Calculation((live,)))
    monkeypatch.setattr(lock, "resolve", lambda s, p, k: [live])
    assert (
        lock.lock_image(
            load_plan(json.dumps(plan_for('name = "x"\npackages = ["app-misc/livehello"]\n'))),
            session,
        )
        == 0
    )  # type: ignore[arg-type]
    written = json.loads(record_file.read_text())
    assert written["timestamp_commit"] == "6828cc6a"
    assert written["repositories"] == [{"name": "gentoo", "revision": "6828cc6a"}]
    assert [(p["cpv"], p["live"]) for p in written["packages"]] == [
        ("app-misc/livehello-9999", True)
    ]


def test_the_lock_task_and_pins_are_part_of_the_plan() -> None:
    plan = plan_for('name = "x"\npackages = ["app-misc/hello"]\n')
    assert load_plan(json.dumps(plan))["pins"] == {}
    assert (
        load_plan(json.dumps({**plan, "task": "lock", "pins": {"o": "a" * 40}}))["task"] == "lock"
    )


def test_live_packages_are_never_taken_from_binary_packages_or_the_builder(
    tmp_path: Path,
) -> None:
    assert "--usepkg-exclude-live=y" in binpkg_options({"getbinpkg": False})
    root = ImageRoot(tmp_path / "rootfs", tmp_path / "rootfs")
    merging = Merging(None, root, [], has_skeleton=False, builder_reuse="/pkgdir")  # type: ignore[arg-type]
    target = str(root.where) + "/"
    live = Planned("ebuild", "app-misc/livehello-9999", target, "merge", live=True)
    judge_merges(merging, kept=False, drift=False)(Calculation((live,)))
    assert merging.merged == [("ebuild", "app-misc/livehello-9999")]


def test_a_kept_roots_live_packages_are_found_by_their_properties(tmp_path: Path) -> None:
    for cpv, properties in (
        ("app-misc/livehello-9999", "live"),
        ("app-misc/hello-1.0", ""),
        ("dev-libs/other-9999", "interactive live"),
    ):
        entry = tmp_path / "var/db/pkg" / cpv
        entry.mkdir(parents=True)
        if properties:
            (entry / "PROPERTIES").write_text(properties + "\n")
    assert installed_live(tmp_path) == ["app-misc/livehello", "dev-libs/other"]


def _git(repo: Path, *args: str) -> str:
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@localhost"]
    return subprocess.run([*git, *args], check=True, capture_output=True, text=True).stdout


@pytest.mark.tools
def test_a_pinned_repository_is_checked_out_at_its_commit_after_the_branch_moved(
    tmp_path: Path,
) -> None:
    require_tools("git")
    upstream = tmp_path / "upstream"
    upstream.mkdir()
    _git(upstream, "init", "-q", "-b", "main")
    (upstream / "file").write_text("locked\n")
    _git(upstream, "add", "file")
    _git(upstream, "commit", "-qm", "one")
    locked = _git(upstream, "rev-parse", "HEAD").strip()
    (upstream / "file").write_text("moved\n")
    _git(upstream, "commit", "-qam", "two")
    clone = tmp_path / "clone"
    # As Portage's git sync clones: the branch's head alone.
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{upstream}", str(clone)], check=True
    )
    plan = {"pins": {"overlay": locked}}
    assert checkout_pins(plan, {"overlay": str(clone)}) == 0
    assert (clone / "file").read_text() == "locked\n"
    assert checkout_pins({"pins": {"overlay": "f" * 40}}, {"overlay": str(clone)}) == 1
    assert checkout_pins(plan, {"overlay": str(tmp_path)}) == 1  # not a git repository
    with pytest.raises(PlanError):
        checkout_pins({"pins": {"overlay": "--upload-pack=x"}}, {"overlay": str(clone)})
    assert isinstance(Resolved(Calculation(())), Exception)
