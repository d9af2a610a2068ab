"""``staves pack -o docker://…`` as a user runs it, against a real registry."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.loopback import free_port
from tests.registry_fixtures import (
    PASSWORD,
    USER,
    CertAuthority,
    Registry,
    busybox_rootfs,
    registry_factory,
    require,
    secure_registry,
    test_ca,
)

__all__ = ["registry_factory", "secure_registry", "test_ca"]  # fixtures used by name

PROJECT = Path(__file__).resolve().parent.parent


def staves(
    *args: str | Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """This checkout's CLI (not whichever staves is installed)."""
    code = "import sys; from staves.cli import main; sys.exit(main())"
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT), **(env or {})},
        cwd=PROJECT,
        timeout=300,
        check=False,
    )


def inspect(ref: str, *flags: str) -> dict[str, object]:
    require("skopeo")
    proc = subprocess.run(
        ["skopeo", "inspect", *flags, f"docker://{ref}"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.registry
@pytest.mark.tools
def test_pack_pushes_to_several_destinations(
    secure_registry: Registry, test_ca: CertAuthority, tmp_path: Path
) -> None:
    rootfs = busybox_rootfs(tmp_path / "rootfs")
    host = secure_registry.host
    proc = staves(
        "pack", "--rootfs", rootfs, "--tag", "app:7",
        "-o", f"docker://{host}/app",
        "-o", f"docker://{host}/app:1.2",
        "-o", f"docker://{host}/mirror/app:1.2",
        "--creds", f"{USER}:{PASSWORD}", "--cert-dir", test_ca.cert_dir,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    digest = proc.stdout.strip()
    flags = ("--cert-dir", str(test_ca.cert_dir), "--creds", f"{USER}:{PASSWORD}")
    for ref in (f"{host}/app:7", f"{host}/app:1.2", f"{host}/mirror/app:1.2"):
        assert inspect(ref, *flags)["Digest"] == digest
    assert PASSWORD not in proc.stderr + proc.stdout


@pytest.mark.registry
@pytest.mark.tools
def test_pack_with_tls_verify_false_and_auth_file(
    secure_registry: Registry, tmp_path: Path
) -> None:
    import base64

    authfile = tmp_path / "auth.json"
    auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    authfile.write_text(json.dumps({"auths": {secure_registry.host: {"auth": auth}}}))
    rootfs = busybox_rootfs(tmp_path / "rootfs")
    ref = f"{secure_registry.host}/insecure:1"
    proc = staves(
        "pack", "--rootfs", rootfs, "-o", f"docker://{ref}",
        "--tls-verify=false", "--authfile", authfile,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    seen = inspect(ref, "--tls-verify=false", "--creds", f"{USER}:{PASSWORD}")
    assert seen["Digest"] == proc.stdout.strip()


@pytest.mark.registry
def test_wrong_password_is_one_line(secure_registry: Registry, tmp_path: Path) -> None:
    rootfs = busybox_rootfs(tmp_path / "rootfs")
    proc = staves(
        "pack", "--rootfs", rootfs, "-o", f"docker://{secure_registry.host}/app:1",
        "--tls-verify=false", "--creds", f"{USER}:not-the-Password",
    )  # fmt: skip
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert secure_registry.host in lines[0] and "401" in lines[0]
    assert "not-the-Password" not in proc.stderr


@pytest.mark.parametrize("bad", ["docker://", "docker://UPPER/Case:1", "docker://app:bad tag"])
def test_bad_registry_reference_is_a_usage_error(tmp_path: Path, bad: str) -> None:
    proc = staves("pack", "--rootfs", tmp_path, "-o", bad)
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_a_registry_nobody_answers_at_is_one_plain_line_after_reported_retries(
    tmp_path: Path,
) -> None:
    port = free_port()  # closed again: nothing listens there
    rootfs = busybox_rootfs(tmp_path / "rootfs")
    proc = staves("pack", "--rootfs", rootfs, "-o", f"docker://127.0.0.1:{port}/app:1")
    assert proc.returncode == 1
    *retries, error = proc.stderr.strip().splitlines()
    assert error == (
        f"staves: error: contacting the registry at 127.0.0.1:{port}: connection refused "
        "(after 6 attempts)"
    )
    assert [line.rsplit("(", 1)[1] for line in retries] == [
        f"attempt {n} of 6)" for n in (2, 3, 4, 5, 6)
    ]
    assert all(" connection refused; retrying in " in line for line in retries)
