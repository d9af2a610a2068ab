"""Builds that reach out: distfiles from a mirror, a private repository behind Basic auth.

Every server listens on 127.0.0.1; the builder shares the host's network to reach it.
"""

import base64
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.access_fixtures import (
    GIT_PASSWORD,
    GIT_USER,
    GitServer,
    SshGit,
    file_server,
    private_git_server,
    ssh_agent,
    ssh_git_server,
)
from tests.builder_fixtures import (
    BUILDER,
    Build,
    Builder,
    builder,
    clone_volume,
    overlay_git,
    podman,
    test_images,
)
from tests.conftest import PROJECT, require_tools
from tests.secret_scan import files_under, traces, volume_tar

pytestmark = [pytest.mark.builder, pytest.mark.podman]
__all__ = ["builder", "overlay_git", "test_images"]  # fixtures used by name

DISTFILE = "fetched-1.0.tar.gz"
FETCHED_OUTPUT = "fetched, verified and built\n"


def fetched_spec(port: int) -> str:
    return (
        'name = "fetched"\npackages = ["app-misc/fetched"]\ncommand = ["/usr/bin/fetched"]\n'
        f'[env]\nGENTOO_MIRRORS = "http://127.0.0.1:{port}"\n'
    )


@pytest.fixture
def volumes() -> Iterator[list[str]]:
    """Fresh volume names (call ``new``); all removed afterwards."""
    names: list[str] = []
    yield names
    for name in names:
        podman("volume", "rm", "-f", name)


def fresh(names: list[str], kind: str) -> str:
    names.append(f"staves-test-{kind}-{uuid.uuid4().hex[:8]}")
    return names[-1]


def last_line(build: Build) -> str:
    return build.log.strip().splitlines()[-1]


def test_distfile_is_fetched_verified_then_reused_without_network(
    builder: Builder, seeded_cache: str, volumes: list[str]
) -> None:
    distfiles = fresh(volumes, "distfiles")
    with file_server(PROJECT / "tests" / "testbed") as port:
        spec = fetched_spec(port)
        first = builder.build(spec, "--network", "host", "--distfiles-cache", distfiles)
    assert first.run() == FETCHED_OUTPUT
    assert f"/distfiles/{DISTFILE}" in first.log
    # The mirror is gone and there is no network; a binary-package cache without the
    # package (a copy of the run's seed) makes the build compile it again, from the
    # distfile in the cache volume.
    binpkgs = fresh(volumes, "binpkgs")
    clone_volume(seeded_cache, binpkgs)
    hermetic = builder.build(
        spec, "--network", "none", "--distfiles-cache", distfiles, "--build-cache", binpkgs
    )
    assert "app-misc/fetched-1.0::gentoo" in re.findall(r">>> Emerging \(.*", hermetic.log)[-1]
    assert "Downloading" not in hermetic.log
    assert hermetic.run() == FETCHED_OUTPUT


