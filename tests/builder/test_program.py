"""The in-builder program as the builder gets it: one zipapp of the package, run by a
plain python3 with its plan in a file, never on the command line."""

import ast
import json
import os
import signal
import subprocess
import sys
import tarfile
import time
import zipfile
from io import BytesIO
from pathlib import Path

import pytest

from staves.builder.lease import Lease
from staves.podman.builder_program import (
    PLAN_PATH,
    PROGRAM_PATH,
    builder_command,
    program_files,
    program_zip,
)

PACKAGE = Path(__file__).resolve().parents[2] / "staves" / "builder"
MAX_MODULE_LINES = 400


def test_the_command_names_files_and_carries_neither_program_nor_plan() -> None:
    command = builder_command()
    assert command == ["python3", PROGRAM_PATH, PLAN_PATH]
    assert sum(len(arg) for arg in command) < 100


def test_the_zipapp_holds_every_module_and_is_the_same_every_time() -> None:
    names = zipfile.ZipFile(BytesIO(program_zip())).namelist()
    modules = {path.name for path in PACKAGE.glob("*.py")}
    assert {f"staves/builder/{name}" for name in modules} <= set(names)
    assert "__main__.py" in names
    program_zip.cache_clear()
    first = program_zip()
    program_zip.cache_clear()
    assert program_zip() == first


def test_the_program_and_plan_arrive_as_files_in_one_tar() -> None:
    plan = {"packages": ["app-misc/hello"], "files": {}}
    with tarfile.open(fileobj=BytesIO(program_files(plan))) as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert set(members) == {PROGRAM_PATH.rsplit("/", 1)[1], PLAN_PATH.rsplit("/", 1)[1]}
        data = tar.extractfile(members[PLAN_PATH.rsplit("/", 1)[1]])
        assert data is not None and json.loads(data.read()) == plan
        assert members[PLAN_PATH.rsplit("/", 1)[1]].mode == 0o600


def run_program(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    program = tmp_path / "program.pyz"
    program.write_bytes(program_zip())
    # -I: nothing of this checkout on the path, as in the builder.
    return subprocess.run(
        [sys.executable, "-I", str(program), *args], capture_output=True, text=True, timeout=60
    )


def test_the_zipapp_runs_on_a_bare_python_and_refuses_a_bad_plan(tmp_path: Path) -> None:
    (tmp_path / "plan.json").write_text(json.dumps({"packages": []}))
    done = run_program(tmp_path, str(tmp_path / "plan.json"))
    assert done.returncode == 2
    assert "staves: bad build plan:" in done.stderr
    # stdout carries the records alone; the last says how the program ended.
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert records[-1] == {"event": "finished", "code": 2}
    missing = run_program(tmp_path, str(tmp_path / "none.json"))
    assert missing.returncode == 2 and "cannot read the plan" in missing.stderr
    assert run_program(tmp_path).returncode == 2  # no plan named: usage


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_each_module_is_small_and_imports_its_siblings_relatively(path: Path) -> None:
    text = path.read_text()
    assert len(text.splitlines()) <= MAX_MODULE_LINES
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom) and node.level == 0:
            assert not (node.module or "").startswith("staves"), f"{path.name}: {node.module}"


def test_a_beat_before_the_program_listens_ends_nothing() -> None:
    """Under qemu-user or an init such as catatonit the kernel does not shield the program
    from signals it has no handler for yet: the lease's signal is one ignored by default."""
    from staves.builder.protocol import LEASE_SIGNAL

    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1)"])
    time.sleep(0.3)
    proc.send_signal(getattr(signal, LEASE_SIGNAL))
    assert proc.wait() == 0


def test_a_lease_runs_out_when_the_host_stops_renewing_it() -> None:
    before = signal.getsignal(signal.SIGURG)
    try:
        lease = Lease(signal.SIGURG, timeout=0.3)
        assert not lease.expired()
        time.sleep(0.4)
        assert lease.expired()  # no beat for longer than the timeout
        os.kill(os.getpid(), signal.SIGURG)  # the host's beat, as Podman's kill sends it
        time.sleep(0.01)  # the handler runs in this (the main) thread, between bytecodes
        assert not lease.expired()  # a beat renews it
    finally:
        signal.signal(signal.SIGURG, before)
