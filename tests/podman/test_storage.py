"""``containers-storage:`` destinations, through the Podman API (a private service if needed)."""

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from staves.podman.service import candidate_urls
from staves.podman.storage import storage_name
from tests.conftest import require_tools, run
from tests.helpers import staves


def test_candidate_urls_follow_podman_order() -> None:
    env = {"CONTAINER_HOST": "unix:///a.sock", "XDG_RUNTIME_DIR": "/run/user/1000"}
    assert candidate_urls(None, env) == [
        "unix:///a.sock",
        "unix:///run/user/1000/podman/podman.sock",
        "unix:///run/podman/podman.sock",
    ]
    assert candidate_urls("tcp://127.0.0.1:1", env) == ["tcp://127.0.0.1:1"]


@pytest.mark.parametrize(
    ("name", "full"),
    [("app", "app:dev"), ("app:1", "app:1"), ("localhost:5000/app", "localhost:5000/app:dev")],
)
def test_storage_name_fills_in_the_tag(name: str, full: str) -> None:
    assert storage_name(name, "dev") == full


@pytest.mark.podman
def test_pack_into_containers_storage_runs_with_podman(tmp_path: Path) -> None:
    require_tools("podman")
    rootfs = tmp_path / "rootfs"
    (rootfs / "bin").mkdir(parents=True)
    shutil.copy("/bin/busybox", rootfs / "bin" / "busybox")
    name = f"localhost/staves-test/storage-{uuid.uuid4().hex[:8]}:t"
    proc = staves("pack", "--rootfs", rootfs, "-o", f"containers-storage:{name}")
    assert proc.returncode == 0, proc.stderr
    try:
        out = run("podman", "run", "--rm", name, "/bin/busybox", "echo", "stored").stdout
        assert out == "stored\n"
        listed = run("podman", "image", "inspect", "--format", "{{.Digest}}", name).stdout
        assert listed.strip()
    finally:
        subprocess.run(["podman", "rmi", "-f", name], capture_output=True, check=False)


def test_unreachable_url_is_one_clear_line(tmp_path: Path) -> None:
    proc = staves(
        "pack",
        "--rootfs",
        tmp_path,
        "--url",
        f"unix://{tmp_path}/none.sock",
        "-o",
        "containers-storage:x",
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"staves: error: --url: no Podman service answers at unix://{tmp_path}/none.sock"
    ]


@pytest.mark.podman
def test_a_private_service_ends_with_staves_even_when_it_is_killed(tmp_path: Path) -> None:
    """SIGKILL gives staves no chance to stop the service it started; it must not linger."""
    require_tools("podman", "setpriv")
    if Path("/run/podman/podman.sock").exists():
        pytest.skip("a root Podman service answers; staves would not start its own")
    environ = {k: v for k, v in os.environ.items() if k not in ("CONTAINER_HOST",)}
    environ["XDG_RUNTIME_DIR"] = str(tmp_path)  # no rootless socket there
    environ["TMPDIR"] = str(tmp_path)  # the socket's directory, which a kill leaves behind
    script = (
        "import os, sys, time\n"
        "from staves.podman.service import podman_client\n"
        "with podman_client(None, os.environ) as client:\n"
        "    print(client.api.base_url.netloc, flush=True)\n"
        "    time.sleep(120)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=environ
    )
    try:
        assert proc.stdout is not None and "staves-podman-" in proc.stdout.readline()
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        assert len(children) == 1
        service = Path(f"/proc/{children[0]}")
        assert b"system\0service" in (service / "cmdline").read_bytes()
    finally:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 15
    while service.exists() and (service / "stat").read_text().split()[2] != "Z":
        assert time.monotonic() < deadline, "the private Podman service outlived staves"
        time.sleep(0.1)