def test_corrupted_distfile_fails_with_one_line_naming_package_and_file(
    builder: Builder, volumes: list[str], tmp_path: Path
) -> None:
    mirror = tmp_path / "mirror"
    shutil.copytree(PROJECT / "tests" / "testbed" / "distfiles", mirror / "distfiles")
    tarball = mirror / "distfiles" / DISTFILE
    data = bytearray(tarball.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, other bytes: only the hashes can tell
    tarball.write_bytes(bytes(data))
    with file_server(mirror) as port:
        failed = builder.build(
            fetched_spec(port),
            "--network",
            "host",
            "--distfiles-cache",
            fresh(volumes, "distfiles"),
            expect_ok=False,
        )
    assert failed.proc.returncode == 1
    assert last_line(failed) == (
        f"staves: error: app-misc/fetched-1.0: {DISTFILE} does not match the Manifest "
        f"(Failed on BLAKE2B verification) (exit code 1); the whole log: {failed.work}/build.log"
    )


def test_missing_distfile_without_network_names_the_file(
    builder: Builder, volumes: list[str]
) -> None:
    failed = builder.build(
        fetched_spec(9),
        "--network",
        "none",
        "--distfiles-cache",
        fresh(volumes, "distfiles"),
        expect_ok=False,
    )
    assert failed.proc.returncode == 1
    assert f"app-misc/fetched-1.0: {DISTFILE} could not be downloaded" in last_line(failed)


@pytest.fixture
def git_server(tmp_path: Path) -> Iterator[GitServer]:
    require_tools("git")
    root = tmp_path / "git"
    root.mkdir()
    with private_git_server(root) as server:
        yield server


KEY_BEGIN, KEY_END = "-----BEGIN OPENSSH PRIVATE KEY-----", "-----END OPENSSH PRIVATE KEY-----"
SSH_KEY_LINE = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW"


@pytest.fixture
def user_home(tmp_path: Path) -> Path:
    """A HOME with ~/.netrc for the git server, a (fake) ~/.ssh private key, known_hosts."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    key = f"{KEY_BEGIN}\n{SSH_KEY_LINE}\n{KEY_END}\n"
    (home / ".ssh" / "id_ed25519").write_text(key)
    (home / ".ssh" / "id_ed25519").chmod(0o600)
    (home / ".ssh" / "known_hosts").write_text("127.0.0.1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5\n")
    (home / ".netrc").write_text(f"machine 127.0.0.1 login {GIT_USER} password {GIT_PASSWORD}\n")
    (home / ".netrc").chmod(0o600)
    return home


def private_spec(server: GitServer, *extra: str) -> str:
    return repo_spec(f"http://127.0.0.1:{server.server_address[1]}/private.git", *extra)


def repo_spec(uri: str, *extra: str) -> str:
    """The overlay's hello, and its credentials probe built anew (a package env unique to
    this build), from the overlay at ``uri``; ``extra`` lines go into its table."""
    return (
        'name = "private"\npackages = ["app-misc/overlay-hello", "app-misc/credprobe"]\n'
        'command = ["/usr/bin/overlay-hello"]\n'
        f'[env.probe]\nSTAVES_PROBE_RUN = "{uuid.uuid4().hex}"\n'
        '["app-misc/credprobe"]\nenv = ["probe"]\n'
        f'[[repositories]]\nname = "staves-overlay"\ntype = "git"\nuri = "{uri}"\n'
        + "".join(f"{line}\n" for line in extra)
    )


def seen(build: Build) -> dict[str, str]:
    """What the probe found, by phase: ``{"setup": "root: netrc", …}``."""
    lines = build.read("usr/share/credprobe/seen").decode().splitlines()
    return dict(line.split(" ", 1) for line in lines if not line.startswith("run "))


def user_env(home: Path, agent: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"}
    return {**env, "HOME": str(home), **({"SSH_AUTH_SOCK": agent} if agent else {})}


def test_a_build_asked_for_nothing_sees_no_key_agent_or_netrc(
    builder: Builder, overlay_git: str, user_home: Path, tmp_path: Path
) -> None:
    # Everything a user may have: ~/.ssh with a key, ~/.netrc, a running agent.
    key = tmp_path / "agent_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    with ssh_agent(key) as agent:
        build = builder.build(
            repo_spec(overlay_git), "--network", "host", env=user_env(user_home, agent)
        )
    assert seen(build) == {
        "setup": "root: nothing",
        "unpack": "root: nothing",
        "compile": "root: nothing",
        "install": "root: nothing",
    }
    assert "shared with the builder: no credentials" in build.log
    secrets = [GIT_PASSWORD.encode(), SSH_KEY_LINE.encode(), *key_lines(key)]
    blobs = [("build log", build.log.encode()), *files_under(build.layout)]
    assert traces(blobs, secrets) == []


def test_private_repository_syncs_with_netrc_that_the_build_phases_cannot_read(
    builder: Builder, git_server: GitServer, user_home: Path, volumes: list[str]
) -> None:
    distfiles = fresh(volumes, "distfiles")
    build = builder.build(
        private_spec(git_server),
        "--network",
        "host",
        "--distfiles-cache",
        distfiles,
        "--netrc",
        env=user_env(user_home),
    )
    assert build.run() == "hello from the overlay\n"
    assert git_server.authorized > 0
    assert f"shared with the builder: {user_home}/.netrc (read-only)" in build.log
    # Syncing and fetching (root) have it; the upstream build's phases, as portage, do not;
    # pkg_setup and src_install run as root in Portage, and could.
    assert seen(build) == {
        "setup": "root: netrc",
        "unpack": "portage: nothing",
        "compile": "portage: nothing",
        "install": "root: netrc",
    }

    auth_header = base64.b64encode(f"{GIT_USER}:{GIT_PASSWORD}".encode())
    secrets = [GIT_PASSWORD.encode(), auth_header, SSH_KEY_LINE.encode()]
    blobs = [
        ("build output", (build.proc.stdout + build.proc.stderr).encode()),
        ("build log", build.log.encode()),  # emerge's whole output
        *files_under(build.layout),
        ("binpkg volume", volume_tar(builder.cache, BUILDER)),
        ("distfiles volume", volume_tar(distfiles, BUILDER)),
    ]
    assert traces(blobs, secrets) == []
    # The scan does reach into binary packages: their saved build environments are found.
    assert any(t.startswith("binpkg volume") for t in traces(blobs, [b"declare -x "]))


def test_a_repository_that_names_netrc_gets_it_without_options(
    builder: Builder, git_server: GitServer, user_home: Path
) -> None:
    spec = private_spec(git_server, 'credentials = ["netrc"]')
    build = builder.build(spec, "--network", "host", env=user_env(user_home))
    assert git_server.authorized > 0
    assert seen(build)["compile"] == "portage: nothing"


@pytest.mark.parametrize("option", [(), ("--no-netrc",)], ids=["by-default", "no-netrc"])
def test_private_repository_without_credentials_fails_to_sync(
    builder: Builder, git_server: GitServer, user_home: Path, option: tuple[str, ...]
) -> None:
    spec = private_spec(git_server, *(['credentials = ["netrc"]'] if option else []))
    failed = builder.build(
        spec, "--network", "host", *option, env=user_env(user_home), expect_ok=False
    )
    assert "syncing repository staves-overlay failed" in last_line(failed)
    assert git_server.authorized == 0


@pytest.fixture
def ssh_git(tmp_path: Path) -> Iterator[SshGit]:
    require_tools("git", "ssh-keygen", "ssh-agent", "ssh-add")
    if not (shutil.which("sshd") or Path("/usr/sbin/sshd").exists()):
        pytest.skip("needs sshd (openssh-server; scripts/setup installs it)")
    root = tmp_path / "ssh"
    root.mkdir()
    with ssh_git_server(root) as server:
        yield server


def ssh_home(tmp_path: Path, server: SshGit) -> Path:
    """A HOME whose ~/.ssh knows the server and holds the client key."""
    ssh = tmp_path / "ssh-home" / ".ssh"
    ssh.mkdir(parents=True)
    (ssh / "known_hosts").write_text(server.known_hosts_line)
    shutil.copy(server.key, ssh / "id_ed25519")
    return ssh.parent


def key_lines(key: Path) -> list[bytes]:
    """The base64 lines of a private key file, each a secret."""
    lines = key.read_text().splitlines()
    return [line.encode() for line in lines if not line.startswith("-----")]


def assert_no_key_in(build: Build, builder: Builder, server: SshGit) -> None:
    blobs = [
        ("build output", (build.proc.stdout + build.proc.stderr).encode()),
        ("build log", build.log.encode()),  # emerge's whole output
        *files_under(build.layout),
        ("binpkg volume", volume_tar(builder.cache, BUILDER)),
    ]
    assert traces(blobs, key_lines(server.key)) == []


def test_ssh_repository_syncs_through_the_forwarded_agent(
    builder: Builder, ssh_git: SshGit, tmp_path: Path
) -> None:
    home = ssh_home(tmp_path, ssh_git)
    (home / ".ssh" / "id_ed25519").unlink()  # only the agent holds the key
    with ssh_agent(ssh_git.key) as agent:
        build = builder.build(
            repo_spec(ssh_git.uri), "--network", "host", "--ssh", env=user_env(home, agent)
        )
    assert build.run() == "hello from the overlay\n"
    assert "shared with the builder: the SSH agent (SSH_AUTH_SOCK), " in build.log
    assert seen(build) == {
        "setup": "root: known_hosts agent run-staves",
        "unpack": "portage: nothing",
        "compile": "portage: nothing",
        "install": "root: known_hosts agent run-staves",
    }
    assert_no_key_in(build, builder, ssh_git)


def test_ssh_repository_syncs_with_one_named_key_never_the_ssh_directory(
    builder: Builder, ssh_git: SshGit, tmp_path: Path
) -> None:
    home = ssh_home(tmp_path, ssh_git)
    key = home / ".ssh" / "id_ed25519"
    refused = builder.build(
        repo_spec(ssh_git.uri), "--network", "host", env=user_env(home), expect_ok=False
    )
    assert "syncing repository staves-overlay failed" in last_line(refused)
    build = builder.build(
        repo_spec(ssh_git.uri), "--network", "host", f"--ssh={key}", env=user_env(home)
    )
    assert build.run() == "hello from the overlay\n"
    assert f"shared with the builder: an SSH agent holding {key} only, " in build.log
    # The key went into an agent of Staves' own; no file of ~/.ssh but known_hosts entered.
    assert "key:" not in " ".join(seen(build).values())
    assert_no_key_in(build, builder, ssh_git)


def test_a_repository_that_names_ssh_gets_the_agent_unless_no_ssh(
    builder: Builder, ssh_git: SshGit, tmp_path: Path
) -> None:
    home = ssh_home(tmp_path, ssh_git)
    spec = repo_spec(ssh_git.uri, 'credentials = ["ssh"]')
    with ssh_agent(ssh_git.key) as agent:
        build = builder.build(spec, "--network", "host", env=user_env(home, agent))
        refused = builder.build(
            spec, "--network", "host", "--no-ssh", env=user_env(home, agent), expect_ok=False
        )
    assert "the SSH agent (SSH_AUTH_SOCK)" in build.log
    assert "syncing repository staves-overlay failed" in last_line(refused)
