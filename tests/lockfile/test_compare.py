"""How two resolutions differ (lock --check, build --locked, diff), whether a lock still
fits its spec, and the Portage files that hold a build to a lock — checked against
Portage's own visibility rules."""

import hashlib
import os
from dataclasses import replace
from pathlib import Path

import pytest

from staves.lockfile.compare import lock_changes, package_changes
from staves.lockfile.holds import MASK, UNMASK, hold_files
from staves.lockfile.inputs import spec_inputs, stale_problem
from staves.lockfile.model import LockedPackage, LockedPlatform, LockedRepository
from staves.spec import build_plan, loads_spec
from tests.lockfile.test_lockfile import DIGEST, GLIBC, HELLO, OTHER, sample
from tests.portage_support import requires_portage


def test_a_new_version_and_changed_flags_are_named_per_platform() -> None:
    old = sample(LockedPlatform("linux/amd64", DIGEST, (HELLO, GLIBC)))
    newer = replace(HELLO, cpv="app-misc/hello-1.1", use=("debug", "shout"))
    new = sample(LockedPlatform("linux/amd64", DIGEST, (newer, GLIBC)))
    changes = lock_changes(old, new)
    assert not changes.same
    assert changes.inputs == ()
    assert changes.lines() == ["linux/amd64:", "  app-misc/hello 1.0 → 1.1, USE +debug"]
    assert changes.summary() == "app-misc/hello 1.0 → 1.1, USE +debug (linux/amd64)"
    (entry,) = changes.to_dict()["packages"]
    assert (entry["old"]["version"], entry["new"]["version"]) == ("1.0", "1.1")
    assert lock_changes(old, old).same


def test_inputs_that_moved_are_named() -> None:
    old = sample()
    moved = replace(
        old,
        snapshot=replace(old.snapshot, id=OTHER),
        repositories=(old.repositories[0], replace(old.repositories[1], commit="2" * 40)),
        platforms=(*old.platforms, LockedPlatform("linux/arm64", OTHER)),
    )
    lines = lock_changes(old, moved).inputs
    assert f"snapshot {DIGEST[:19]} → {OTHER[:19]}" in lines
    assert f"repository staves-overlay {'1' * 12} → {'2' * 12}" in lines
    assert "platform linux/arm64 added" in lines


def test_packages_of_several_slots_pair_by_slot() -> None:
    python = [
        LockedPackage(f"dev-lang/python-{v}", "gentoo", f"{v[:4]}") for v in ("3.11.9", "3.12.4")
    ]
    bumped = [python[0], LockedPackage("dev-lang/python-3.12.5", "gentoo", "3.12")]
    gone = [python[1]]
    (change,) = package_changes("linux/amd64", python, bumped)
    assert change.describe() == "dev-lang/python 3.12.4 → 3.12.5"
    (change,) = package_changes("linux/amd64", python, gone)
    assert change.describe() == "dev-lang/python removed 3.11.9"
    (change,) = package_changes("linux/amd64", gone, python)
    assert change.describe() == "dev-lang/python added 3.11.9"


def test_what_an_image_cannot_say_is_not_compared() -> None:
    built = [replace(HELLO, slot="", live=False, distfiles=())]
    assert package_changes("linux/amd64", [replace(HELLO, live=True)], built, details=False) == []
    assert package_changes("linux/amd64", [replace(HELLO, live=True)], built) != []


SPEC = 'name = "a"\npackages = ["app-misc/hello"]\ncommand = ["/usr/bin/hello"]\n'


def inputs_of(text: str):  # type: ignore[no-untyped-def]
    return spec_inputs(build_plan(loads_spec(text), 2))


def test_a_lock_goes_stale_with_the_packages_or_portage_settings_not_the_image_config() -> None:
    lock = replace(sample(), spec=inputs_of(SPEC))
    assert stale_problem(lock, inputs_of(SPEC), ["linux/amd64"]) is None
    retagged = SPEC.replace('command = ["/usr/bin/hello"]', 'command = ["/bin/sh"]\nlayers = 3')
    assert stale_problem(lock, inputs_of(retagged), ["linux/amd64"]) is None
    more = SPEC.replace('"app-misc/hello"]', '"app-misc/hello", "app-misc/motd"]')
    assert stale_problem(lock, inputs_of(more), ["linux/amd64"]) == (
        "the spec's packages changed since the lock (+app-misc/motd)"
    )
    flags = SPEC + "['app-misc/hello']\nuse = [\"shout\"]\n"
    assert "Portage settings changed" in str(stale_problem(lock, inputs_of(flags), []))
    assert stale_problem(lock, inputs_of(SPEC), ["linux/arm64"]) == "the lock has no linux/arm64"


