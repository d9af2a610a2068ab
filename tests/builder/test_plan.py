"""The plan phase: the plan file the host writes is what the program accepts, and a plan
that is not is refused with a reason."""

import json
from pathlib import Path

import pytest

from staves.builder.plan import PlanError, load_plan, read_plan_text
from staves.builder.protocol import LEASE_SIGNAL
from tests.builder.plans import SPEC, plan_for


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
        (lambda p: p.update(lease="/tmp/staves-lease"), "lease '/tmp/staves-lease' is not SIGURG"),
    ],
)
def test_a_bad_plan_is_refused_with_a_reason(change, message: str) -> None:
    plan = plan_for(SPEC)
    change(plan)
    with pytest.raises(PlanError, match=message):
        load_plan(json.dumps(plan))


def test_the_host_plan_names_the_lease_signal() -> None:
    plan = {**plan_for(SPEC), "lease": LEASE_SIGNAL}
    assert load_plan(json.dumps(plan))["lease"] == LEASE_SIGNAL == "SIGURG"


def test_keys_the_host_leaves_out_take_their_defaults() -> None:
    plan = load_plan(json.dumps(plan_for(SPEC)))
    assert plan["task"] == "build" and plan["binhosts"] == [] and plan["lease"] is None


def test_an_unreadable_plan_file_is_a_plan_error(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="cannot read the plan"):
        read_plan_text(str(tmp_path / "missing.json"))
    (tmp_path / "plan.json").write_text("{}")
    assert read_plan_text(str(tmp_path / "plan.json")) == "{}"
