"""Merge phase: the image root brought to what the spec asks, in one Portage session.

A root kept from the image's last build is updated by one emerge (one dependency
calculation): only what changed is merged. A fresh root gets the skeleton (baselayout,
USE=build) and the C library first, then the packages. Every calculation is judged before
anything is merged: the licenses it refuses, the builder's libraries that would drift from
the image's (brought level first), the packages a kept root no longer needs (the root is
then built afresh, so that it holds what a build from scratch would).
"""

import sys
from dataclasses import dataclass, field

from .builder_packages import pack_from_builder, reusable
from .configure import BASELAYOUT
from .console import fail, say
from .events import record
from .failures import report_failure
from .places import IMAGE_CONFIG_ROOT
from .resolve import drifting_build_libraries, left_behind, license_refusals
from .roots import ImageRoot
from .session import Calculation, Judge, Session, Stop
from .user_patches import is_patched

LIBC = "virtual/libc"
# What brings a kept root to what a build from scratch would merge: newer versions, USE
# flags and dependencies that changed, all the way down the image's dependencies.
UPDATE_OPTIONS = ("--update", "--deep", "--changed-use", "--changed-deps=y")


class UpdateBuilder(Stop):
    """The builder needs these packages at the image's versions before anything compiles."""

    def __init__(self, atoms: list[str]) -> None:
        super().__init__(" ".join(atoms))
        self.atoms = atoms


class RenewRoot(Stop):
    """The kept root cannot become what a build from scratch gives by an update."""


class TakeFromBuilder(Stop):
    """The builder has packages the image would compile, built as the image would."""

    def __init__(self, cpvs: list[str]) -> None:
        super().__init__(" ".join(cpvs))
        self.cpvs = cpvs


class UpToDate(Stop):
    """Nothing changes in the image root. What the calculation would merge into the
    builder alone (install-time dependencies of installed packages) is not needed."""


class CalculationFailed(Exception):
    """emerge found no way to merge what was asked; ``problems`` is its explanation."""

    def __init__(self, problems: str) -> None:
        super().__init__(problems)
        self.problems = problems


class Refused(Exception):
    """The build stops here; the reason was said (``fail``)."""


def binpkg_options(plan: dict) -> list[str]:
    """Binary packages are used whenever they fit, but never for a live package (its
    upstream may have moved), and every package built is kept as one; with ``getbinpkg``,
    every emerge into either root fetches what its binhosts have."""
    fetch = ["--getbinpkg"] if plan["getbinpkg"] else []
    return ["--usepkg", "--usepkg-exclude-live=y", "--buildpkg", *fetch]


@dataclass
class Merging:
    """One build's merges into its image root, and what they merged."""

    session: Session
    root: ImageRoot
    options: list[str]
    has_skeleton: bool  # the repositories have baselayout
    # Where the builder's own packages may stand in for the image's (builder_packages),
    # the image's partition; None: never.
    builder_reuse: str | None = None
    config_root: str = IMAGE_CONFIG_ROOT
    merged: list[tuple[str, str]] = field(default_factory=list)  # (how, cpv), in order
    from_builder: list[str] = field(default_factory=list)  # packed from the builder
    builder_tried: set[str] = field(default_factory=set)  # asked of the builder already
    patched: frozenset[str] = frozenset()  # user patches' directories: never the builder's

    @property
    def target(self) -> str:
        return str(self.root.where)

    def image_args(self, atoms: list[str]) -> list[str]:
        where = [f"--config-root={self.config_root}", f"--root={self.target}"]
        return [*self.options, *where, *atoms]


def emerge(session: Session, args: list[str], judge: Judge | None = None) -> None:
    """One emerge; a failure ends the build, naming the package that failed."""
    code = session.emerge(["--color=n", "--verbose", "--quiet-build=n", *args], judge)
    if code != 0:
        if session.problems:
            raise CalculationFailed(session.problems)
        sys.exit(report_failure(code))


def refuse(problems: str) -> Refused:
    """The failure line for a calculation that failed, naming a refused license first."""
    refused = license_refusals(problems)
    if not refused:
        fail("emerge cannot install what the image needs; see above")
        return Refused()
    package, licenses = refused[0]
    more = f" (and {len(refused) - 1} more, listed above)" if len(refused) > 1 else ""
    fail(
        f"{package}: its license {licenses} is not accepted{more}; "
        "accept it with accept_license or the package's license in the spec"
    )
    return Refused()


def judge_merges(merging: Merging, kept: bool, drift: bool = True) -> Judge:
    """What is checked of each calculation before its merge list is merged: in a kept
    root, packages left behind (a fresh root then) or nothing to do; packages the builder
    can give; the builder's libraries, when something is compiled against them."""

    def judge(calculation: Calculation) -> None:
        if kept:
            gone = left_behind(merging.root.path, calculation.reached)
            gone += [t.cpv for t in calculation.tasks if t.operation == "uninstall"]
            if gone:
                raise RenewRoot(f"the image no longer needs {' '.join(gone)}")
            if calculation.refused:
                refused = " ".join(sorted(calculation.refused))
                raise RenewRoot(f"the image's configuration no longer accepts {refused}")
        compiled = [t for t in calculation.tasks_into(merging.target) if t.how == "ebuild"]
        if merging.builder_reuse:
            untried = [t for t in compiled if t.cpv not in merging.builder_tried]
            merging.builder_tried.update(t.cpv for t in untried)
            untried = [t for t in untried if not is_patched(t.cpv, merging.patched)]
            if taken := [t.cpv for t in untried if not t.live and reusable(t.cpv, t.use, t.iuse)]:
                raise TakeFromBuilder(taken)
        merges = calculation.merges_into(merging.target)
        if compiled and drift:
            say("checking the builder's libraries against the image's before compiling")
            held = calculation.held or {cpv for _, cpv in merges}
            if drifting := drifting_build_libraries(held):
                raise UpdateBuilder(drifting)
        elif drift:
            say("nothing to compile: no drift check needed")
        if kept and not merges:
            raise UpToDate("the kept root is up to date")
        merging.merged.extend(merges)

    return judge


