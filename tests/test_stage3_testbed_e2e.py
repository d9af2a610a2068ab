"""The test builder is shaped like a Gentoo stage3, and images built with it like Gentoo's.

What a stage3 shows Portage — its system in /var/db/pkg, glibc providing virtual/libc, the
multilib amd64 23.0 profile, make.globals' defaults, no git — the test builder shows too,
so bugs that a real stage3 brings out come out here.
"""

import subprocess

import pytest

from tests.builder_fixtures import BUILDER, PORTAGE, Builder, builder, test_images
from tests.conftest import PROJECT

pytestmark = [pytest.mark.builder, pytest.mark.podman]
__all__ = ["builder", "test_images"]  # fixtures used by name

REPO = PROJECT / "tests" / "testbed" / "repo"


def in_builder(script: str) -> str:
    """Run a shell script in the test builder with the test tree where a stage3 has it."""
    proc = subprocess.run(
        [
            "podman",
            "run",
            "--rm",
            "--network",
            "none",
            "-v",
            f"{REPO}:/var/db/repos/gentoo:ro",
            BUILDER,
            "bash",
            "-c",
            script,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def in_builder_with_snapshot(script: str) -> str:
    """Run a shell script in the test builder with the snapshot image where staves mounts
    it (read-only, linked in at /var/db/repos/gentoo)."""
    link = "rmdir /var/db/repos/gentoo && ln -s /snapshot/var/db/repos/gentoo /var/db/repos/gentoo"
    proc = subprocess.run(
        ["podman", "run", "--rm", "--network", "none",
         "--mount", f"type=image,source={PORTAGE},destination=/snapshot",
         BUILDER, "bash", "-c", f"{link} && {script}"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def elf_class(data: bytes) -> int:
    """1 for a 32-bit ELF file, 2 for a 64-bit one."""
    assert data[:4] == b"\x7fELF"
    return data[4]


def test_the_builder_records_its_system_and_libc_provider(test_images: None) -> None:
    said = in_builder(
        "portageq best_version / virtual/libc; portageq best_version / sys-libs/glibc;"
        "portageq best_version / sys-devel/gcc; portageq best_version / sys-apps/baselayout;"
        "portageq best_version / app-shells/bash; portageq best_version / sys-apps/portage;"
        "cat /var/db/pkg/virtual/libc-*/RDEPEND"
    ).split("\n")
    assert said[0] == "virtual/libc-1-r1"
    assert said[1].startswith("sys-libs/glibc-2.")
    assert said[2].startswith("sys-devel/gcc-")
    assert said[3].startswith("sys-apps/baselayout-")
    assert said[4].startswith("app-shells/bash-")
    assert said[5] == "sys-apps/portage-3.0.83"
    assert said[6] == "sys-libs/glibc:2.2"


def test_the_profile_is_multilib_amd64_23_0_with_license_groups(test_images: None) -> None:
    names = "MULTILIB_ABIS LIBDIR_amd64 LIBDIR_x86 ACCEPT_LICENSE BINPKG_FORMAT CHOST"
    said = in_builder(
        f"for v in {names}; do portageq envvar $v; done; readlink -f /etc/portage/make.profile;"
        "portageq envvar USE; portageq envvar FEATURES; command -v git hg svn || true"
    ).split("\n")
    # ACCEPT_LICENSE="-* @FREE" in the profile, as Portage resolves it.
    assert said[:6] == ["amd64 x86", "lib64", "lib", "@FREE", "gpkg", "x86_64-pc-linux-gnu"]
    assert said[6] == "/var/db/repos/gentoo/profiles/default/linux/amd64/23.0"
    assert "multilib" in said[7].split() and "split-usr" not in said[7].split()
    # make.globals' defaults, as a stage3 has them.
    assert {"binpkg-multi-instance", "preserve-libs", "sandbox"} <= set(said[8].split())
    assert said[9:] == [""], "a stage3 ships no git, mercurial or subversion"


def test_glibc_gives_the_image_both_abis_libc(builder: Builder) -> None:
    build = builder.build(
        'name = "libc"\npackages = ["app-misc/hello"]\ncommand = ["/usr/bin/hello"]\n'
    )
    files = build.files()
    # Through baselayout's merged-usr links (/lib64 -> usr/lib64, /lib -> usr/lib).
    assert {"usr/lib64/libc.so.6", "usr/lib64/ld-linux-x86-64.so.2", "usr/lib/libc.so.6"} <= files
    extracted = subprocess.run(
        ["tar", "-xzOf", str(build.layer_blob()), "usr/lib64/libc.so.6"],
        capture_output=True,
        check=True,
    ).stdout
    assert elf_class(extracted) == 2
    extracted = subprocess.run(
        ["tar", "-xzOf", str(build.layer_blob()), "usr/lib/libc.so.6"],
        capture_output=True,
        check=True,
    ).stdout
    assert elf_class(extracted) == 1
    assert build.run() == "Hello World!\n"


def test_a_license_outside_free_needs_accepting(builder: Builder) -> None:
    spec = 'name = "r"\npackages = ["app-misc/redistributable"]\n'
    spec += 'command = ["/usr/bin/redistributable"]\n'
    refused = builder.build(spec, expect_ok=False)
    assert refused.proc.returncode != 0
    assert "Test-Redistributable" in refused.log
    accepted = builder.build(
        spec + "['app-misc/redistributable']\nlicense = ['@BINARY-REDISTRIBUTABLE']\n"
    )
    assert accepted.run() == "accepted by license\n"


# Every ebuild's metadata through Portage's API; what Portage had to generate by sourcing
# an ebuild lands in its depcachedir, under the repository's path.
READ_EVERY_EBUILD = """/opt/portage/bin/python3 -c '
import portage
db = portage.db[portage.root]["porttree"].dbapi
print(len([db.aux_get(cpv, ["DEPEND"]) for cpv in db.cpv_all()]))
'
find /var/cache/edb/dep/snapshot -type f | wc -l
find /snapshot/var/db/repos/gentoo/metadata/md5-cache -type f | wc -l
"""


def test_the_snapshot_ships_its_md5_cache_and_no_ebuild_is_sourced(test_images: None) -> None:
    """As Gentoo's snapshot: metadata/md5-cache, made by egencache as the image is built
    (not committed), an entry for each ebuild, each valid: a fresh builder reading every
    ebuild's metadata sources none."""
    assert "cache-formats = md5-dict" in (REPO / "metadata" / "layout.conf").read_text()
    assert not (REPO / "metadata" / "md5-cache").exists()
    ebuilds, sourced, entries = map(int, in_builder_with_snapshot(READ_EVERY_EBUILD).split())
    assert ebuilds == len(list(REPO.glob("*/*/*.ebuild")))
    assert entries == ebuilds
    assert sourced == 0
