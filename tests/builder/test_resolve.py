"""The resolve phase: what emerge's merge list and its explanations say, read before
anything is merged — licenses refused, compiled or binary, environments changed."""

import json
from pathlib import Path

from staves.builder.resolve import (
    changed_envs,
    cpv_name,
    drifting_build_libraries,
    installed_slots,
    left_behind,
    license_refusals,
    package_envs,
)
from tests.builder.plans import SPEC, plan_for


def test_a_packages_name_is_its_cpv_without_the_version() -> None:
    assert cpv_name("sys-libs/glibc-2.36-r1") == "sys-libs/glibc"
    assert cpv_name("dev-libs/libfoo2-1.0_p3") == "dev-libs/libfoo2"
    assert cpv_name("dev-libs/libshape-2") == "dev-libs/libshape"


def test_a_changed_package_environment_is_compiled_anew(tmp_path: Path) -> None:
    record = tmp_path / "record.json"
    spec = SPEC + "[env.loud]\nX = 'a'\n['app-misc/hello']\nenv = ['loud']\n"
    envs = package_envs(plan_for(spec))
    changed, keep = changed_envs(record, envs)
    assert changed == ["app-misc/hello"]
    record.write_text(json.dumps(keep))
    assert changed_envs(record, envs)[0] == []
    other = package_envs(plan_for(spec.replace("X = 'a'", "X = 'b'")))
    assert changed_envs(record, other)[0] == ["app-misc/hello"]
    # Dropping the environment rebuilds it too, and forgets it.
    assert changed_envs(record, {}) == (["app-misc/hello"], {})


def test_license_masks_are_read_from_emerges_explanation() -> None:
    output = """\
!!! All ebuilds that could satisfy "=app-misc/motd-1.1" have been masked.
!!! One of the following masked packages is required to complete your request:
- app-misc/motd-1.1::gentoo (masked by: FSFAP license(s))
- app-misc/testing-only-1.0::gentoo (masked by: ~amd64 keyword, MIT GPL-2 license(s))
- app-misc/other-2::gentoo (masked by: package.mask)
A copy of the 'FSFAP' license is located at '/var/db/repos/gentoo/licenses/FSFAP'.
"""
    assert license_refusals(output) == [
        ("app-misc/motd-1.1", "FSFAP"),
        ("app-misc/testing-only-1.0", "MIT GPL-2"),
    ]


def builder_vdb(tmp_path: Path) -> Path:
    """A builder's package database: glibc behind virtual/libc, libshape-1."""
    vdb = tmp_path / "var/db/pkg"
    for cpv in ("sys-libs/glibc-2.36", "dev-libs/libshape-1", "virtual/libc-1"):
        (vdb / cpv).mkdir(parents=True)
    (vdb / "virtual/libc-1/RDEPEND").write_text("sys-libs/glibc:2.2\n")
    return vdb


def test_the_builder_gets_the_images_version_of_a_library_before_a_compile(
    tmp_path: Path,
) -> None:
    vdb = builder_vdb(tmp_path)
    (vdb / "sys-apps/baselayout-2.14").mkdir(parents=True)
    held = [
        "dev-libs/libshape-2",  # in the image, installed or merged now
        "sys-libs/glibc-2.37",  # the C library stays as the builder has it
        "sys-apps/baselayout-2.17",  # and so does its skeleton
        "app-misc/shaper-1.0",
    ]
    assert drifting_build_libraries(held, vdb) == ["=dev-libs/libshape-2"]
    assert drifting_build_libraries(held[1:], vdb) == []
    assert drifting_build_libraries(["dev-libs/libshape-1"], vdb) == []


def test_packages_a_kept_root_no_longer_needs_are_told_by_slot(tmp_path: Path) -> None:
    root = tmp_path / "root"
    for cpv, slot in (("app-misc/hello-1.0", "0"), ("dev-libs/libshape-1", "0/1")):
        (root / "var/db/pkg" / cpv).mkdir(parents=True)
        (root / "var/db/pkg" / cpv / "SLOT").write_text(slot + "\n")
    assert installed_slots(root) == {"app-misc/hello:0", "dev-libs/libshape:0"}
    # libshape-2 replacing libshape-1 in its slot is an update, not a package leaving.
    assert left_behind(root, frozenset({"dev-libs/libshape:0"})) == ["app-misc/hello:0"]
