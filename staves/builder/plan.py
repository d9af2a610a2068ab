"""The build plan the host writes into the builder beside the program: read and checked."""

import json
from pathlib import Path

from .protocol import LEASE_SIGNAL

PLAN_KEYS = {
    "files": dict,
    "append": dict,
    "sync": list,
    "packages": list,
    "jobs": int,
    "root": str,
    "stdlib": bool,
    "locale": (dict, type(None)),
    "snapshot": (str, type(None)),
    "pkgdir": (str, type(None)),
    "install_mask": list,
    "lease": (str, type(None)),
    "epoch": (int, type(None)),
    "discard_pkgdir": bool,
    "binhosts": list,
    "getbinpkg": bool,
    "reindex": bool,
    "task": str,
    "inputs": (dict, type(None)),  # the builder's and snapshot's image IDs
    # The image whose root is kept in the cache volume for its next build (None: none).
    "keep_root": (str, type(None)),
    "credentials": bool,  # the user's shared: keep them from the unprivileged phases
    "pins": dict,  # repository name → the commit a lock holds it at
    # User patches for eapply_user: directory, name, source, sha256, data (base64).
    "patches": list,
    # With patches: the partition of the same build without them (its other packages).
    "pkgdir_base": (str, type(None)),
    # The debug image: {"sources": bool, "packages": [atom, ...]}; None: none.
    "debug": (dict, type(None)),
    "distcc": (dict, type(None)),  # helpers: DISTCC_HOSTS, MAKEOPTS, the helpers to check
}
# Keys the host may leave out, with what they mean then.
DEFAULTS = {
    "snapshot": None,
    "pkgdir": None,
    "install_mask": [],
    "lease": None,
    "epoch": None,
    "discard_pkgdir": False,
    "binhosts": [],
    "getbinpkg": False,
    "reindex": False,
    "task": "build",
    "inputs": None,
    "keep_root": None,
    "credentials": False,
    "pins": {},
    "patches": [],
    "pkgdir_base": None,
    "debug": None,
    "distcc": None,
}
# What a run does: "build" the image root, "index" the cache partition (Portage's
# Packages index) for the host to copy out as a binhost, or "lock": resolve what the image
# would hold, merging nothing (``staves lock``).
TASKS = ("build", "index", "lock")


class PlanError(Exception):
    """The plan is not what the host writes, or a step cannot go on with it."""


def load_plan(text: str) -> dict:
    """Parse and check a plan: every key present, each of its type, paths absolute."""
    try:
        plan = json.loads(text)
    except ValueError as exc:
        raise PlanError(f"plan is not JSON: {exc}") from exc
    if not isinstance(plan, dict):
        raise PlanError("plan must be a JSON object")
    for key, value in DEFAULTS.items():
        plan.setdefault(key, value)
    unknown = set(plan) - set(PLAN_KEYS)
    if unknown:
        raise PlanError(f"plan has unknown keys: {', '.join(sorted(unknown))}")
    for key, kind in PLAN_KEYS.items():
        if key not in plan:
            raise PlanError(f"plan lacks '{key}'")
        if not isinstance(plan[key], kind) or (kind is int and isinstance(plan[key], bool)):
            raise PlanError(f"plan '{key}' has the wrong type")
    if plan["lease"] not in (None, LEASE_SIGNAL):
        raise PlanError(f"plan lease {plan['lease']!r} is not {LEASE_SIGNAL}")
    paths = [*plan["files"], *plan["append"], plan["root"], plan["pkgdir"]]
    paths.append(plan["pkgdir_base"])
    for path in (p for p in paths if p is not None):
        if not path.startswith("/") or "/../" in f"{path}/":
            raise PlanError(f"plan path {path!r} must be absolute and stay put")
    if not plan["packages"]:
        raise PlanError("plan has no packages")
    if plan["task"] not in TASKS:
        raise PlanError(f"plan task {plan['task']!r} is not one of {', '.join(TASKS)}")
    return plan


def read_plan_text(path: str) -> str:
    """The plan file's text (the host copies it in before the builder starts)."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError(f"cannot read the plan {path}: {exc}") from exc
