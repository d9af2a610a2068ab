"""Pure parts of the build: the in-builder plan check and the binary-package partition."""

import json
from pathlib import Path

import pytest

from staves.build import binpkg_dir, check_plan, failure_from
from staves.builder.configure import snapshot_epoch
from staves.builder.plan import PlanError, load_plan
from staves.builder.protocol import FAILURE_MARK, TIMESTAMP_FILE
from staves.builder.resolve import changed_envs, cpv_name, merges_into, package_envs
from staves.podman.builder_container import RunResult
from staves.spec import build_plan, loads_spec

SPEC = 'name = "x"\npackages = ["app-misc/hello"]\n'


def plan_for(text: str) -> dict:
    return build_plan(loads_spec(text), 2)


def test_the_host_plan_passes_the_builder_check() -> None:
    plan = plan_for(SPEC + "[env]\nA = 'b'\n['app-misc/hello']\nuse = ['shout']\n")
    assert load_plan(json.dumps(plan))["packages"] == ["app-misc/hello"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p.pop("packages"), "lacks 'packages'"),
        (lambda p: p.update(jobs="2"), "'jobs' has the wrong type"),
        (lambda p: p.update(extra=1), "unknown keys: extra"),
        (lambda p: p["files"].update({"etc/relative": ""}), "must be absolute"),
        (lambda p: p["files"].update({"/etc/../root/x": ""}), "must be absolute"),
        (lambda p: p.update(packages=[]), "no packages"),
        (lambda p: p.update(epoch="5"), "'epoch' has the wrong type"),
    ],
)
def test_a_bad_plan_is_refused_with_a_reason(change, message: str) -> None:
    plan = plan_for(SPEC)
    change(plan)
    with pytest.raises(PlanError, match=message):
        load_plan(json.dumps(plan))


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
    tail = ("noise", f"{FAILURE_MARK}emerge failed for app-misc/broken-1.0; the end:", "  log")
    error = failure_from(RunResult(1, tail))
    assert str(error).startswith("emerge failed for app-misc/broken-1.0 (exit code 1)")
    assert str(failure_from(RunResult(137, ("killed",)))).startswith(
        "the build in the builder failed (exit code 137)"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mon, 30 Nov 2026 00:45:01 +0000\n", 1_795_999_501),  # as Gentoo's snapshots write it
        ("Sun, 01 Dec 2024 01:45:01 +0100", 1_733_013_901),
        ("yesterday", None),
        ("Mon, 30 Nov 2026 00:45:01", None),  # no zone: no single moment
    ],
)
def test_the_snapshot_epoch_is_its_timestamp_chk(tmp_path, text: str, expected) -> None:
    (tmp_path / "metadata").mkdir()
    (tmp_path / TIMESTAMP_FILE).write_text(text)
    assert snapshot_epoch(tmp_path) == expected


def test_a_snapshot_without_timestamp_chk_gives_no_epoch(tmp_path) -> None:
    assert snapshot_epoch(tmp_path) is None


def test_the_check_builds_in_a_directory_of_its_own_that_goes_afterwards() -> None:
    plan = {**plan_for(SPEC), "pkgdir": binpkg_dir(plan_for(SPEC)), "epoch": 5}
    again = check_plan(plan)
    assert again["pkgdir"].startswith("/var/cache/binpkgs/check-")
    assert again["pkgdir"] != check_plan(plan)["pkgdir"]
    assert again["discard_pkgdir"] is True and again["epoch"] == 5
    assert load_plan(json.dumps(again))["discard_pkgdir"] is True


def test_the_image_merge_list_is_read_from_emerge_output() -> None:
    output = (
        "[ebuild  N     ] dev-util/gentool-1.0::gentoo  0 KiB\n"
        "[ebuild  N     ] dev-libs/libshape-2:0/2::gentoo to /tmp/rootfs/ 0 KiB\n"
        '[binary   R    ] app-misc/shaper-1.0-2::gentoo to /tmp/rootfs/ USE="round" 0 KiB\n'
        "[binary  N     ] dev-libs/libfoo2-1.0_p3-r1-12:0/1::gentoo to /tmp/rootfs/\n"
        "[ebuild  N     ] sys-libs/glibc-2.36-r1:2.2 to /tmp/rootfs/\n"
    )
    assert merges_into(output, Path("/tmp/rootfs")) == [
        ("ebuild", "dev-libs/libshape-2"),
        ("binary", "app-misc/shaper-1.0"),
        ("binary", "dev-libs/libfoo2-1.0_p3-r1"),
        ("ebuild", "sys-libs/glibc-2.36-r1"),
    ]
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