def test_the_lock_holds_every_name_at_its_versions() -> None:
    files = hold_files(LockedPlatform("linux/amd64", DIGEST, (HELLO, GLIBC)))
    assert files[MASK].splitlines()[1:] == ["app-misc/hello", "sys-libs/glibc"]
    assert files[UNMASK].splitlines()[1:] == [
        "=app-misc/hello-1.0::gentoo",
        "=sys-libs/glibc-2.36-r1::gentoo",
    ]
    assert inputs_of(SPEC) == spec_inputs(
        {
            **build_plan(loads_spec(SPEC), 2),
            "files": {**build_plan(loads_spec(SPEC), 2)["files"], **files},
        }
    )


def _tree(root: Path, cpvs: list[str]) -> None:
    """A repository ``gentoo`` with these ebuilds (and their md5-cache) and a config root
    whose profile accepts amd64."""
    repo = root / "var/db/repos/gentoo"
    (repo / "profiles/test").mkdir(parents=True)
    (repo / "profiles/repo_name").write_text("gentoo\n")
    (repo / "profiles/categories").write_text("app-misc\ndev-libs\n")
    (repo / "profiles/test/make.defaults").write_text('ARCH="amd64"\nACCEPT_KEYWORDS="amd64"\n')
    (repo / "metadata").mkdir()
    (repo / "metadata/layout.conf").write_text("masters =\ncache-formats = md5-dict\n")
    for cpv in cpvs:
        category, pf = cpv.split("/")
        ebuild = 'EAPI=8\nSLOT="0"\nKEYWORDS="amd64"\n'
        (repo / category / pf.rsplit("-", 1)[0]).mkdir(parents=True, exist_ok=True)
        (repo / category / pf.rsplit("-", 1)[0] / f"{pf}.ebuild").write_text(ebuild)
        md5 = hashlib.md5(ebuild.encode()).hexdigest()
        (repo / "metadata/md5-cache" / category).mkdir(parents=True, exist_ok=True)
        (repo / "metadata/md5-cache" / cpv).write_text(
            f"EAPI=8\nKEYWORDS=amd64\nSLOT=0\n_md5_={md5}\n"
        )
    portage_dir = root / "etc/portage"
    portage_dir.mkdir(parents=True)
    (portage_dir / "make.profile").symlink_to(repo / "profiles/test")
    (portage_dir / "repos.conf").write_text(f"[gentoo]\nlocation = {repo}\n")


@requires_portage
def test_portage_sees_only_the_locked_versions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import portage

    _tree(
        tmp_path,
        [
            "app-misc/hello-1.0",
            "app-misc/hello-1.1",
            "dev-libs/libgreet-1.0",
            "dev-libs/libgreet-2.0",
        ],
    )
    greet = LockedPackage("dev-libs/libgreet-1.0", "gentoo", "0")
    monkeypatch.setenv("PORTAGE_CONFIGROOT", str(tmp_path))

    def visible() -> tuple[str, list[str]]:
        settings = portage.config(config_root=str(tmp_path), target_root=str(tmp_path), eprefix="")
        tree = portage.portdbapi(mysettings=settings)
        return tree.xmatch("bestmatch-visible", "app-misc/hello"), tree.xmatch(
            "match-visible", "dev-libs/libgreet"
        )

    assert visible() == ("app-misc/hello-1.1", ["dev-libs/libgreet-1.0", "dev-libs/libgreet-2.0"])
    for name, text in hold_files(LockedPlatform("linux/amd64", DIGEST, (HELLO, greet))).items():
        (tmp_path / name.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name.lstrip("/")).write_text(text)
    assert visible() == ("app-misc/hello-1.0", ["dev-libs/libgreet-1.0"])
    assert os.environ["PORTAGE_CONFIGROOT"] == str(tmp_path)


def test_repositories_a_lock_pins_are_its_git_ones() -> None:
    lock = replace(
        sample(),
        repositories=(
            LockedRepository("gentoo", "a" * 40),
            LockedRepository("rsynced", "b" * 40, "rsync", "rsync://example.org/r"),
            LockedRepository("overlay", "c" * 40, "git", "https://example.org/o.git"),
        ),
    )
    assert lock.pins == {"overlay": "c" * 40}
