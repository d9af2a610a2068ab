"""Builds side by side and builds that get killed, against real Podman and the test builder:
shared cache volumes stay usable, and no builder outlives its staves."""

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from staves.podman.owners import start_time, this_machine
from tests.builder_fixtures import (
    BUILDER,
    PORTAGE,
    Build,
    Builder,
    builder_containers,
    cloned_builder,
    podman,
    test_images,
)
from tests.test_build_e2e import HELLO, compiled_from_source

__all__ = ["cloned_builder", "test_images"]  # fixtures, imported for pytest

pytestmark = [pytest.mark.podman, pytest.mark.builder]

# The in-builder script gives up 10 s after the last heartbeat; Podman then removes it.
GONE_WITHIN = 60.0  # the builder's lease (30 s) and its removal


@pytest.fixture
def fresh_builder(test_images: None, tmp_path: Path) -> Iterator[Builder]:
    """A builder whose cache volume does not exist yet."""
    cache = f"staves-test-race-{uuid.uuid4().hex[:8]}"
    try:
        yield Builder(cache, tmp_path)
    finally:
        podman("volume", "rm", "-f", cache)


def test_two_builds_at_once_on_a_new_volume_both_succeed(fresh_builder: Builder) -> None:
    with ThreadPoolExecutor(2) as pool:
        builds = list(pool.map(fresh_builder.build, [HELLO, HELLO]))
    for build in builds:
        assert build.run() == "Hello World!\n"


SPECS = [
    HELLO,
    HELLO.replace('name = "localhost/staves-test/hello"', 'name = "loud"')
    + "['app-misc/hello']\nuse = [\"shout\"]\n",
    'name = "probe"\npackages = ["app-misc/envprobe"]\ncommand = ["/usr/bin/envprobe"]\n',
    'name = "lib"\npackages = ["dev-libs/libgreet"]\n',
]


def test_four_specs_at_once_share_one_cache_then_compile_nothing(
    fresh_builder: Builder,
) -> None:
    with ThreadPoolExecutor(len(SPECS)) as pool:
        list(pool.map(fresh_builder.build, SPECS))
    for spec in SPECS:
        again = fresh_builder.build(spec)
        assert compiled_from_source(again.log) == [], spec


def start_build(builder: Builder, spec: str, out: Path) -> tuple[subprocess.Popen[str], Path]:
    work = out / "spec"
    work.mkdir(parents=True)
    (work / "staves.toml").write_text(spec)
    log = out / "build.log"
    proc = subprocess.Popen(
        [
            *("staves", "build", "-c", str(work / "staves.toml")),
            *("--builder", BUILDER, "--portage", PORTAGE, "--build-cache", builder.cache),
            *("-o", f"oci:{out}/layout:t"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
        text=True,
    )
    return proc, log


def wait_for_line(proc: subprocess.Popen[str], log: Path, text: str) -> None:
    deadline = time.monotonic() + 300
    while text not in log.read_text(errors="replace"):
        assert proc.poll() is None, log.read_text()[-2000:]
        assert time.monotonic() < deadline, f"no {text!r} in the log"
        time.sleep(0.05)


# Not in the run's seed cache (hello is there without "shout"): a build of it compiles.
LOUD = SPECS[1]


@pytest.mark.parametrize(
    "moment",
    [
        "staves: shared with the builder",  # creating and starting the builder
        ">>> Emerging (",  # compiling
        "root filesystem ready",  # the root is being exported
    ],
)
def test_sigkill_leaves_no_builder_and_the_next_build_works(
    cloned_builder: Builder, tmp_path: Path, moment: str
) -> None:
    proc, log = start_build(cloned_builder, LOUD, tmp_path / "killed")
    wait_for_line(proc, log, moment)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + GONE_WITHIN
    # Killed before its builder started, a builder cannot end itself: the next build
    # removes it. Everywhere else it ends by itself.
    if "shared with the builder" not in moment:
        while builder_containers(proc.pid):
            assert time.monotonic() < deadline, "the builder outlived its staves"
            time.sleep(1)
    after = cloned_builder.build(LOUD)
    assert after.run() == "HELLO WORLD!\n"
    assert builder_containers(proc.pid) == set()


def test_next_build_removes_a_dead_builds_builder_but_not_a_live_ones(
    cloned_builder: Builder, tmp_path: Path
) -> None:
    # A created builder whose staves died before starting it, one of a live process, and
    # one whose staves runs in another PID namespace of this machine (the Staves image
    # driving the host's service with --network host, the host's name): its PIDs mean
    # nothing here, so it is left alone.
    dead = subprocess.Popen(["true"])
    dead.wait()
    here = this_machine()
    created = []
    owners = [
        (here, dead.pid, start_time(dead.pid) or "gone"),
        (here, os.getpid(), start_time(os.getpid()) or "gone"),
        (f"{os.uname().nodename}+pid:[1]", dead.pid, "gone"),
    ]
    for host, pid, start in owners:
        name = f"staves-build-test-{uuid.uuid4().hex[:8]}"
        made = podman(
            "create",
            "--name",
            name,
            "--label",
            "io.staves.role=builder",
            "--label",
            f"io.staves.owner={host}/{pid}/{start}",
            BUILDER,
            "true",
        )
        assert made.returncode == 0, made.stderr
        created.append(name)
    try:
        build: Build = cloned_builder.build(HELLO)
        assert f"removing {created[0]}, left by a build that died" in build.log
        left = podman("ps", "-a", "--format", "{{.Names}}").stdout.split()
        assert created[0] not in left and created[1] in left and created[2] in left
    finally:
        for name in created:
            podman("rm", "-f", name)
