"""The CI steps Staves ships: the GitHub action (action.yml), the GitLab CI template and the
examples in ci/, checked against GitHub's and GitLab's own schemas as check-jsonschema
vendors them; the Tekton Task, for which no schema is vendored, against its own
declarations; and the action's build step run for real."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.builder_fixtures import BUILDER, PORTAGE, SEED_SPEC, Builder, builder, test_images
from tests.conftest import PROJECT

__all__ = ["builder", "test_images"]  # fixtures used by name

ACTION = PROJECT / "action.yml"
GITLAB_TEMPLATE = PROJECT / "ci" / "gitlab" / "staves.gitlab-ci.yml"
GITLAB_EXAMPLE = PROJECT / "ci" / "gitlab" / "two-runners.gitlab-ci.yml"
GITHUB_EXAMPLE = PROJECT / "ci" / "github" / "two-runners.yml"
TEKTON_TASK = PROJECT / "ci" / "tekton" / "staves-build.yaml"


def load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text())


def dump(document: Any, path: Path) -> Path:
    yaml = YAML(typ="safe")
    yaml.default_flow_style = False
    with path.open("w") as out:
        yaml.dump(document, out)
    return path


def check(schema: str, *files: Path) -> subprocess.CompletedProcess[str]:
    checker = shutil.which("check-jsonschema") or str(
        Path(sys.executable).parent / "check-jsonschema"
    )
    return subprocess.run(
        [checker, "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("schema", "path"),
    [
        ("vendor.github-actions", ACTION),
        ("vendor.github-workflows", GITHUB_EXAMPLE),
        ("vendor.gitlab-ci", GITLAB_TEMPLATE),
        ("vendor.gitlab-ci", GITLAB_EXAMPLE),
    ],
)
def test_the_ci_files_follow_their_platforms_schema(schema: str, path: Path) -> None:
    done = check(schema, path)
    assert done.returncode == 0, done.stdout + done.stderr


def merged(base: Any, over: Any) -> Any:
    """GitLab's ``extends``: mappings merged key by key, anything else replaced."""
    if isinstance(base, dict) and isinstance(over, dict):
        return {k: merged(base[k], over[k]) if k in base and k in over else over.get(k, base.get(k))
                for k in {**base, **over}}  # fmt: skip
    return over


def resolved_pipeline(template: dict[str, Any], example: dict[str, Any]) -> dict[str, Any]:
    """The example pipeline as GitLab runs it: the template included, each job's
    ``extends`` merged in. The schema lets hidden jobs (".staves-build") hold anything, so
    the template's jobs are checked as the jobs that extend them."""
    pipeline = {k: v for k, v in example.items() if k != "include"}
    pipeline["variables"] = {**template.get("variables", {}), **example.get("variables", {})}
    for name, job in example.items():
        if isinstance(job, dict) and "extends" in job:
            body = {k: v for k, v in job.items() if k != "extends"}
            pipeline[name] = merged(template[job["extends"]], body)
    return pipeline


def test_the_gitlab_templates_jobs_follow_the_schema_where_they_are_used(tmp_path: Path) -> None:
    pipeline = resolved_pipeline(load(GITLAB_TEMPLATE), load(GITLAB_EXAMPLE))
    assert pipeline["build-arm64"]["variables"]["STAVES_ARCH"] == "arm64"
    assert "staves" in " ".join(pipeline["build-arm64"]["script"])
    done = check("vendor.gitlab-ci", dump(pipeline, tmp_path / "pipeline.yml"))
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_schemas_refuse_a_broken_action_and_template(tmp_path: Path) -> None:
    """The checks have teeth: a composite step without its shell, a template job whose
    artifacts report is a number."""
    action = load(ACTION)
    del action["runs"]["steps"][0]["shell"]
    assert check("vendor.github-actions", dump(action, tmp_path / "action.yml")).returncode == 1
    template = load(GITLAB_TEMPLATE)
    template[".staves-build"]["artifacts"]["reports"]["dotenv"] = 5
    pipeline = resolved_pipeline(template, load(GITLAB_EXAMPLE))
    assert check("vendor.gitlab-ci", dump(pipeline, tmp_path / "pipeline.yml")).returncode == 1


