"""What a build did, noted as it goes: each package merged and how, the phases' times, the
layers repacked. The summary line and the metadata file are read from it."""

import threading
import time
from dataclasses import dataclass, field
from typing import Any

# How a package of the image was obtained.
COMPILED, BINARY, UNCHANGED, FROM_BUILDER = "compiled", "binary", "unchanged", "builder"


@dataclass
class Merge:
    """One package merged by an emerge: how, into which root, and how long it took."""

    cpv: str
    how: str  # COMPILED or BINARY
    into: str  # "image" or "builder"
    seconds: float | None = None
    use: tuple[str, ...] = ()


@dataclass
class ImagePackage:
    """A package of the finished image root, as its package database says."""

    name: str  # CATEGORY/PN
    cpv: str  # CATEGORY/PF
    version: str  # PVR
    slot: str
    repository: str | None
    use: tuple[str, ...]
    how: str

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "cpv": self.cpv,
            "version": self.version,
            "slot": self.slot,
            "repository": self.repository,
            "use": list(self.use),
            "how": self.how,
        }


@dataclass
class ScopeLedger:
    """One platform's build (or its second build, for ``--check-reproducible``)."""

    planned: dict[str, str] = field(default_factory=dict)  # cpv → how, into the image
    merges: dict[tuple[str, str], Merge] = field(default_factory=dict)  # (into, cpv)
    started: int = 0  # image packages started so far
    expected: int = 0  # image packages the program expects to merge (as last time)
    added: set[str] = field(default_factory=set)  # the program's own entries (compiler runtime)
    packages: tuple[ImagePackage, ...] | None = None  # once the root is read back
    phases: dict[str, float] = field(default_factory=dict)
    layers_repacked: int | None = None
    layers: int | None = None

    def merged(self, into: str) -> list[Merge]:
        return [m for m in self.merges.values() if m.into == into and m.seconds is not None]

    def how_of(self, cpv: str) -> str:
        merge = self.merges.get(("image", cpv))
        if merge is not None:
            return merge.how
        return FROM_BUILDER if cpv in self.added else UNCHANGED

    def counts(self) -> dict[str, int]:
        """How many of the image's packages were compiled, binary, unchanged…"""
        found = {COMPILED: 0, BINARY: 0, UNCHANGED: 0, FROM_BUILDER: 0}
        for package in self.packages or ():
            found[package.how] = found.get(package.how, 0) + 1
        return found


@dataclass
class BuildLedger:
    """The whole build: its scopes (one per platform), its own phases, its destinations."""

    started: float = field(default_factory=time.monotonic)
    scopes: dict[str, ScopeLedger] = field(default_factory=dict)
    phases: dict[str, float] = field(default_factory=dict)
    destinations: list[str] = field(default_factory=list)
    skipped: str | None = None  # why nothing was built (every destination holds it…)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def scope(self, key: str) -> ScopeLedger:
        with self.lock:
            return self.scopes.setdefault(key, ScopeLedger())

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def add_phase(self, key: str | None, name: str, seconds: float) -> None:
        with self.lock:
            phases = self.phases if key is None else self.scope(key).phases
            phases[name] = round(phases.get(name, 0.0) + seconds, 3)