def merge_judged(merging: Merging, atoms: list[str], kept: bool, drift: bool = True) -> None:
    """Emerge ``atoms`` into the image root. When the builder has packages to give first,
    or must be brought level with the image (``drift``), do that and calculate again (once
    each)."""
    judge = judge_merges(merging, kept, drift)
    done: set[type] = set()
    while True:
        try:
            emerge(merging.session, merging.image_args(atoms), judge)
            return
        except TakeFromBuilder as take:
            if merging.builder_reuse and pack_from_builder(take.cpvs, merging.builder_reuse):
                merging.from_builder.extend(take.cpvs)
            else:
                merging.builder_reuse = None
        except UpdateBuilder as update:
            if UpdateBuilder in done:
                raise
            done.add(UpdateBuilder)
            say("the builder's copies of libraries the image gets, at the image's versions")
            emerge(merging.session, [*merging.options, "--oneshot", *update.atoms])


def env_options(env_atoms: list[str], kept: bool) -> list[str]:
    """Packages whose environment changed are compiled anew (and, in a kept root,
    replaced although installed as they are)."""
    if not env_atoms:
        return []
    atoms = " ".join(env_atoms)
    return [f"--usepkg-exclude={atoms}", *([f"--reinstall-atoms={atoms}"] if kept else [])]


def update_kept_root(merging: Merging, packages: list[str], env_atoms: list[str]) -> None:
    """One emerge, one dependency calculation: the kept root brought to the spec."""
    skeleton = [BASELAYOUT] if merging.has_skeleton else []
    atoms = [*UPDATE_OPTIONS, "--oneshot", *env_options(env_atoms, kept=True)]
    atoms += [*skeleton, LIBC, *packages]
    say(f"packages into {merging.target}, updating what changed")
    try:
        merge_judged(merging, atoms, kept=True)
    except UpToDate as nothing:
        say(f"{nothing}: nothing to merge")
    except CalculationFailed as failed:
        if license_refusals(failed.problems):  # the same in any root
            raise refuse(failed.problems) from failed
        raise RenewRoot("the kept root could not be updated") from failed


def refuse_unaccepted_licenses(merging: Merging, packages: list[str]) -> None:
    """Before anything is merged into a fresh root: fail, naming the package and its
    license, when the image's ACCEPT_LICENSE refuses a package the image needs. Any other
    reason emerge has to stop is left to the merges, which explain it."""
    say("checking the licenses of what the image needs")
    args = ["--color=n", "--pretend", "--quiet", "--oneshot"]
    args += merging.image_args([BASELAYOUT, LIBC, *packages])
    if merging.session.emerge(args, quiet=True) != 0:
        problems = merging.session.problems
        if license_refusals(problems):
            print(problems, flush=True)
            raise refuse(problems)


def build_fresh_root(
    merging: Merging, packages: list[str], env_atoms: list[str], known: bool
) -> None:
    """Skeleton, C library, packages into an empty root."""
    if not known:
        refuse_unaccepted_licenses(merging, packages)
    if merging.has_skeleton:
        say(f"the filesystem skeleton ({BASELAYOUT}, USE=build) into {merging.target}")
        merge_judged(merging, ["--oneshot", BASELAYOUT], kept=False, drift=False)
    else:
        say(f"the repositories have no {BASELAYOUT}; the root gets no filesystem skeleton")
    # Portage adds ">=" the root's libc provider to every binary package's RDEPEND, and
    # tells a binary package's dependencies unchanged only by stripping the libc provider
    # it finds installed in the root when it starts calculating: in an empty root it finds
    # none, and every binary package would look built against other dependencies.
    say(f"the C library into {merging.target}")
    merge_judged(merging, ["--oneshot", LIBC], kept=False, drift=False)
    say(f"packages into {merging.target}")
    atoms = ["--oneshot", *env_options(env_atoms, kept=False), *packages]
    merge_judged(merging, atoms, kept=False)


def merge_image(
    merging: Merging, packages: list[str], env_atoms: list[str], known: bool
) -> list[tuple[str, str]]:
    """The image root brought to the spec; (how, cpv) of every package merged into it."""
    if merging.root.reused:
        try:
            update_kept_root(merging, packages, env_atoms)
            return merging.merged
        except RenewRoot as why:
            say(f"{why}: building the root afresh")
            record("note", text=f"{why}: building the image root afresh")
            merging.root.renew()
            merging.merged.clear()
    try:
        build_fresh_root(merging, packages, env_atoms, known)
    except CalculationFailed as failed:
        raise refuse(failed.problems) from failed
    return merging.merged
