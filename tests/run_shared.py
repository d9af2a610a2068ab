"""What one test run makes once and every test file (and every pytest-xdist worker) reuses.

A pytest session fixture is made once per process; under pytest-xdist each worker is a
process. ``made_once`` makes a thing once for the whole run: the first worker to ask makes
it under a file lock and writes what it made (JSON) beside the lock; the others read it.

Podman objects made for the whole run carry the label ``RUN_LABEL=<run id>`` and are
removed by the process that started the run when it ends (``remove_run_objects``, from
conftest's ``pytest_sessionfinish``): a worker cannot know whether another still needs them.
"""

import fcntl
import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

RUN_LABEL = "io.staves.test-run"
_RUN_ENV = "STAVES_TEST_RUN"  # set by the controller, inherited by the xdist workers

T = TypeVar("T")


def run_id() -> str:
    """This test run's id, the same in every xdist worker."""
    found = os.environ.get(_RUN_ENV)
    if not found:
        found = os.environ[_RUN_ENV] = uuid.uuid4().hex[:12]
    return found


def is_xdist_worker() -> bool:
    return "PYTEST_XDIST_WORKER" in os.environ


def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory every process of this run sees: the workers' common basetemp."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if is_xdist_worker() else base


def made_once(tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[], T]) -> T:
    """``make()`` once per run, whichever worker asks first; its (JSON) result for all."""
    shared = run_dir(tmp_path_factory) / "made-once"
    shared.mkdir(exist_ok=True)
    result = shared / f"{name}.json"
    with (shared / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if result.exists():
            return json.loads(result.read_text())  # type: ignore[no-any-return]
        made = make()
        result.write_text(json.dumps(made))
        return made


def run_labels() -> tuple[str, str]:
    """``--label`` and its value for a Podman object the run removes when it ends."""
    return "--label", f"{RUN_LABEL}={run_id()}"


def _podman(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["podman", *args], capture_output=True, text=True, check=False)


def remove_run_objects() -> None:
    """Remove the volumes and images this run labelled as its own."""
    if shutil.which("podman") is None:
        return
    label = f"label={RUN_LABEL}={run_id()}"
    for kind in ("volume", "image"):
        listed = _podman(kind, "ls", "-q", "--filter", label)
        names = listed.stdout.split() if listed.returncode == 0 else []
        if names:
            _podman(kind, "rm", "-f", *names)
