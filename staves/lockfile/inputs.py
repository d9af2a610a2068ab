"""What of the spec a lock was resolved from, and whether the spec still says it: a spec
changed since its lock builds nothing until ``staves lock`` has resolved it again."""

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from staves.lockfile.model import Lock, SpecInputs

# Plan files a lock adds itself (``holds``): not the spec's.
LOCK_FILE_NAME = "staves-lock"


def spec_inputs(plan: Mapping[str, Any]) -> SpecInputs:
    """The spec's packages and a digest of every Portage file it renders (package.use,
    package.accept_keywords, make.conf, environments, repos.conf…): what decides what
    Portage resolves. The image config, layers and outputs do not."""
    files = {k: v for k, v in plan["files"].items() if not k.endswith(f"/{LOCK_FILE_NAME}")}
    shaping = {"files": sorted(files.items()), "append": sorted(plan["append"].items())}
    text = json.dumps(shaping, sort_keys=True, separators=(",", ":"))
    return SpecInputs(
        tuple(plan["packages"]), "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    )


def stale_problem(lock: Lock, inputs: SpecInputs, platforms: Sequence[str]) -> str | None:
    """Why the lock no longer fits the spec (or the platforms asked for); None if it does."""
    if lock.spec.packages != inputs.packages:
        added = [p for p in inputs.packages if p not in lock.spec.packages]
        removed = [p for p in lock.spec.packages if p not in inputs.packages]
        said = [*(f"+{p}" for p in added), *(f"-{p}" for p in removed)] or ["their order"]
        return "the spec's packages changed since the lock (" + " ".join(said) + ")"
    if lock.spec.portage != inputs.portage:
        return (
            "the spec's Portage settings changed since the lock (USE, keywords, licenses, "
            "make.conf, environments or repositories)"
        )
    missing = [p for p in platforms if lock.platform(p) is None]
    if missing:
        return f"the lock has no {', '.join(missing)}"
    return None
