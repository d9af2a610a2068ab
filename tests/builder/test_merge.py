"""The merge phase's decisions, with Portage's session played by a recording stand-in: a
kept root is updated by one emerge, a fresh root gets skeleton, C library and packages, and
each calculation is judged before anything is merged."""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from staves.builder.merge import LIBC, UPDATE_OPTIONS, Merging, Refused, merge_image
from staves.builder.roots import ImageRoot
from staves.builder.session import Calculation, Planned

ROOT = "/tmp/rootfs/"
LICENSE_PROBLEM = "- app-misc/motd-1.1::gentoo (masked by: FSFAP license(s))\n"


@dataclass
class FakeSession:
    """Answers each emerge with the next scripted calculation, shown to the judge."""

    calculations_to_show: list[Calculation]
    failing: dict[str, str] = field(default_factory=dict)  # atom → problems
    runs: list[list[str]] = field(default_factory=list)
    problems: str = ""
    calculations: int = 0

    def emerge(self, args: list[str], judge: Callable | None = None, quiet: bool = False) -> int:
        self.runs.append(args)
        self.calculations += 1
        self.problems = next((p for atom, p in self.failing.items() if atom in args), "")
        if self.problems:
            return 1
        if judge is not None and "--pretend" not in args:
            judge(self.calculations_to_show.pop(0))
        return 0


def installed(root: Path, *slots: str) -> None:
    for slot in slots:
        cp, _, name = slot.partition(":")
        entry = root / "var/db/pkg" / f"{cp}-1"
        entry.mkdir(parents=True)
        (entry / "SLOT").write_text(f"{name}\n")


def calc(*tasks: tuple[str, str], reached: tuple[str, ...] = ()) -> Calculation:
    return Calculation(
        tuple(Planned(how, cpv, ROOT, "merge") for how, cpv in tasks), frozenset(reached)
    )


def merging(tmp_path: Path, session: FakeSession, reused: bool) -> Merging:
    root = ImageRoot(Path(ROOT.rstrip("/")), tmp_path / "rootfs", reused=reused)
    root.path.mkdir(exist_ok=True)
    return Merging(session, root, ["--usepkg", "--buildpkg"], has_skeleton=True)  # type: ignore[arg-type]


def test_an_up_to_date_kept_root_takes_one_emerge_and_merges_nothing(tmp_path: Path) -> None:
    installed(tmp_path / "rootfs", "app-misc/hello:0")
    session = FakeSession([calc(reached=("app-misc/hello:0",))])
    merged = merge_image(merging(tmp_path, session, reused=True), ["app-misc/hello"], [], False)
    assert merged == [] and session.calculations == 1
    (args,) = session.runs
    assert set(UPDATE_OPTIONS) <= set(args) and args[-3:] == [
        "sys-apps/baselayout",
        LIBC,
        "app-misc/hello",
    ]


def test_a_kept_root_merges_only_what_changed(tmp_path: Path) -> None:
    installed(tmp_path / "rootfs", "app-misc/hello:0")
    change = calc(("binary", "app-misc/hello-1.0"), reached=("app-misc/hello:0",))
    session = FakeSession([change])
    merged = merge_image(merging(tmp_path, session, reused=True), ["app-misc/hello"], [], False)
    assert merged == [("binary", "app-misc/hello-1.0")] and session.calculations == 1


def test_a_package_the_image_no_longer_needs_means_a_fresh_root(tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    installed(root, "app-misc/hello:0", "app-misc/shaper:0")
    skeleton = calc(("binary", "sys-apps/baselayout-2.17"))
    libc = calc(("binary", "sys-libs/glibc-2.36"), ("binary", "virtual/libc-1"))
    hello = calc(("binary", "app-misc/hello-1.0"))
    session = FakeSession([calc(reached=("app-misc/hello:0",)), skeleton, libc, hello])
    m = merging(tmp_path, session, reused=True)
    merged = merge_image(m, ["app-misc/hello"], [], known=True)
    assert not (root / "var/db/pkg").exists()  # shaper went with the old root
    assert merged == [
        ("binary", "sys-apps/baselayout-2.17"),
        ("binary", "sys-libs/glibc-2.36"),
        ("binary", "virtual/libc-1"),
        ("binary", "app-misc/hello-1.0"),
    ]
    # The update, then the skeleton, the C library and the packages into the new root.
    assert [run[-1] for run in session.runs] == [
        "app-misc/hello",
        "sys-apps/baselayout",
        LIBC,
        "app-misc/hello",
    ]


def test_a_fresh_root_checks_licenses_before_anything_is_merged(tmp_path: Path) -> None:
    session = FakeSession([], failing={"app-misc/motd": LICENSE_PROBLEM})
    with pytest.raises(Refused):
        merge_image(merging(tmp_path, session, reused=False), ["app-misc/motd"], [], False)
    (pretend,) = session.runs  # nothing merged
    assert "--pretend" in pretend


def test_a_refused_license_in_a_kept_root_fails_without_starting_afresh(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    session = FakeSession([], failing={"app-misc/motd": LICENSE_PROBLEM})
    with pytest.raises(Refused):
        merge_image(merging(tmp_path, session, reused=True), ["app-misc/motd"], [], False)
    assert len(session.runs) == 1
    assert "app-misc/motd-1.1: its license FSFAP is not accepted" in capsys.readouterr().out


def test_a_changed_environment_is_compiled_anew_even_in_a_kept_root(tmp_path: Path) -> None:
    installed(tmp_path / "rootfs", "app-misc/envprobe:0")
    session = FakeSession(
        [calc(("ebuild", "app-misc/envprobe-1.0"), reached=("app-misc/envprobe:0",))]
    )
    m = merging(tmp_path, session, reused=True)
    merge_image(m, ["app-misc/envprobe"], ["app-misc/envprobe"], False)
    (args,) = session.runs
    assert "--usepkg-exclude=app-misc/envprobe" in args
    assert "--reinstall-atoms=app-misc/envprobe" in args


def test_an_installed_package_the_configuration_now_refuses_means_a_fresh_root(
    tmp_path: Path,
) -> None:
    # Portage keeps an installed package whose license is no longer accepted when nothing
    # else fits; a build from scratch refuses it, before anything is merged.
    installed(tmp_path / "rootfs", "app-misc/motd:0")
    kept = Calculation((), frozenset({"app-misc/motd:0"}), frozenset({"app-misc/motd-1.1"}))
    session = FakeSession([kept], failing={"--pretend": LICENSE_PROBLEM})
    with pytest.raises(Refused):
        merge_image(merging(tmp_path, session, reused=True), ["app-misc/motd"], [], False)
    assert "--pretend" in session.runs[-1]  # the fresh root's license check refused it
