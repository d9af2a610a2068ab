"""Pure parts of the host's build: the binary-package partition, the reproducibility check's
plan, the failure line."""

import json

from staves.build.plans import binpkg_dir
from staves.build.records import failure_from
from staves.build.reproducible import check_plan
from staves.builder.plan import load_plan
from staves.podman.builder_output import RunResult
from staves.spec import build_plan, loads_spec

SPEC = 'name = "x"\npackages = ["app-misc/hello"]\n'


def plan_for(text: str) -> dict:
    return build_plan(loads_spec(text), 2)


def test_environment_changes_move_binary_packages_apart() -> None:
    base = binpkg_dir(plan_for(SPEC))
    assert base.startswith("/var/cache/binpkgs/env-")
    assert binpkg_dir(plan_for(SPEC + "[env]\nCFLAGS = '-O3'\n")) != base
    # A package's own environment rebuilds that package alone (the in-builder script).
    named = SPEC + "[env.fast]\nCFLAGS = '-O3'\n['app-misc/hello']\nenv = ['fast']\n"
    assert binpkg_dir(plan_for(named)) == base
    # Portage itself tells binary packages apart by USE flags and keywords.
    assert binpkg_dir(plan_for(SPEC + "['app-misc/hello']\nuse = ['shout']\n")) == base


def test_failure_names_what_the_builder_reported() -> None:
    error = failure_from(RunResult(1, "emerge failed for app-misc/broken-1.0"), "/l/b.log")
    assert str(error) == (
        "emerge failed for app-misc/broken-1.0 (exit code 1); the whole log: /l/b.log"
    )
    assert str(failure_from(RunResult(137))).startswith(
        "the build in the builder failed (exit code 137)"
    )


def test_the_check_builds_in_a_directory_of_its_own_that_goes_afterwards() -> None:
    plan = {**plan_for(SPEC), "pkgdir": binpkg_dir(plan_for(SPEC)), "epoch": 5}
    again = check_plan(plan)
    assert again["pkgdir"].startswith("/var/cache/binpkgs/check-")
    assert again["pkgdir"] != check_plan(plan)["pkgdir"]
    assert again["discard_pkgdir"] is True and again["epoch"] == 5
    assert load_plan(json.dumps(again))["discard_pkgdir"] is True
