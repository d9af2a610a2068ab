"""``staves diff`` where one side (or both) is a lock file: the version and USE changes
per platform, between two locks or between a lock and an image (its platform's entry)."""

import json
from collections.abc import Callable, Sequence
from pathlib import Path

from staves.errors import EXIT_USAGE, StavesError
from staves.gentoo.sbom import COPIED_FROM_BUILDER
from staves.lockfile.compare import LockChanges, lock_changes, package_changes
from staves.lockfile.model import LOCK_SUFFIX, Lock, LockedPackage
from staves.lockfile.read import read_lock
from staves.sources.listing import ImageContents


def is_lock_argument(text: str) -> bool:
    """Whether a ``staves diff`` argument names a lock file (``NAME.lock`` that exists)."""
    return text.endswith(LOCK_SUFFIX) and Path(text).is_file()


def load_lock_argument(text: str) -> Lock:
    lock = read_lock(Path(text))
    if lock is None:
        raise StavesError("no such file", file=text, exit_code=EXIT_USAGE)
    return lock


def image_platform(contents: ImageContents) -> str:
    """``OS/ARCH[/VARIANT]`` of an image, from its config."""
    config = contents.config
    parts = [config.get("os"), config.get("architecture"), config.get("variant")]
    return "/".join(str(p) for p in parts if p)


def image_packages(contents: ImageContents, locked: Sequence[LockedPackage]) -> list[LockedPackage]:
    """The image's packages as a lock names them (slot and distfiles unknown), Portage's
    alone (not the compiler runtime the builder copies in). Their USE flags are those
    the lock names of the package: an image's SBOM lists every USE flag of a package
    without IUSE (profile and architecture flags)."""
    named = {p.name: {f.lstrip("-") for f in p.use} for p in locked}
    found = []
    for package in contents.report.packages:
        if package.origin == COPIED_FROM_BUILDER:
            continue
        flags = [*package.use, *(f"-{f}" for f in package.use_disabled)]
        if package.name in named:
            flags = [f for f in flags if f.lstrip("-") in named[package.name]]
        use = tuple(sorted(flags, key=lambda flag: (flag.lstrip("-"), flag)))
        found.append(LockedPackage(package.key, package.repository or "", "", use))
    return found


def lock_image_changes(lock: Lock, contents: ImageContents, lock_first: bool) -> LockChanges:
    """What differs between the lock's entry for the image's platform and the image."""
    platform = image_platform(contents)
    locked = lock.platform(platform)
    if locked is None:
        listed = ", ".join(p.platform for p in lock.platforms) or "no platform"
        raise StavesError(f"the lock has no {platform} (it has {listed})", exit_code=EXIT_USAGE)
    built = image_packages(contents, locked.packages)
    old, new = (locked.packages, built) if lock_first else (built, locked.packages)
    return LockChanges((), tuple(package_changes(platform, old, new, details=False)))


def render(changes: LockChanges, output_format: str) -> str:
    if output_format == "json":
        return json.dumps(changes.to_dict(), indent=2, sort_keys=True) + "\n"
    if output_format != "text":
        raise StavesError(
            f"--format {output_format} compares two images", key="--format", exit_code=EXIT_USAGE
        )
    if changes.same:
        return "same packages\n"
    return "".join(line + "\n" for line in changes.lines())


def diff_with_lock(a: str, b: str, read_image: Callable[[str, str], ImageContents]) -> LockChanges:
    """A against B where either is a lock; ``read_image(text, key)`` reads an image side."""
    if is_lock_argument(a) and is_lock_argument(b):
        return lock_changes(load_lock_argument(a), load_lock_argument(b))
    if is_lock_argument(a):
        return lock_image_changes(load_lock_argument(a), read_image(b, "B"), lock_first=True)
    return lock_image_changes(load_lock_argument(b), read_image(a, "A"), lock_first=False)
