"""``staves build`` end to end: real emerge in the test builder, real Podman, real images."""

import os
import re
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests

from tests.builder_fixtures import (
    BUILDER,
    PORTAGE,
    Builder,
    builder,
    builder_containers,
    overlay_git,
    test_images,
)
from tests.conftest import PROJECT
from tests.registry_fixtures import (
    PASSWORD,
    USER,
    CertAuthority,
    Registry,
    registry_factory,
    secure_registry,
    test_ca,
)

pytestmark = [pytest.mark.builder, pytest.mark.podman]
__all__ = [
    "builder",
    "overlay_git",
    "registry_factory",
    "secure_registry",
    "test_ca",
    "test_images",
]  # fixtures used by name

HELLO = """
name = "localhost/staves-test/hello"
packages = ["app-misc/hello"]
command = ["/usr/bin/hello"]
"""


def compiled_from_source(log: str) -> list[str]:
    """Packages emerge built from source (not from a binary package) in a build log."""
    return re.findall(r">>> Emerging \(\d+ of \d+\) (\S+)", log)


def test_bundled_example_builds_an_image_podman_runs(builder: Builder) -> None:
    spec = (PROJECT / "examples" / "hello" / "staves.toml").read_text()
    build = builder.build(spec)
    assert build.run() == "HELLO WORLD!\n"
    files = build.files()
    assert "usr/bin/hello" in files
    assert "usr/lib64/libgreet.so.1" in files
    # BDEPEND-only tools stay in the builder.
    assert "usr/bin/gentool" not in files
    assert not any("dev-util/gentool" in f for f in files)
    assert not any(f.startswith("usr/include") for f in files)


def test_second_build_reuses_every_binary_package(builder: Builder) -> None:
    builder.build(HELLO)
    again = builder.build(HELLO)
    assert compiled_from_source(again.log) == []
    # The root the first build left in the cache volume is brought up to date: nothing
    # changed, so not even a binary package is merged again.
    assert "staves: the kept root is up to date" in again.log
    assert again.run() == "Hello World!\n"


def test_use_flags_change_the_program(builder: Builder) -> None:
    quiet = builder.build(HELLO + "['app-misc/hello']\nuse = ['-shout']\n")
    loud = builder.build(HELLO + "['app-misc/hello']\nuse = ['shout']\n")
    assert quiet.run() == "Hello World!\n"
    assert loud.run() == "HELLO WORLD!\n"


def test_make_conf_env_reaches_the_build(builder: Builder) -> None:
    build = builder.build(
        'name = "envprobe"\npackages = ["app-misc/envprobe"]\n'
        'command = ["/usr/bin/envprobe"]\n[env]\nSTAVES_GREETING = "from make.conf"\n'
    )
    assert build.run() == "from make.conf\n"


def test_named_env_applies_through_package_env(builder: Builder) -> None:
    build = builder.build(
        'name = "envprobe"\npackages = ["app-misc/envprobe"]\n'
        'command = ["/usr/bin/envprobe"]\n'
        '[env]\nSTAVES_GREETING = "global"\n'
        '[env.polite]\nSTAVES_GREETING = "good day, $USER_NAME_NOT_SET"\n'
        "['app-misc/envprobe']\nenv = ['polite']\n"
    )
    assert build.run() == "good day, \n"


def test_keywords_unlock_a_testing_package(builder: Builder) -> None:
    spec = 'name = "t"\npackages = ["app-misc/testing-only"]\ncommand = ["/usr/bin/testing-only"]\n'
    refused = builder.build(spec, expect_ok=False)
    assert refused.proc.returncode != 0
    assert "testing-only" in refused.log
    accepted = builder.build(spec + "['app-misc/testing-only']\nkeywords = ['~amd64']\n")
    assert accepted.run() == "testing keyword accepted\n"


def test_custom_repository_is_synced_and_used(builder: Builder, overlay_git: str) -> None:
    spec = (
        'name = "o"\npackages = ["app-misc/overlay-hello"]\n'
        'command = ["/usr/bin/overlay-hello"]\n'
        f'[[repositories]]\nname = "staves-overlay"\ntype = "git"\nuri = "{overlay_git}"\n'
    )
    # The git server listens on the host's loopback: the builder shares the host network.
    build = builder.build(spec, "--network", "host")
    assert build.run() == "hello from the overlay\n"


def test_broken_package_fails_clearly_and_leaves_no_container(builder: Builder) -> None:
    failed = builder.build('name = "b"\npackages = ["app-misc/broken"]\n', expect_ok=False)
    assert failed.proc.returncode == 1
    last = failed.log.strip().splitlines()[-1]
    assert "emerge failed for app-misc/broken-1.0" in last
    assert "this_is_not_c" in failed.log  # the compiler's complaint, from the log tail
    assert not failed.layout.exists()
    assert builder_containers(failed.pid) == set()


