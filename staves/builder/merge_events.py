"""What each emerge does, told to the host as it happens (``events``): the packages a
dependency calculation will merge, and each package as it starts, is merged or fails, with
how it is obtained (compiled from its ebuild, or a binary package) and how long it took.

The session calls these methods from Portage's scheduler (``Session.watch``); nothing here
reads emerge's words.
"""

import json
import time
from pathlib import Path

from .events import record
from .failures import failure_excerpt
from .session import Calculation, Planned

# Portage's type names, as the host words them.
HOW = {"ebuild": "compiled", "binary": "binary"}
# How many packages the last build with the same inputs merged into a fresh root: a build
# that skips the license check's look ahead still tells the host what it will count to.
MERGE_COUNT_RECORD = "staves-merge-count.json"


def expect_merges(image_pkgdir: str, inputs: str | None) -> None:
    """Tell the host how many packages the last build of these inputs merged."""
    try:
        last = json.loads((Path(image_pkgdir) / MERGE_COUNT_RECORD).read_text())
    except (OSError, ValueError):
        return
    if isinstance(last, dict) and inputs and last.get("inputs") == inputs:
        record("expect", merges=last.get("count"))


def remember_merges(image_pkgdir: str, inputs: str | None, count: int) -> None:
    if inputs:
        text = json.dumps({"inputs": inputs, "count": count})
        (Path(image_pkgdir) / MERGE_COUNT_RECORD).write_text(text + "\n")


class MergeEvents:
    """Tells the host of every merge into the image root (``image``) or the builder."""

    def __init__(self, image_root: str) -> None:
        self.image_root = image_root.rstrip("/") + "/"
        self.started_at: dict[tuple[str, str], float] = {}

    def _into(self, root: str) -> str:
        """The image root, the builder's own, or another (the debug image's copy)."""
        return "image" if root == self.image_root else "builder" if root == "/" else "other"

    def _fields(self, task: Planned) -> dict[str, object]:
        how = HOW.get(task.how, task.how)
        return {"cpv": task.cpv, "how": how, "into": self._into(task.root), "root": task.root}

    def calculated(self, calculation: Calculation, pretend: bool) -> None:
        """What a calculation would merge (with ``pretend``, a look ahead: the license
        check's calculation of everything the image needs)."""
        merges = [t for t in calculation.tasks if t.operation == "merge"]
        record("plan", pretend=pretend, merges=[self._fields(t) for t in merges])

    def started(self, task: Planned) -> None:
        self.started_at[(task.cpv, task.root)] = time.monotonic()
        record("package", state="start", use=sorted(task.use), **self._fields(task))

    def _seconds(self, task: Planned) -> float | None:
        start = self.started_at.pop((task.cpv, task.root), None)
        return None if start is None else round(time.monotonic() - start, 3)

    def merged(self, task: Planned) -> None:
        record("package", state="done", seconds=self._seconds(task), **self._fields(task))

    def failed(self, task: Planned, build_log: str | None) -> None:
        """A package failed: the lines of its build log that say why, and where it is."""
        try:
            excerpt = failure_excerpt(Path(build_log).read_text(errors="replace"))
        except (OSError, TypeError):
            excerpt = []
        record(
            "package",
            state="failed",
            seconds=self._seconds(task),
            log=build_log,
            excerpt=excerpt,
            **self._fields(task),
        )
