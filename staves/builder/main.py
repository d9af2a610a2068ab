"""The in-builder program's steps, in order: configure, sync, resolve and merge, shape the
image root, record. Run as ``python3 PROGRAM.pyz PLAN-FILE`` (or ``python3 -m
staves.builder PLAN-FILE``) under the host's lease."""

import configparser
import json
import sys
import threading
from pathlib import Path

from .configure import (
    configure_builder,
    configure_image_root,
    configure_image_shape,
    export_epoch,
    link_snapshot,
)
from .console import fail, say
from .image_root import (
    PROFILE_VARS,
    copy_compiler_runtime,
    drop_build_state,
    make_locale,
    refresh_library_cache,
)
from .lease import Lease, end_on_stop, hold_for_host
from .merge import binpkg_options, emerge_c_library, emerge_packages, lay_out_skeleton
from .partition import (
    binpkg_dirs,
    configure_binhosts,
    discard_pkgdir,
    index_partition,
    record_partition,
)
from .plan import PlanError, load_plan, read_plan_text
from .portage_query import image_vars
from .record import archive_root, record_root_links, record_sources
from .resolve import (
    ALL_BINARY_RECORD,
    PACKAGE_ENV_RECORD,
    changed_envs,
    compiled_nothing_before,
    merge_inputs,
    package_envs,
    refuse_unaccepted_licenses,
    remember_all_binary,
)
from .sync import install_sync_tools, sync_repositories


def main(text: str) -> int:
    try:
        plan = load_plan(text)
        link_snapshot(plan["snapshot"])
        builder_pkgdir, image_pkgdir = binpkg_dirs(plan["pkgdir"])
        configure_builder(plan, builder_pkgdir)
        configure_image_root(plan, image_pkgdir)
        configure_image_shape(plan)
        configure_binhosts(plan, builder_pkgdir, image_pkgdir)
        export_epoch(plan["epoch"])
        record_partition(builder_pkgdir, image_pkgdir)
    except (OSError, PlanError, configparser.Error) as exc:
        print(f"staves: bad build plan: {exc}", file=sys.stderr)
        return 2
    say(f"binary packages: the builder's in {builder_pkgdir}, the image's in {image_pkgdir}")
    if plan["task"] != "build" or plan["reindex"]:
        try:
            index_partition((builder_pkgdir, image_pkgdir))
        except PlanError as exc:
            fail(str(exc))
            return 1
        if plan["task"] != "build":
            return 0
    options = binpkg_options(plan)
    root = Path(plan["root"])
    root.mkdir(parents=True, exist_ok=True)
    if code := install_sync_tools(plan, options) or sync_repositories(plan):
        return code
    pkgdirs = (builder_pkgdir, image_pkgdir)
    all_binary_record = Path(image_pkgdir) / ALL_BINARY_RECORD
    # A build like the last here, which got past the license check and compiled nothing.
    known = compiled_nothing_before(all_binary_record, merge_inputs(plan, pkgdirs))
    if not known and (code := refuse_unaccepted_licenses(root, plan["packages"], options)):
        return code
    lay_out_skeleton(root, options)
    emerge_c_library(root, options)
    record = Path(image_pkgdir) / PACKAGE_ENV_RECORD
    env_atoms, env_record = changed_envs(record, package_envs(plan))
    if env_atoms:
        say(f"environment changed for {' '.join(env_atoms)}: compiling them anew")
    all_binary = emerge_packages(root, plan["packages"], env_atoms, known, options)
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(env_record, sort_keys=True) + "\n")
    remember_all_binary(all_binary_record, merge_inputs(plan, pkgdirs) if all_binary else None)
    try:
        profile = image_vars(PROFILE_VARS)
        copy_compiler_runtime(root, plan["stdlib"], profile)
        if code := make_locale(root, plan["locale"], profile.get("ELIBC", "")):
            return code
        refresh_library_cache(root)
        drop_build_state(root)
        record_root_links(root)
        record_sources(root)
        archive_root(root)
    except PlanError as exc:
        fail(str(exc))  # the host names it in its one line
        return 1
    say("root filesystem ready")
    return 0


def lease_of(text: str) -> Lease | None:
    """The lease the plan names, if it parses; ``main`` reports a plan that does not."""
    try:
        path = json.loads(text).get("lease")
    except (ValueError, AttributeError):
        return None
    return Lease(path) if isinstance(path, str) else None


def discarded_pkgdir(text: str) -> str | None:
    """The image root's pkgdir when the plan asks for it to go after the build."""
    try:
        plan = load_plan(text)
    except PlanError:
        return None
    return binpkg_dirs(plan["pkgdir"])[1] if plan["discard_pkgdir"] else None


def serve(argv: list[str]) -> int:
    """Build under the host's lease, then hold the root until the host has exported it."""
    end_on_stop()
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
    finally:
        discard_pkgdir(discarded_pkgdir(text))
    return hold_for_host(lease, code)
