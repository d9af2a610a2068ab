"""The in-builder program's steps, in order: configure, sync, merge (resolve and merge in
one Portage session), shape the image root, record. Run as ``python3 PROGRAM.pyz
PLAN-FILE`` (or ``python3 -m staves.builder PLAN-FILE``) under the host's lease."""

import configparser
import glob
import hashlib
import json
import sys
import threading
from pathlib import Path

from . import events
from .builder_packages import read_from_builder, remember_from_builder, spec_changes_make_conf
from .configure import (
    BASE_MAKE_CONF,
    BASELAYOUT,
    IMAGE_CONFIG_PROTECT_MASK,
    IMAGE_FEATURES,
    INSTALL_MASK,
    configure_builder,
    configure_image_root,
    configure_image_shape,
    export_epoch,
    link_snapshot,
)
from .console import fail, say
from .debug_root import merge_debug_packages
from .distcc import set_up_distcc
from .events import open_channel, phase
from .image_root import (
    LOCALE_ARCHIVE,
    PROFILE_VARS,
    copy_compiler_runtime,
    drop_build_state,
    make_locale,
)
from .lease import Lease, end_on_stop, hold_for_host
from .live import installed_live
from .lock import lock_image
from .merge import Merging, Refused, binpkg_options, merge_image
from .merge_events import MergeEvents, expect_merges, remember_merges
from .partition import (
    binpkg_dirs,
    builder_key,
    configure_binhosts,
    discard_pkgdir,
    index_partition,
    record_partition,
)
from .patched_partition import start_from_unpatched
from .pins import checkout_pins
from .places import IMAGE_CONFIG_ROOT
from .plan import PlanError, load_plan, read_plan_text
from .portage_python import run_on_portage_python
from .protocol import LEASE_SIGNAL
from .record import archive_root, record_root_files, record_root_links, record_sources
from .resolve import (
    ALL_BINARY_RECORD,
    PACKAGE_ENV_RECORD,
    changed_envs,
    compiled_nothing_before,
    merge_inputs,
    package_envs,
    remember_all_binary,
)
from .roots import ImageRoot, close_root, open_root
from .runtime_record import record_compiler_runtime
from .session import PortageMissing, Session
from .sync import install_sync_tools, sync_repositories
from .user_patches import patched_directories, record_applied_patches, write_patches


def has_ebuilds(repositories: dict[str, str], cp: str) -> bool:
    """Whether a repository holds CATEGORY/PN (masked or not: emerge explains a mask)."""
    return any(glob.glob(f"{path}/{cp}/*.ebuild") for path in repositories.values())


def configure(plan: dict, session: Session) -> tuple[str, str]:
    """Both roots' configuration; the builder's and the image's binary-package directories."""
    link_snapshot(plan["snapshot"])
    key = builder_key(session.variables(["CHOST", "CC"]))
    builder_pkgdir, image_pkgdir = binpkg_dirs(plan["pkgdir"], key)
    configure_builder(plan, builder_pkgdir)
    configure_image_root(plan, image_pkgdir)
    write_patches(plan)
    configure_image_shape(plan)
    configure_binhosts(plan, builder_pkgdir, image_pkgdir)
    if plan["pkgdir_base"]:  # user patches: what they do not touch comes built
        unpatched = binpkg_dirs(plan["pkgdir_base"], key)[1]
        start_from_unpatched(unpatched, image_pkgdir, patched_directories(plan))
    export_epoch(plan["epoch"])
    record_partition(builder_pkgdir, image_pkgdir)
    session.reload()  # the configuration just written is the one to read from now on
    return builder_pkgdir, image_pkgdir


def build(plan: dict, session: Session, pkgdirs: tuple[str, str], root: ImageRoot) -> int:
    """Sync, merge, shape and record the image root; the exit code."""
    options = binpkg_options(plan)
    with phase("sync"):
        if code := install_sync_tools(plan, options) or sync_repositories(plan):
            return code
        if code := checkout_pins(plan, session.repositories(IMAGE_CONFIG_ROOT)):
            return code
    if plan["distcc"]:
        with phase("distcc"):
            if code := set_up_distcc(plan, session, options):
                return code
    image_pkgdir = pkgdirs[1]
    all_binary_record = Path(image_pkgdir) / ALL_BINARY_RECORD
    # A build like the last here, which got past the license check and compiled nothing.
    known = compiled_nothing_before(all_binary_record, merge_inputs(plan, pkgdirs))
    if known:
        expect_merges(image_pkgdir, merge_inputs(plan, pkgdirs))
    record = Path(image_pkgdir) / PACKAGE_ENV_RECORD
    env_atoms, env_record = changed_envs(record, package_envs(plan))
    if env_atoms:
        say(f"environment changed for {' '.join(env_atoms)}: compiling them anew")
    live = installed_live(root.path) if root.reused else []
    if live:
        say(f"live packages, fetched and compiled anew: {' '.join(live)}")
    repositories = session.repositories(IMAGE_CONFIG_ROOT)
    merging = Merging(session, root, options, has_ebuilds(repositories, BASELAYOUT))
    merging.patched = patched_directories(plan)
    session.watch(MergeEvents(str(root.where)))
    if not spec_changes_make_conf(plan):
        merging.builder_reuse = image_pkgdir
    with phase("merge"), session.deferring_env_update(str(root.where)):
        try:
            merged = merge_image(merging, plan["packages"], [*env_atoms, *live], known)
        except Refused:
            return 1
    say(f"dependency calculations: {session.calculations}")
    if merging.from_builder:
        say(f"compiles saved by the builder's packages: {len(merging.from_builder)}")
        remember_from_builder(image_pkgdir, root.path, merging.from_builder)
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(env_record, sort_keys=True) + "\n")
    all_binary = all(how == "binary" for how, _ in merged)
    if all_binary and not root.reused:
        remember_merges(image_pkgdir, merge_inputs(plan, pkgdirs), len(merged))
    remember_all_binary(all_binary_record, merge_inputs(plan, pkgdirs) if all_binary else None)
    with phase("image root"):
        profile = session.variables(PROFILE_VARS, IMAGE_CONFIG_ROOT)
        copied = copy_compiler_runtime(root.path, plan["stdlib"], profile)
        runtime_entries = record_compiler_runtime(root.path, copied)
        events.record("runtime", packages=runtime_entries)  # the builder's, not merged
        for key in runtime_entries:
            session.write_metadata_file(str(root.path / "var/db/pkg" / key))
        # Taken out again before the next update of a kept root: no package owns them.
        root.added = [str(path.relative_to(root.path)) for path, _ in copied]
        root.added += [f"var/db/pkg/{key}" for key in runtime_entries]
        if code := make_locale(root.path, plan["locale"], profile.get("ELIBC", "")):
            return code
        if plan["locale"]:
            root.added.append(LOCALE_ARCHIVE)
        session.update_environment(str(root.where))
        drop_build_state(root.path)
    with phase("record"):
        record_root_links(root.path)
        from_builder = read_from_builder(image_pkgdir)
        record_sources(root.path, repositories, from_builder, runtime_entries)
        record_applied_patches(root.path, plan["patches"])
        record_root_files(root.path)
        archive_root(Path(plan["root"]))
    if plan["debug"] and plan["debug"]["packages"]:
        with phase("debug image packages"):
            try:
                merge_debug_packages(plan, session, merging, image_pkgdir)
            except Refused:
                return 1
    say("root filesystem ready")
    return 0


