"""Binary packages reused whatever the dependency shape, builder and image configured apart,
no drift between what a package is compiled against and what the image gets, sync tools a
stage3 lacks, and the binary-package cache keyed by the builder — on the stage3-shaped test
builder, with real emerge and Podman."""

import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.builder_fixtures import BUILDER, TEST_IMAGES, Builder, builder, overlay_git, test_images

pytestmark = [pytest.mark.builder, pytest.mark.podman]
__all__ = ["builder", "overlay_git", "test_images"]  # fixtures used by name

SHAPES = """
name = "localhost/staves-test/shapes"
packages = ["app-misc/shaper", "app-misc/hello"]
"""
IGNORED = "binary packages have been ignored due to changed dependencies"


def podman(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["podman", *args], capture_output=True, text=True, check=False)


def test_binary_packages_are_reused_and_a_use_change_rebuilds_one_package(
    builder: Builder,
) -> None:
    cold = builder.build(SHAPES)
    assert "app-misc/shaper-1.0" in cold.compiled()
    warm = builder.build(SHAPES)
    assert warm.compiled() == []
    assert IGNORED not in warm.log
    assert warm.run("/usr/bin/shaper") == "round shape 2\n"
    square = builder.build(SHAPES + "['app-misc/shaper']\nuse = ['square', '-round']\n")
    assert square.compiled() == ["app-misc/shaper-1.0"]
    assert square.run("/usr/bin/shaper") == "square shape 2\n"
    # An unrelated package's USE flag rebuilds that package alone.
    loud = builder.build(SHAPES + "['app-misc/hello']\nuse = ['shout']\n")
    assert loud.compiled() == ["app-misc/hello-1.0"]
    assert IGNORED not in loud.log
    assert loud.run("/usr/bin/hello") == "HELLO WORLD!\n"


def test_a_changed_package_environment_rebuilds_that_package_alone(builder: Builder) -> None:
    spec = (
        'name = "envs"\npackages = ["app-misc/envprobe", "app-misc/hello"]\n'
        'command = ["/usr/bin/envprobe"]\n'
        '[env.greeting]\nSTAVES_GREETING = "first"\n'
        "['app-misc/envprobe']\nenv = ['greeting']\n"
    )
    assert builder.build(spec).run() == "first\n"
    second = builder.build(spec.replace('"first"', '"second"'))
    assert second.compiled() == ["app-misc/envprobe-1.0"]
    assert second.run() == "second\n"


def test_the_program_links_the_library_version_the_image_gets(builder: Builder) -> None:
    # The builder has dev-libs/libshape-1 (libshape.so.1); the snapshot's is libshape-2.
    build = builder.build(SHAPES)
    files = build.files()
    assert "usr/lib64/libshape.so.2" in files
    assert "usr/lib64/libshape.so.1" not in files
    assert build.run("/usr/bin/shaper") == "round shape 2\n"


def test_the_spec_configures_the_image_never_the_builder(builder: Builder, tmp_path: Path) -> None:
    # dev-util/gentool is a build dependency of hello, built for the builder alone: a
    # package.env meant for the image that broke its compiler must not reach it.
    spec = (
        'name = "apart"\npackages = ["app-misc/hello"]\ncommand = ["/usr/bin/hello"]\n'
        '[env]\nCFLAGS = "-O1 -pipe"\n'
        '[env.nocompiler]\nCC = "/bin/false"\n'
        "['dev-util/gentool']\nenv = ['nocompiler']\n"
    )
    sbom = tmp_path / "sbom.json"
    build = builder.build(spec, "--sbom", str(sbom))
    assert build.run() == "Hello World!\n"
    # The spec's make.conf did shape the image's packages (the SBOM records their CFLAGS).
    assert "-O1 -pipe" in sbom.read_text()


def test_a_git_repository_gets_git_into_a_builder_without_it(
    builder: Builder, overlay_git: str
) -> None:
    spec = (
        'name = "o"\npackages = ["app-misc/overlay-hello"]\n'
        'command = ["/usr/bin/overlay-hello"]\n'
        f'[[repositories]]\nname = "staves-overlay"\ntype = "git"\nuri = "{overlay_git}"\n'
    )
    first = builder.build(spec, "--network", "host")
    assert "the builder has no git; emerging dev-vcs/git" in first.log
    assert first.run() == "hello from the overlay\n"
    again = builder.build(spec, "--network", "host")
    assert re.search(r">>> Emerging binary \(1 of 1\) dev-vcs/git-", again.log)
    assert again.compiled() == []


def test_a_sync_tool_that_cannot_be_emerged_stops_the_build_first(builder: Builder) -> None:
    spec = (
        'name = "hg"\npackages = ["app-misc/hello"]\n'
        '[[repositories]]\nname = "hg-overlay"\ntype = "mercurial"\n'
        'uri = "https://example.invalid/hg-overlay"\n'
    )
    failed = builder.build(spec, expect_ok=False)
    assert failed.proc.returncode == 1
    last = failed.log.strip().splitlines()[-1]
    assert "syncing needs hg" in last and "dev-vcs/mercurial" in last
    assert "Emerging" not in failed.log


@pytest.fixture
def no_multilib_builder(test_images: None) -> Iterator[str]:
    """The test builder on another profile: default/linux/amd64/23.0/no-multilib."""
    name = f"staves-test-profile-{uuid.uuid4().hex[:8]}"
    image = f"{TEST_IMAGES}/builder-no-multilib:{name}"
    profile = "../../var/db/repos/gentoo/profiles/default/linux/amd64/23.0/no-multilib"
    link = ("ln", "-sfn", profile, "/etc/portage/make.profile")
    made = podman("run", "--name", name, BUILDER, *link)
    assert made.returncode == 0, made.stderr
    committed = podman("commit", "-q", name, image)
    podman("rm", "-f", name)
    assert committed.returncode == 0, committed.stderr
    try:
        yield image
    finally:
        podman("rmi", "-f", image)


def test_builders_with_other_profiles_never_share_binary_packages(
    builder: Builder, no_multilib_builder: str
) -> None:
    spec = 'name = "p"\npackages = ["app-misc/hello"]\ncommand = ["/usr/bin/hello"]\n'
    multilib = builder.build(spec)
    other = builder.build(spec, "--builder", no_multilib_builder)
    assert "sys-libs/glibc-2.36-r1" in other.compiled()
    assert "app-misc/hello-1.0" in other.compiled()
    assert "usr/lib/libc.so.6" in multilib.files()  # the x86 libc: lib is a link to usr/lib
    assert "usr/lib/libc.so.6" not in other.files()  # amd64 only
    assert other.run() == "Hello World!\n"
    # The first builder's packages are still there for it.
    assert builder.build(spec).compiled() == []
