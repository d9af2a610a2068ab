"""What the in-builder script reads of the sources an image was made from: a package's
distfiles from its saved environment, their Manifest lines, a repository's revision."""

import bz2
import subprocess
from pathlib import Path

import pytest

from staves.builder.record import manifest_distfiles, package_distfiles, repository_revision
from tests.conftest import require_tools

BLAKE = "5d" * 64
SHA = "0f" * 64


def test_distfiles_are_the_environments_A_sorted_once(tmp_path: Path) -> None:
    environment = (
        'declare -x ABI="amd64"\n'
        'declare -x A="b-1.tar.gz a-1.tar.xz b-1.tar.gz"\n'
        'declare -- AA=""\n'
    )
    (tmp_path / "environment.bz2").write_bytes(bz2.compress(environment.encode()))
    assert package_distfiles(tmp_path) == ["a-1.tar.xz", "b-1.tar.gz"]
    (tmp_path / "environment.bz2").write_bytes(bz2.compress(b'declare -x A=""\n'))
    assert package_distfiles(tmp_path) == []
    assert package_distfiles(tmp_path / "missing") == []


def test_manifest_dist_lines_give_size_and_digests(tmp_path: Path) -> None:
    (tmp_path / "Manifest").write_text(
        f"DIST a-1.tar.xz 221 BLAKE2B {BLAKE} SHA512 {SHA}\n"
        "EBUILD a-1.ebuild 10 BLAKE2B 00 SHA512 00\n"
    )
    assert manifest_distfiles(tmp_path) == {
        "a-1.tar.xz": {"size": 221, "digests": {"BLAKE2B": BLAKE, "SHA512": SHA}}
    }
    assert manifest_distfiles(tmp_path / "none") == {}


def test_a_snapshots_revision_is_its_timestamp_commit(tmp_path: Path) -> None:
    (tmp_path / "metadata").mkdir()
    assert repository_revision(tmp_path) is None
    (tmp_path / "metadata" / "timestamp.commit").write_text(
        "6828cc6a6941be646bc97be23cd92738a444c84b 1795999501 Mon, 30 Nov 2026 00:45:01 +0000\n"
    )
    assert repository_revision(tmp_path) == "6828cc6a6941be646bc97be23cd92738a444c84b"


@pytest.mark.tools
def test_a_git_repositorys_revision_is_its_head(tmp_path: Path) -> None:
    require_tools("git")
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@localhost"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "x"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    assert repository_revision(tmp_path) == head.strip()
