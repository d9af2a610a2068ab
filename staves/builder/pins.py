"""Repositories held at the commits a lock names: after the sync, each pinned git
repository is checked out at its commit, fetched first where the sync's shallow clone
lacks it (the branch has moved on since the lock)."""

import re
import subprocess
from pathlib import Path

from .console import fail, run, say
from .plan import PlanError

_COMMIT = re.compile(r"[0-9a-f]{7,64}")


def _git(location: str) -> list[str]:
    return ["git", "-c", f"safe.directory={location}", "-C", location]


def has_commit(location: str, commit: str) -> bool:
    probe = [*_git(location), "cat-file", "-e", f"{commit}^{{commit}}"]
    return subprocess.run(probe, capture_output=True, check=False).returncode == 0


def fetch_commit(location: str, commit: str) -> bool:
    """Fetch ``commit`` into the clone: by itself (servers of protocol v2 hand out any
    reachable commit), else the whole history of the remote."""
    git = _git(location)
    if run([*git, "fetch", "-q", "--depth=1", "origin", commit]) == 0 and has_commit(
        location, commit
    ):
        return True
    unshallow = ["--unshallow"] if (Path(location) / ".git" / "shallow").exists() else []
    run([*git, "fetch", "-q", *unshallow, "origin"])
    return has_commit(location, commit)


def checkout_pins(plan: dict, locations: dict[str, str]) -> int:
    """Check out every pinned repository at its commit; 0, or 1 having said why not."""
    for name, commit in sorted(plan["pins"].items()):
        if not isinstance(commit, str) or not _COMMIT.fullmatch(commit):
            raise PlanError(f"plan pins repository {name!r} to {commit!r}, not a commit")
        location = locations.get(name)
        if location is None or not (Path(location) / ".git").exists():
            fail(f"repository {name} is pinned by the lock but is not a git repository here")
            return 1
        if not has_commit(location, commit) and not fetch_commit(location, commit):
            fail(
                f"repository {name}: commit {commit} of the lock is not on its remote "
                "any more; run staves lock"
            )
            return 1
        checkout = [*_git(location), "-c", "advice.detachedHead=false", "checkout", "-q"]
        if run([*checkout, "--detach", commit]) != 0:
            fail(f"repository {name}: cannot check out commit {commit} of the lock")
            return 1
        say(f"repository {name} at {commit}, as the lock pins it")
    return 0
