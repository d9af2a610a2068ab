"""The resolve phase: what emerge's merge list and its explanations say, read before
anything is merged — licenses refused, compiled or binary, environments changed."""

import json
from pathlib import Path

from staves.builder.resolve import (
    changed_envs,
    cpv_name,
    license_refusals,
    package_envs,
)
from staves.spec import build_plan, loads_spec

SPEC = 'name = "x"\npackages = ["app-misc/hello"]\n'


def plan_for(text: str) -> dict:
    return build_plan(loads_spec(text), 2)


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
