"""``staves audit`` on images packed from hand-made roots: exit status, one-line troubles."""

import json
import subprocess
from pathlib import Path

from tests.conftest import PROJECT
from tests.vdb_samples import GLIBC, Pkg, make_rootfs

GLSA_DIR = PROJECT / "tests" / "testbed" / "repo" / "metadata" / "glsa"
MOTD = Pkg(
    "app-misc/motd-1.0",
    files={"/etc/motd": b"hello\n"},
    meta={"LICENSE": "FSFAP", "USE": "amd64", "IUSE": "banner"},
)


def staves(*args: str | Path) -> subprocess.CompletedProcess[str]:
    argv = ["staves", *map(str, args)]
    return subprocess.run(argv, capture_output=True, text=True, check=False)


def packed(tmp_path: Path, packages: list[Pkg], platform: str = "linux/amd64") -> str:
    root = make_rootfs(tmp_path / "root", packages)
    layout = f"oci:{tmp_path / 'layout'}:t"
    done = staves("pack", "--rootfs", root, "-o", layout, "--platform", platform)
    assert done.returncode == 0, done.stderr
    return layout


def test_an_affected_package_is_exit_status_1_and_json_names_it(tmp_path: Path) -> None:
    layout = packed(tmp_path, [MOTD, GLIBC])
    done = staves("audit", layout, "--glsa-dir", GLSA_DIR, "--format", "json")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert (report["packages_from"], report["arch"], report["packages"]) == ("vdb", "amd64", 2)
    assert [(f["id"], f["package"], f["installed"]) for f in report["findings"]] == [
        ("202611-01", "app-misc/motd", "1.0")
    ]


def test_an_advisory_for_another_arch_does_not_apply(tmp_path: Path) -> None:
    # glibc 2.36-r1 is in 202611-03's revision range, for x86 only.
    glibc = Pkg("sys-libs/glibc-2.36-r1", meta={"SLOT": "2.2", "LICENSE": "LGPL-2.1+"})
    amd64 = staves("audit", packed(tmp_path / "a", [glibc]), "--glsa-dir", GLSA_DIR)
    assert amd64.returncode == 0, amd64.stderr
    assert amd64.stdout.splitlines()[1] == "no advisory applies"
    x86 = staves("audit", packed(tmp_path / "b", [glibc], "linux/386"), "--glsa-dir", GLSA_DIR)
    assert x86.returncode == 1 and "GLSA 202611-03" in x86.stdout and "<~2.36-r2" in x86.stdout


def test_troubles_are_one_line_with_exit_status_2(tmp_path: Path) -> None:
    empty_root = tmp_path / "empty"
    empty_root.mkdir()
    layout = f"oci:{tmp_path / 'layout'}:t"
    assert staves("pack", "--rootfs", empty_root, "-o", layout).returncode == 0
    cases = [
        ((layout, "--glsa-dir", GLSA_DIR), f"staves: error: SOURCE: {layout} has no package list"),
        ((layout, "--glsa-dir", tmp_path / "none"), "staves: error: --glsa-dir: "),
        (("nowhere:x", "--glsa-dir", GLSA_DIR), "staves: error: SOURCE: "),
        ((f"oci:{tmp_path}/missing:t", "--glsa-dir", GLSA_DIR), "staves: error: reading oci:"),
    ]
    for args, start in cases:
        done = staves("audit", *args)
        assert done.returncode == 2, (args, done.stderr)
        (line,) = done.stderr.splitlines()
        assert line.startswith(start), line