def test_missing_builder_image_is_one_line(builder: Builder, tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            "staves",
            "build",
            "-c",
            str(PROJECT / "examples/hello/staves.toml"),
            "--builder",
            "localhost/staves-test/no-such-builder:latest",
            "--build-cache",
            builder.cache,
            "-o",
            f"oci:{tmp_path}/never",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    said = proc.stderr.strip().splitlines()
    assert said[:-1] == ["staves: pulling localhost/staves-test/no-such-builder:latest"], said
    assert said[-1].startswith("staves: error: --builder/--portage: image ")
    assert "no-such-builder" in said[-1] and "could not be pulled" in said[-1]


@pytest.mark.registry
def test_build_pushes_to_a_registry_podman_pulls_from(
    builder: Builder, secure_registry: Registry, test_ca: CertAuthority
) -> None:
    ref = f"{secure_registry.host}/staves-test/hello:e2e"
    creds = f"{USER}:{PASSWORD}"
    build = builder.build(
        HELLO, "-o", f"docker://{ref}", "--creds", creds, "--cert-dir", str(test_ca.cert_dir)
    )
    digest = build.proc.stdout.strip()
    # The SBOM and the provenance are attached: this registry has no referrers API, so
    # under the fallback tag.
    referrers = requests.get(
        f"https://{secure_registry.host}/v2/staves-test/hello/manifests/sha256-{digest[7:]}",
        headers={"Accept": "application/vnd.oci.image.index.v1+json"},
        auth=(USER, PASSWORD),
        verify=str(test_ca.ca_cert),
        timeout=30,
    )
    assert referrers.status_code == 200, referrers.text
    assert [m["artifactType"] for m in referrers.json()["manifests"]] == [
        "application/spdx+json",
        "application/vnd.dsse.envelope.v1+json",  # the provenance
    ]
    pulled = subprocess.run(
        ["podman", "pull", "-q", "--cert-dir", str(test_ca.cert_dir), "--creds", creds, ref],
        capture_output=True,
        text=True,
        check=False,
    )
    assert pulled.returncode == 0, pulled.stderr
    try:
        ran = subprocess.run(
            ["podman", "run", "--rm", ref], capture_output=True, text=True, check=False
        )
        assert ran.stdout == "Hello World!\n", ran.stderr
        seen = subprocess.run(
            ["podman", "image", "inspect", "--format", "{{.Digest}}", ref],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert seen == digest
    finally:
        subprocess.run(["podman", "rmi", "-f", ref], capture_output=True, check=False)


def test_stdlib_and_locale_land_in_the_image(builder: Builder) -> None:
    build = builder.build(HELLO + 'stdlib = true\nlocale = { name = "de_DE", charset = "UTF-8" }\n')
    files = build.files()
    assert any(f.endswith("/libstdc++.so.6") for f in files), sorted(files)
    assert any(f.endswith("/libgcc_s.so.1") for f in files)
    assert "usr/lib/locale/locale-archive" in files
    assert build.run() == "Hello World!\n"


@pytest.mark.parametrize(
    "signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name
)
def test_interrupted_build_leaves_no_container(
    builder: Builder, tmp_path: Path, signum: signal.Signals
) -> None:
    spec = tmp_path / "staves.toml"
    # A greeting of its own: envprobe compiles in this build whatever the module's cache
    # holds, so the build is still running when the signal comes (a warm one was already
    # done at times, under load).
    spec.write_text(
        'name = "slow"\npackages = ["app-misc/envprobe"]\n'
        f'[env.own]\nSTAVES_GREETING = "{uuid.uuid4().hex}"\n'
        "['app-misc/envprobe']\nenv = ['own']\n"
    )
    proc = subprocess.Popen(
        [
            "staves",
            "build",
            "-c",
            str(spec),
            "--builder",
            BUILDER,
            "--portage",
            PORTAGE,
            "--build-cache",
            builder.cache,
            "-o",
            f"oci:{tmp_path}/out",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, as a shell gives a foreground job
        # A foreground job gets Ctrl-C; a run of the suite started in the background
        # (nohup … &) hands its children SIGINT ignored, which Python then keeps ignoring.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 60
    while not builder_containers(proc.pid):
        assert proc.poll() is None and time.monotonic() < deadline, "no builder container"
        time.sleep(0.5)  # each look is a podman ps, which costs CPU; the build lasts longer
    # Ctrl-C in a terminal (or its closing, or a CI runner's cancel) signals the whole
    # foreground group, Podman service included when staves started one.
    os.killpg(proc.pid, signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert b"interrupted" in err and b"Traceback" not in err
    assert builder_containers(proc.pid) == set()
    assert not (tmp_path / "out").exists()


def test_unknown_locale_fails_clearly(builder: Builder) -> None:
    failed = builder.build(
        HELLO + 'locale = { name = "xx_NOWHERE", charset = "UTF-8" }\n', expect_ok=False
    )
    assert failed.proc.returncode != 0
    last = failed.log.strip().splitlines()[-1]
    assert "localedef could not make xx_NOWHERE (UTF-8)" in last
