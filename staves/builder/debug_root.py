"""The debug image's packages (``[debug] packages``: a shell, a debugger): merged into a
copy of the finished image root, so that Portage sees what the image holds and adds only
what is missing; then what they added or changed, as one tar beside the root's for the
host (the debug image's own layer). The image root itself is left as it was: it is the
image, and the root kept for the next build."""

import filecmp
import os
import shutil
import stat
import tarfile
from pathlib import Path

from .builder_packages import read_from_builder
from .console import run, say
from .image_root import PROFILE_VARS, copy_compiler_runtime, drop_build_state
from .merge import CalculationFailed, Merging, merge_judged, refuse
from .places import IMAGE_CONFIG_ROOT
from .plan import PlanError
from .protocol import DEBUG_PACKAGES_ARCHIVE, DEBUG_ROOT, DEBUG_SOURCES_FILE
from .record import record_sources
from .roots import ImageRoot
from .runtime_record import record_compiler_runtime
from .session import Session
from .user_patches import record_applied_patches

WHITEOUT = ".wh."
VDB = "var/db/pkg/"


def merge_debug_packages(plan: dict, session: Session, image: Merging, image_pkgdir: str) -> None:
    """Merge the plan's debug packages (those the image lacks) into a copy of the root of
    the ``image`` merges (with their options and patches) and write what they changed to
    DEBUG_PACKAGES_ARCHIVE, and what the copy was made from to DEBUG_SOURCES_FILE
    (``image_pkgdir`` recorded which packages the builder gave); nothing without debug
    packages."""
    packages = list((plan["debug"] or {}).get("packages") or [])
    if not packages:
        return
    target = Path(DEBUG_ROOT)
    if target.exists():
        shutil.rmtree(target)
    say(f"the debug image's packages into a copy of the image root, {target}")
    image_root = Path(os.path.realpath(image.root.path))
    if run(["cp", "-a", "--", str(image_root), str(target)]) != 0:
        raise PlanError(f"cp could not copy {image_root} to {target}")
    merging = Merging(session, ImageRoot(target, target), image.options, has_skeleton=False)
    merging.patched = image.patched
    with session.deferring_env_update(str(target)):
        try:
            merge_judged(merging, ["--oneshot", "--noreplace", *packages], kept=False)
        except CalculationFailed as failed:
            raise refuse(failed.problems) from failed
    profile = session.variables(PROFILE_VARS, IMAGE_CONFIG_ROOT)
    copied = copy_compiler_runtime(target, plan["stdlib"], profile)
    # The compiler runtime's entries: the image root's, and any the debug packages need.
    entries = [a.removeprefix(VDB) for a in image.root.added if a.startswith(VDB)]
    for key in record_compiler_runtime(target, copied):
        session.write_metadata_file(str(target / VDB / key))
        entries.append(key)
    session.update_environment(str(target))
    drop_build_state(target)
    repositories = session.repositories(IMAGE_CONFIG_ROOT)
    from_builder = read_from_builder(image_pkgdir)
    record_sources(target, repositories, from_builder, entries, DEBUG_SOURCES_FILE)
    record_applied_patches(target, plan["patches"], DEBUG_SOURCES_FILE)
    added, gone = root_changes(image_root, target)
    say(f"the debug image's packages add or change {len(added)} entries, remove {len(gone)}")
    archive_changes(target, added, gone, Path(DEBUG_PACKAGES_ARCHIVE))


def _same(before: Path, after: Path, seen: os.stat_result) -> bool:
    """Whether ``after`` is ``before`` as a layer holds it: type, mode, owner, the link's
    target, the content (times do not count: layers clamp them)."""
    try:
        old = before.lstat()
    except FileNotFoundError:
        return False
    if (old.st_mode, old.st_uid, old.st_gid) != (seen.st_mode, seen.st_uid, seen.st_gid):
        return False
    if stat.S_ISLNK(seen.st_mode):
        return os.readlink(before) == os.readlink(after)
    if stat.S_ISREG(seen.st_mode):
        return old.st_size == seen.st_size and filecmp.cmp(before, after, shallow=False)
    if stat.S_ISCHR(seen.st_mode) or stat.S_ISBLK(seen.st_mode):
        return old.st_rdev == seen.st_rdev
    return True


def root_changes(before: Path, after: Path) -> tuple[list[str], list[str]]:
    """The entries of ``after`` that are new or differ from ``before`` (each with the
    directories above it, so that the layer carries them), and the topmost entries of
    ``before`` that ``after`` lacks; relative paths, in order."""
    changed: set[str] = set()
    for parent, dirs, files in os.walk(after):
        dirs.sort()
        for name in [*dirs, *sorted(files)]:
            path = Path(parent) / name
            relative = str(path.relative_to(after))
            if not _same(before / relative, path, path.lstat()):
                changed.add(relative)
    gone = []
    for parent, dirs, files in os.walk(before):
        dirs.sort()
        for name in [*dirs, *sorted(files)]:
            relative = str((Path(parent) / name).relative_to(before))
            if not os.path.lexists(after / relative):
                gone.append(relative)
                if name in dirs:
                    dirs.remove(name)  # its contents are gone with it
    with_parents = set(changed)
    for relative in [*changed, *gone]:
        with_parents.update(str(p) for p in Path(relative).parents if str(p) != ".")
    return sorted(with_parents), sorted(gone)


def archive_changes(root: Path, added: list[str], gone: list[str], archive: Path) -> None:
    """``added`` (entries of ``root``) with their owners, modes and extended attributes,
    then a whiteout for each of ``gone``, as one tar (names relative to the root)."""
    listing = archive.with_suffix(".list")
    listing.write_bytes(b"".join(os.fsencode(name) + b"\0" for name in added))
    argv = ["tar", "--numeric-owner", "--xattrs", "--xattrs-include=*", "--no-recursion"]
    argv += ["--null", "-C", str(root), "-T", str(listing), "-cf", str(archive)]
    if run(argv) != 0:
        raise PlanError(f"tar could not archive what the debug packages added to {root}")
    listing.unlink()
    if not gone:
        return
    with tarfile.open(archive, "a") as tar:
        for relative in gone:
            parent, _, name = relative.rpartition("/")
            tar.addfile(tarfile.TarInfo(f"{parent}/{WHITEOUT}{name}".lstrip("/")))
