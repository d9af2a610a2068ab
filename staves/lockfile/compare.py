"""How two resolutions differ: the inputs (snapshot, builders, repositories' commits) and,
per platform, each package added, removed, or changed in version, repository, USE flags,
live or distfiles. What ``staves lock --check``, ``staves build --locked`` and
``staves diff`` say."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from staves.lockfile.model import Lock, LockedPackage


@dataclass(frozen=True)
class PackageChange:
    """One package of one platform that differs (``old`` None: added; ``new``: removed)."""

    platform: str
    name: str  # CATEGORY/PN
    old: LockedPackage | None
    new: LockedPackage | None
    details: bool = True  # compare live and distfiles too (sides that both know them)

    def what(self) -> list[str]:
        """What changed, in a few words each."""
        old, new = self.old, self.new
        if old is None and new is not None:
            return [f"added {new.version}"]
        if new is None and old is not None:
            return [f"removed {old.version}"]
        assert old is not None and new is not None
        found = []
        if old.version != new.version:
            found.append(f"{old.version} → {new.version}")
        if old.repository != new.repository:
            found.append(f"::{old.repository} → ::{new.repository}")
        turned = use_change(old.use, new.use)
        if turned:
            found.append("USE " + " ".join(turned))
        if self.details and old.live != new.live:
            found.append("now live" if new.live else "no longer live")
        if self.details and old.distfiles != new.distfiles and old.version == new.version:
            found.append("distfiles changed")
        return found

    def describe(self) -> str:
        return f"{self.name} " + ", ".join(self.what())

    def to_dict(self) -> dict[str, Any]:
        def side(package: LockedPackage | None) -> dict[str, Any] | None:
            if package is None:
                return None
            fields = {"version": package.version, "repository": package.repository}
            return {**fields, "use": list(package.use), "live": package.live}

        return {
            "platform": self.platform,
            "name": self.name,
            "old": side(self.old),
            "new": side(self.new),
            "changes": self.what(),
        }


def use_change(old: Sequence[str], new: Sequence[str]) -> list[str]:
    """Flags turned on (``+flag``) and off (``-flag``), by name."""
    before = {f for f in old if not f.startswith("-")}
    after = {f for f in new if not f.startswith("-")}
    return [f"+{f}" for f in sorted(after - before)] + [f"-{f}" for f in sorted(before - after)]


@dataclass(frozen=True)
class LockChanges:
    """Everything that differs from ``old`` to ``new``."""

    inputs: tuple[str, ...]  # one line each: "snapshot sha256:… → sha256:…"
    packages: tuple[PackageChange, ...]

    @property
    def same(self) -> bool:
        return not self.inputs and not self.packages

    def lines(self) -> list[str]:
        """Every change, one a line: the inputs, then the packages by platform."""
        out = list(self.inputs)
        for platform in dict.fromkeys(c.platform for c in self.packages):
            out.append(f"{platform}:")
            out += [f"  {c.describe()}" for c in self.packages if c.platform == platform]
        return out

    def summary(self, limit: int = 3) -> str:
        """The changes on one line, the packages first (what a reviewer looks for)."""
        named = [f"{c.describe()} ({c.platform})" for c in self.packages] + list(self.inputs)
        more = f" and {len(named) - limit} more" if len(named) > limit else ""
        return "; ".join(named[:limit]) + more

    def to_dict(self) -> dict[str, Any]:
        return {
            "same": self.same,
            "inputs": list(self.inputs),
            "packages": [c.to_dict() for c in self.packages],
        }


def _short(value: str | None) -> str:
    if value is None:
        return "none"
    return value[:19] if value.startswith("sha256:") else value[:12]


def _changed(label: str, old: str | None, new: str | None) -> list[str]:
    return [] if old == new else [f"{label} {_short(old)} → {_short(new)}"]


def input_changes(old: Lock, new: Lock) -> list[str]:
    """The snapshot, builders, repositories and platforms that differ."""
    found = _changed("snapshot", old.snapshot.id, new.snapshot.id)
    if not any(r.name == "gentoo" for r in new.repositories):
        found += _changed("snapshot commit", old.timestamp_commit, new.timestamp_commit)
    old_repos = {r.name: r for r in old.repositories}
    new_repos = {r.name: r for r in new.repositories}
    for name in sorted({*old_repos, *new_repos}):
        if name not in new_repos:
            found.append(f"repository {name} removed")
        elif name not in old_repos:
            found.append(f"repository {name} added")
        else:
            found += _changed(f"repository {name}", old_repos[name].commit, new_repos[name].commit)
    for platform in sorted({p.platform for p in (*old.platforms, *new.platforms)}):
        before, after = old.platform(platform), new.platform(platform)
        if before is None:
            found.append(f"platform {platform} added")
        elif after is None:
            found.append(f"platform {platform} removed")
        else:
            found += _changed(f"builder for {platform}", before.builder_id, after.builder_id)
    return found


def _by_name(packages: Iterable[LockedPackage]) -> dict[str, list[LockedPackage]]:
    found: dict[str, list[LockedPackage]] = {}
    for package in sorted(packages, key=lambda p: p.cpv):
        found.setdefault(package.name, []).append(package)
    return found


def _slot(package: LockedPackage) -> str:
    return package.slot.split("/")[0]


def package_changes(
    platform: str,
    old: Iterable[LockedPackage],
    new: Iterable[LockedPackage],
    details: bool = True,
) -> list[PackageChange]:
    """The packages of one platform that differ. A name with one package on each side is
    one change; with several (slots), packages are paired by slot, and those left over
    are added or removed."""
    before, after = _by_name(old), _by_name(new)
    changes = []
    for name in sorted({*before, *after}):
        olds, news = list(before.get(name, [])), list(after.get(name, []))
        if len(olds) == 1 and len(news) == 1:
            pairs = [(olds.pop(), news.pop())]
        else:
            pairs = []
            for package in list(olds):
                match = next((n for n in news if _slot(n) == _slot(package)), None)
                if match is not None:
                    olds.remove(package)
                    news.remove(match)
                    pairs.append((package, match))
        pairs += [(o, None) for o in olds] + [(None, n) for n in news]
        for a, b in pairs:
            change = PackageChange(platform, name, a, b, details)
            if a is None or b is None or change.what():
                changes.append(change)
    return changes


def spec_changes(old: Lock, new: Lock) -> list[str]:
    found = []
    if old.spec.packages != new.spec.packages:
        found.append("the spec's packages changed")
    if old.spec.portage != new.spec.portage:
        found.append("the spec's Portage settings changed")
    return found


def lock_changes(old: Lock, new: Lock) -> LockChanges:
    """What differs from ``old`` to ``new``: the spec and the inputs, then the packages of
    every platform both have (a platform added or removed is one input line)."""
    packages: list[PackageChange] = []
    for before in old.platforms:
        after = new.platform(before.platform)
        if after is not None:
            packages += package_changes(before.platform, before.packages, after.packages)
    inputs = spec_changes(old, new) + input_changes(old, new)
    return LockChanges(tuple(inputs), tuple(packages))
