"""Lock phase (``staves lock``): what the image of the spec would hold, resolved by one
dependency calculation into an empty root, as a build from scratch would merge it — and
nothing merged. Written for the host (``LOCK_FILE``): each package with its repository,
slot, effective USE flags, whether it is live, and its distfiles with the sizes and
digests of its repository's Manifest; each repository with its revision."""

import glob
import json
from pathlib import Path

from .configure import BASELAYOUT
from .console import say
from .merge import LIBC, CalculationFailed, binpkg_options, emerge, refuse
from .pins import checkout_pins
from .places import IMAGE_CONFIG_ROOT
from .plan import PlanError
from .protocol import LOCK_FILE, REPO_PATH
from .record import manifest_distfiles, repository_revision
from .resolve import cpv_name
from .session import Calculation, Planned, Session, Stop
from .sync import install_sync_tools, sync_repositories

# The empty root the calculation is for; nothing is ever merged into it.
LOCK_ROOT = "/tmp/staves-lock-root"


class Resolved(Stop):
    """The calculation is all a lock needs: stop before anything is merged."""

    def __init__(self, calculation: Calculation) -> None:
        super().__init__("resolved")
        self.calculation = calculation


def resolve(
    session: Session, packages: list[str], skeleton: bool, root: str = LOCK_ROOT
) -> list[Planned]:
    """The packages a fresh image root gets for ``packages`` (with the skeleton and the C
    library, as a build merges them), from ebuilds alone: a lock names versions, not
    binary packages."""
    Path(root).mkdir(parents=True, exist_ok=True)

    def judge(calculation: Calculation) -> None:
        raise Resolved(calculation)

    atoms = [*([BASELAYOUT] if skeleton else []), LIBC, *packages]
    args = ["--oneshot", f"--config-root={IMAGE_CONFIG_ROOT}", f"--root={root}", *atoms]
    try:
        emerge(session, args, judge)
    except Resolved as done:
        return done.calculation.tasks_into(root)
    raise PlanError("emerge resolved nothing to lock")


def use_flags(task: Planned) -> list[str]:
    """The flags the package has, each as it is built: ``flag`` on, ``-flag`` off."""
    flags = [f if f in task.use else f"-{f}" for f in task.iuse]
    return sorted(flags, key=lambda flag: (flag.lstrip("-"), flag))


def package_record(session: Session, task: Planned, locations: dict[str, str]) -> dict:
    """One package of the lock, its distfiles with the Manifest's size and digests."""
    names = session.distfiles(task.cpv, task.repo, task.use, IMAGE_CONFIG_ROOT)
    location = locations.get(task.repo)
    known = manifest_distfiles(Path(location) / cpv_name(task.cpv)) if location else {}
    return {
        "cpv": task.cpv,
        "repository": task.repo,
        "slot": task.slot,
        "use": use_flags(task),
        "live": task.live,
        "distfiles": [{"name": name, **known.get(name, {})} for name in names],
    }


def snapshot_commit(repo: str = REPO_PATH) -> str | None:
    """The commit of Gentoo's tree the snapshot was made from (``timestamp.commit``)."""
    try:
        words = (Path(repo) / "metadata" / "timestamp.commit").read_text(errors="replace").split()
    except OSError:
        return None
    return words[0] if words else None


def lock_image(plan: dict, session: Session) -> int:
    """Sync (and hold the pinned repositories at their commits), resolve, record."""
    if code := install_sync_tools(plan, binpkg_options(plan)) or sync_repositories(plan):
        return code
    locations = session.repositories(IMAGE_CONFIG_ROOT)
    if code := checkout_pins(plan, locations):
        return code
    skeleton = any(glob.glob(f"{path}/{BASELAYOUT}/*.ebuild") for path in locations.values())
    try:
        tasks = resolve(session, plan["packages"], skeleton)
    except CalculationFailed as failed:
        refuse(failed.problems)
        return 1
    packages = [package_record(session, task, locations) for task in tasks]
    repositories = [
        {"name": name, "revision": repository_revision(Path(path))}
        for name, path in sorted(locations.items())
    ]
    record = {
        "repositories": repositories,
        "packages": packages,
        "timestamp_commit": snapshot_commit(REPO_PATH),
    }
    Path(LOCK_FILE).write_text(json.dumps(record, sort_keys=True), encoding="utf-8")
    live = [p["cpv"] for p in packages if p["live"]]
    said = f"; live: {' '.join(live)}" if live else ""
    say(f"resolved {len(packages)} packages for the image{said}")
    return 0