def main(text: str) -> int:
    try:
        plan = load_plan(text)
    except PlanError as exc:
        print(f"staves: bad build plan: {exc}", file=sys.stderr)
        return 2
    try:
        session = Session()
    except PortageMissing as exc:
        fail(f"{exc}; the builder needs Portage (sys-apps/portage) for its python3")
        return 1
    try:
        with phase("configure"):
            builder_pkgdir, image_pkgdir = configure(plan, session)
    except (OSError, PlanError, configparser.Error) as exc:
        print(f"staves: bad build plan: {exc}", file=sys.stderr)
        return 2
    say(f"binary packages: the builder's in {builder_pkgdir}, the image's in {image_pkgdir}")
    try:
        if plan["task"] == "lock":
            return lock_image(plan, session)
        if plan["task"] != "build" or plan["reindex"]:
            try:
                index_partition((builder_pkgdir, image_pkgdir))
            except PlanError as exc:
                fail(str(exc))
                return 1
            if plan["task"] != "build":
                return 0
        return build_root(plan, session, (builder_pkgdir, image_pkgdir))
    finally:
        if plan["discard_pkgdir"]:
            discard_pkgdir(image_pkgdir)


# Changes to how Staves merges into a root: kept roots made otherwise start afresh.
ROOT_FORMAT = 1


def root_shape(plan: dict) -> str:
    """A digest of what decides how packages are merged into the image root that Portage
    does not compare when it updates one: INSTALL_MASK, the settings Staves adds, the
    repositories (the same version from another repository is not merged again)."""
    repositories = sorted((k, v) for k, v in plan["files"].items() if "/repos.conf/" in k)
    shaping = [ROOT_FORMAT, INSTALL_MASK, IMAGE_FEATURES, IMAGE_CONFIG_PROTECT_MASK]
    shaping += [plan["install_mask"], BASE_MAKE_CONF]
    shaping.append(repositories)
    return hashlib.sha256(json.dumps(shaping).encode()).hexdigest()[:16]


def build_root(plan: dict, session: Session, pkgdirs: tuple[str, str]) -> int:
    """The build into a root kept from the last build of the image, or a fresh one."""
    keep = None if plan["discard_pkgdir"] else plan["keep_root"]
    root = open_root(plan["root"], pkgdirs[1], keep, root_shape(plan))
    complete = False
    try:
        code = build(plan, session, pkgdirs, root)
        complete = code == 0
        return code
    except PlanError as exc:
        fail(str(exc))  # the host names it in its one line
        return 1
    finally:
        close_root(root, complete)


def lease_of(text: str) -> Lease | None:
    """The lease the plan names (its signal), if it parses; ``main`` reports a plan that
    does not."""
    try:
        name = json.loads(text).get("lease")
    except (ValueError, AttributeError):
        return None
    return Lease() if name == LEASE_SIGNAL else None


def serve(argv: list[str]) -> int:
    """Build under the host's lease, then hold the root until the host has exported it."""
    run_on_portage_python(argv)
    end_on_stop()
    # emerge runs in this process and its phases in subprocesses writing to the same
    # output: each line goes out as it is written, so that they keep their order.
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(line_buffering=True)  # type: ignore[attr-defined]
    open_channel()  # stdout: the records for the host alone; the rest to stderr
    if len(argv) != 2:
        print("usage: python3 PROGRAM.pyz PLAN-FILE", file=sys.stderr)
        return hold_for_host(None, 2)
    try:
        text = read_plan_text(argv[1])
    except PlanError as exc:
        print(f"staves: bad build plan: {exc}", file=sys.stderr)
        return hold_for_host(None, 2)
    lease = lease_of(text)
    if lease is not None:
        threading.Thread(target=lease.watch, name="lease", daemon=True).start()
    try:
        code = main(text)
    except SystemExit as exc:  # emerge failures exit from deep inside
        code = exc.code if isinstance(exc.code, int) else 1
    return hold_for_host(lease, code)
