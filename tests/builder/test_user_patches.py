"""User patches in the builder: written where eapply_user reads them, checked against their
digests; which a merged package was built with; which hunks of which did not apply."""

import base64
import hashlib
import json
from pathlib import Path

import pytest

from staves.builder.plan import PlanError
from staves.builder.user_patches import (
    applied_patches,
    is_patched,
    patch_problem,
    patched_directories,
    record_applied_patches,
    write_patches,
)

FIX = b"--- a/hello.c\n+++ b/hello.c\n@@ -1 +1 @@\n-a\n+b\n"
SHA = hashlib.sha256(FIX).hexdigest()


def entry(directory: str = "app-misc/hello", name: str = "001-fix.patch", **more: str) -> dict:
    found = {
        "atom": "app-misc/hello",
        "directory": directory,
        "name": name,
        "source": "patches/fix.patch",
        "sha256": SHA,
        "data": base64.b64encode(FIX).decode(),
    }
    return {**found, **more}


def test_patches_land_in_the_configuration_roots_patches_directory(tmp_path: Path) -> None:
    record = tmp_path / "sources.json"
    plan = {"patches": [entry(), entry("dev-libs/libgreet-1.0-r0:0", "002-fix.patch")]}
    write_patches(plan, str(tmp_path), str(record))
    top = tmp_path / "etc/portage/patches"
    assert (top / "app-misc/hello/001-fix.patch").read_bytes() == FIX
    assert (top / "dev-libs/libgreet-1.0-r0:0/002-fix.patch").read_bytes() == FIX
    assert json.loads(record.read_text())["001-fix.patch"] == "patches/fix.patch"


@pytest.mark.parametrize(
    "bad",
    [
        entry(sha256="0" * 64),
        entry(data="not base64!"),
        entry(directory="../../etc"),
        entry(directory="app-misc/hello/../x"),
        entry(name="../001-fix.patch"),
        entry(name=".hidden.patch"),
    ],
)
def test_a_patch_not_as_the_host_wrote_it_is_refused(tmp_path: Path, bad: dict) -> None:
    with pytest.raises(PlanError):
        write_patches({"patches": [bad]}, str(tmp_path), str(tmp_path / "sources.json"))
    assert not list((tmp_path).rglob("*.patch"))


def vdb_entry(tmp_path: Path, cpv: str, slot: str = "0") -> Path:
    path = tmp_path / "var/db/pkg" / cpv
    path.mkdir(parents=True)
    (path / "SLOT").write_text(slot + "\n")
    return path


def test_portages_record_of_what_it_applied_comes_first(tmp_path: Path) -> None:
    package = vdb_entry(tmp_path, "app-misc/hello-1.0")
    (package / "user_patch.digests").write_bytes(f"{SHA}\x00001-fix.patch\x00".encode())
    plan = [entry(), entry("app-misc/hello", "002-other.patch", source="patches/other.patch")]
    assert applied_patches(package, plan) == [
        {"name": "001-fix.patch", "source": "patches/fix.patch", "sha256": SHA}
    ]


def test_without_portages_record_the_directories_eapply_user_reads_tell(tmp_path: Path) -> None:
    package = vdb_entry(tmp_path, "dev-libs/libgreet-1.0-r2", slot="0/1")
    plan = [
        entry("dev-libs/libgreet", "001-a.patch"),
        entry("dev-libs/libgreet-1.0:0", "002-b.patch"),
        entry("dev-libs/libgreet-1.0-r2", "003-c.patch"),
        entry("dev-libs/libgreet-1.0-r0", "004-d.patch"),  # another revision
        entry("dev-libs/libgreet:1", "005-e.patch"),  # another slot
    ]
    names = [p["name"] for p in applied_patches(package, plan)]
    assert names == ["001-a.patch", "002-b.patch", "003-c.patch"]


def test_the_sources_record_names_each_packages_patches(tmp_path: Path) -> None:
    vdb_entry(tmp_path, "app-misc/hello-1.0")
    vdb_entry(tmp_path, "dev-libs/libgreet-1.0")
    record = tmp_path / "sources.json"
    record.write_text(
        json.dumps({"packages": [{"cpv": "app-misc/hello-1.0"}, {"cpv": "dev-libs/libgreet-1.0"}]})
    )
    record_applied_patches(tmp_path, [entry()], str(record))
    packages = json.loads(record.read_text())["packages"]
    assert packages[0]["patches"][0]["sha256"] == SHA
    assert "patches" not in packages[1]


def test_a_patched_package_is_never_taken_from_the_builder() -> None:
    directories = patched_directories({"patches": [entry("app-misc/hello-1.0-r0:0")]})
    assert is_patched("app-misc/hello-1.0", directories)
    assert not is_patched("app-misc/hello-1.1", directories)
    assert not is_patched("app-misc/hello-world-1.0", directories)


# eapply's output in a build log, as Portage wrote it when a hunk did not apply.
FAILED_LOG = """\
>>> Preparing source in /var/tmp/portage/app-misc/hello-1.0/work ...
 \x1b[32m*\x1b[0m Applying user patches from /var/lib/staves/image-config/etc/portage/patches ...
 \x1b[32m*\x1b[0m Applying 001-fix.patch ...
patching file hello.c
Hunk #1 FAILED at 6.
Hunk #3 FAILED at 40.
2 out of 3 hunks FAILED -- saving rejects to file hello.c.rej
 \x1b[31;01m*\x1b[0m ERROR: app-misc/hello-1.0::gentoo failed (prepare phase):
 \x1b[31;01m*\x1b[0m   patch '-p1' '-f' '-g0' '--no-backup-if-mismatch' failed with \
'/var/lib/staves/image-config/etc/portage/patches/app-misc/hello/001-fix.patch'
"""


def test_a_patch_that_does_not_apply_is_named_with_its_failing_hunks(tmp_path: Path) -> None:
    record = tmp_path / "sources.json"
    record.write_text(json.dumps({"001-fix.patch": "patches/fix.patch"}))
    assert patch_problem(FAILED_LOG, str(record)) == (
        "user patch patches/fix.patch does not apply: hunk #1 at line 6 of hello.c, "
        "hunk #3 at line 40 of hello.c FAILED"
    )
    missing = FAILED_LOG.replace("patching file hello.c\nHunk #1 FAILED at 6.\n", "").replace(
        "Hunk #3 FAILED at 40.\n", "can't find file to patch at input line 3\n"
    )
    assert patch_problem(missing, str(record)).endswith("a file it patches is missing")
    assert patch_problem("emerge failed: make: *** [all] Error 1\n", str(record)) is None