def test_the_github_example_gives_the_action_only_inputs_it_has() -> None:
    inputs = set(load(ACTION)["inputs"])
    workflow = load(GITHUB_EXAMPLE)
    steps = [s for job in workflow["jobs"].values() for s in job.get("steps", [])]
    uses = [s for s in steps if "staves" in s.get("uses", "")]
    assert uses, "the example uses the action"
    for step in uses:
        assert set(step.get("with", {})) <= inputs, step["with"]


def test_the_gitlab_example_extends_the_templates_jobs() -> None:
    template, example = load(GITLAB_TEMPLATE), load(GITLAB_EXAMPLE)
    extended = {
        job["extends"] for job in example.values() if isinstance(job, dict) and "extends" in job
    }
    assert extended == {".staves-build", ".staves-index"} <= set(template)


def test_the_tekton_task_declares_everything_its_step_uses() -> None:
    task = load(TEKTON_TASK)
    assert (task["apiVersion"], task["kind"]) == ("tekton.dev/v1", "Task")
    spec = task["spec"]
    text = TEKTON_TASK.read_text()
    params = {p["name"] for p in spec["params"]}
    results = {r["name"] for r in spec["results"]}
    workspaces = {w["name"] for w in spec["workspaces"]}
    volumes = {v["name"] for v in spec["volumes"]}
    assert set(re.findall(r"\$\(params\.([A-Za-z_-]+)\)", text)) == params
    assert set(re.findall(r"\$\(results\.([A-Za-z_-]+)\.path\)", text)) == results
    assert set(re.findall(r"\$\(workspaces\.([A-Za-z_-]+)\.path\)", text)) <= workspaces
    (step,) = spec["steps"]
    assert {m["name"] for m in step["volumeMounts"]} <= volumes
    assert step["image"] == "$(params.STAVES_IMAGE)"


@pytest.mark.builder
@pytest.mark.podman
def test_the_actions_build_step_builds_and_writes_its_outputs(
    builder: Builder, tmp_path: Path
) -> None:
    """The action's build step, as the runner runs it (bash, its env, GITHUB_OUTPUT),
    with staves on PATH: the outputs name the image's digest and its SBOM."""
    (step,) = [s for s in load(ACTION)["runs"]["steps"] if s.get("id") == "build"]
    # What the seed cache holds: nothing to compile, the step is what is tested.
    (tmp_path / "staves.toml").write_text(SEED_SPEC)
    layout = tmp_path / "layout"
    env = {
        **os.environ,
        "RUNNER_TEMP": str(tmp_path),
        "GITHUB_OUTPUT": str(tmp_path / "outputs"),
        "STAVES_SPEC": "staves.toml",
        "STAVES_OUTPUT": f"oci:{layout}:action\n",
        "STAVES_PLATFORM": "",
        "STAVES_BUILDER": BUILDER,
        "STAVES_PORTAGE": PORTAGE,
        "STAVES_CACHE": "",
        "STAVES_DISTCC": "",
        "STAVES_SIGN_KEY": "",
        "STAVES_ARGS": f"--build-cache {builder.cache}",
    }
    ran = subprocess.run(
        ["bash", "-e", "-c", step["run"]], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    outputs = dict(line.split("=", 1) for line in (tmp_path / "outputs").read_text().splitlines())
    assert outputs["sbom"] == str(tmp_path / "sbom.spdx.json")
    assert '"spdxVersion"' in Path(outputs["sbom"]).read_text()
    index = (layout / "index.json").read_text()
    assert outputs["digest"].startswith("sha256:") and outputs["digest"] in index
