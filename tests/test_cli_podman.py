"""The command line as podman users expect it: bare ``staves``, ``-t``/``-f``, global options
after the command, one wording for one mistake, a dry run that checks what the build
checks, platforms as OCI/Go name them, and destinations written all or nothing."""

import json
import subprocess
from pathlib import Path

import pytest

from tests.helpers import layout_index, layout_json, staves

EXAMPLE = Path(__file__).parent.parent / "examples" / "hello" / "staves.toml"


def one_line(proc: subprocess.CompletedProcess[str], code: int = 2) -> str:
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith("staves: error: ") or ": " in lines[0]
    return lines[0]


@pytest.fixture
def rootfs(tmp_path: Path) -> Path:
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "motd").write_text("hello\n")
    return root


def test_bare_staves_shows_the_help_and_succeeds() -> None:
    proc = staves()
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout.startswith("Usage: staves")
    for command in ("build", "pack", "inspect", "diff", "completion"):
        assert f"\n  {command} " in proc.stdout


@pytest.mark.parametrize("where", ["before", "after"])
def test_global_options_go_before_or_after_the_command(where: str) -> None:
    args = ["build", "-f", str(EXAMPLE), "--dry-run", "--format", "json"]
    proc = staves("-v", *args) if where == "before" else staves(*args, "-v")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["image"]["reference"] == "hello:1.0"


def test_debug_after_the_command_shows_the_traceback(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    assert "Traceback" not in staves("build", "-c", missing, "--dry-run").stderr
    assert "Traceback" in staves("build", "-c", missing, "--dry-run", "--debug").stderr


def test_file_and_tag_as_podman_build_takes_them() -> None:
    proc = staves("build", "-f", EXAMPLE, "-t", "reg.example:5000/me/hi:2", "--dry-run",
                  "--format", "json")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert document["image"]["reference"] == "reg.example:5000/me/hi:2"
    assert document["outputs"] == ["containers-storage:reg.example:5000/me/hi:2"]
    long = staves("build", "--file", EXAMPLE, "--tag", "x:3", "--dry-run", "--format", "json")
    assert json.loads(long.stdout)["image"]["reference"] == "x:3"


def test_pack_takes_tag_and_file_too(tmp_path: Path, rootfs: Path) -> None:
    layout = tmp_path / "layout"
    proc = staves("pack", "--rootfs", rootfs, "-f", EXAMPLE, "-t", "greeter:7", "-o",
                  f"oci:{layout}")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (entry,) = layout_index(layout)["manifests"]
    assert entry["annotations"]["org.opencontainers.image.ref.name"] == "7"
    config = layout_json(layout, layout_json(layout, entry["digest"])["config"]["digest"])
    assert config["config"]["Entrypoint"] == ["/usr/bin/hello"]  # the spec's, through -f


def test_one_mistake_has_one_wording_in_every_command(tmp_path: Path, rootfs: Path) -> None:
    """A bad --tag or --platform reads the same from build and from pack."""
    build = staves("build", "-f", EXAMPLE, "--dry-run", "-t", "Bad:Name")
    pack = staves("pack", "--rootfs", rootfs, "-o", f"oci:{tmp_path}/l", "-t", "Bad:Name")
    assert one_line(build) == one_line(pack)
    assert one_line(build).startswith("staves: error: --tag: 'Bad' ")
    build = staves("build", "-f", EXAMPLE, "--dry-run", "--platform", "linux/amd65")
    pack = staves("pack", "--rootfs", rootfs, "-o", f"oci:{tmp_path}/l", "--platform",
                  "linux/amd65")  # fmt: skip
    assert one_line(build) == one_line(pack)
    assert not (tmp_path / "l").exists()


def test_click_usage_errors_read_like_staves_errors() -> None:
    line = one_line(staves("build", "--pull", "sometimes"))
    assert line.startswith("staves: error: --pull: 'sometimes' is not one of")
    assert line.endswith("(see 'staves build --help')")
    assert one_line(staves("bild")).startswith("staves: error: bild: no such command")


def dry_run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return staves("build", "-f", EXAMPLE, "--dry-run", *args)


def test_dry_run_prints_the_defaults_it_would_use() -> None:
    proc = dry_run("--format", "json")
    assert proc.returncode == 0, proc.stderr
    settings = json.loads(proc.stdout)["settings"]
    assert settings["outputs"] == ["containers-storage:hello:1.0"]
    assert settings["builder"] == "docker.io/gentoo/stage3:latest"
    assert settings["portage"] == "docker.io/gentoo/portage:latest"
    assert settings["pull"] == "missing"
    assert settings["build_cache"] == "staves-binpkgs"
    assert settings["distfiles_cache"] == "staves-distfiles"
    text = dry_run().stdout
    assert "outputs: containers-storage:hello:1.0\n" in text
    assert "builder: docker.io/gentoo/stage3:latest\n" in text
    assert "pull: missing\n" in text


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["-o", "oci-layout:x"], "--output: destination 'oci-layout:x' has no known transport"),
        (
            ["-o", "oci:x", "--sign-key", "{tmp}/cosign.key"],
            "--sign-key: {tmp}/cosign.key: No such",
        ),
        (["-o", "oci:x", "--sign-key", "{spec}"], "--sign-key: {spec}: not a cosign private key"),
        # Read within the key files' cap (issue 24): /dev/zero is refused at once.
        (["-o", "oci:x", "--sign-key", "/dev/zero"], "--sign-key: /dev/zero: over 64 KiB"),
        (["-o", "oci-archive:x.tar", "--sign-key", "{spec}"], "--sign-key: no destination keeps"),
        (
            ["-o", "docker-archive:{tmp}/no/dir/x.tar"],
            "--output: docker-archive:{tmp}/no/dir/x.tar: {tmp}/no/dir is not a directory",
        ),
        (["--cache-to", "oci:x"], "--cache-to: 'oci:x' is not a registry reference"),
        (["--sbom", "{tmp}/no/sbom.json"], "--sbom: {tmp}/no is not a directory"),
        (["--binhost", "file:///x"], "--binhost: 'file:///x'"),
        (["--build-cache", "-x"], "--build-cache: '-x' is not a volume name"),
    ],
)
def test_dry_run_runs_the_checks_of_the_build(tmp_path: Path, args: list[str], says: str) -> None:
    places = {"tmp": str(tmp_path), "spec": str(EXAMPLE)}
    proc = dry_run(*(a.format(**places) for a in args))
    assert one_line(proc).startswith("staves: error: " + says.format(**places))
    assert proc.stdout == ""


@pytest.mark.parametrize(
    ("platform", "says"),
    [
        ("linux/arm64,linux/amd64", "'linux/arm64,linux/amd64' names 2 platforms"),
        ("linux/amd65", "'amd65' in 'linux/amd65' is not an architecture; one of Go's GOARCH:"),
        ("linux/arm64/v7", "'v7' in 'linux/arm64/v7' is not a variant of arm64; variants"),
        ("windoze/amd64", "'windoze' in 'windoze/amd64' is not an OS; one of Go's GOOS:"),
        ("linux", "'linux' is not a platform; OS/ARCH[/VARIANT]"),
    ],
)
def test_pack_refuses_platforms_outside_the_oci_values(
    tmp_path: Path, rootfs: Path, platform: str, says: str
) -> None:
    proc = staves("pack", "--rootfs", rootfs, "-o", f"oci:{tmp_path}/l", "--platform", platform)
    assert one_line(proc).startswith(f"staves: error: --platform: {says}")
    assert not (tmp_path / "l").exists()


@pytest.mark.parametrize(
    ("platform", "written"),
    [
        ("linux/arm/v7", {"os": "linux", "architecture": "arm", "variant": "v7"}),
        ("linux/arm64/v8", {"os": "linux", "architecture": "arm64", "variant": "v8"}),
        ("freebsd/riscv64", {"os": "freebsd", "architecture": "riscv64"}),
    ],
)
def test_pack_writes_the_platform_it_was_given(
    tmp_path: Path, rootfs: Path, platform: str, written: dict[str, str]
) -> None:
    layout = tmp_path / "l"
    proc = staves("pack", "--rootfs", rootfs, "-o", f"oci:{layout}", "--platform", platform)
    assert proc.returncode == 0, proc.stderr
    (entry,) = layout_index(layout)["manifests"]
    config = layout_json(layout, layout_json(layout, entry["digest"])["config"]["digest"])
    assert {k: config[k] for k in written} == written


@pytest.mark.parametrize(
    ("platforms", "says"),
    [
        ('["windows/amd64"]', "platforms: 'windows' in 'windows/amd64' is not linux;"),
        ('["linux/amd65"]', "platforms: 'amd65' in 'linux/amd65' is not an architecture;"),
    ],
)
def test_build_refuses_platforms_it_cannot_build(tmp_path: Path, platforms: str, says: str) -> None:
    spec = tmp_path / "staves.toml"
    spec.write_text(
        EXAMPLE.read_text().replace("packages =", f"platforms = {platforms}\npackages =")
    )
    line = one_line(staves("build", "-f", spec, "--dry-run"))
    assert line.startswith(f"{spec}: {says}")
    line = one_line(staves("build", "-f", EXAMPLE, "--dry-run", "--platform", "windows/amd64"))
    assert line.startswith("staves: error: --platform: 'windows' in 'windows/amd64' is not linux;")


@pytest.mark.parametrize("transport", ["oci", "oci-archive", "docker-archive"])
def test_a_destination_whose_directory_is_missing_is_refused_and_none_is_made(
    tmp_path: Path, rootfs: Path, transport: str
) -> None:
    dest = tmp_path / "nonexistent" / "dir" / "x.tar"
    proc = staves("pack", "--rootfs", rootfs, "-o", f"oci:{tmp_path}/first", "-o",
                  f"{transport}:{dest}")  # fmt: skip
    line = one_line(proc)
    assert line == (
        f"staves: error: --output: {transport}:{dest}: {dest.parent} is not a directory; "
        "create it first, or give a path in one"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rootfs"]  # not even the first


def test_a_failing_last_destination_leaves_the_others_unwritten(
    tmp_path: Path, rootfs: Path
) -> None:
    """Layouts and archives take their names only once every destination was written: a
    Podman storage that cannot be reached leaves them as they were."""
    layout, archive = tmp_path / "layout", tmp_path / "image.tar"
    proc = staves("pack", "--rootfs", rootfs, "-o", f"oci:{layout}", "-o",
                  f"oci-archive:{archive}", "-o", "containers-storage:x:1", "--url",
                  f"unix://{tmp_path}/no-podman.sock")  # fmt: skip
    assert "no Podman service answers" in one_line(proc, 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rootfs"]
    # An existing layout keeps its index, and gets no blob of the failed write.
    first = staves("pack", "--rootfs", rootfs, "-o", f"oci:{layout}:old")
    before = {p.name for p in layout.rglob("*")}, (layout / "index.json").read_bytes()
    (rootfs / "etc" / "motd").write_text("changed\n")
    no_podman = f"unix://{tmp_path}/no-podman.sock"
    proc = staves("pack", "--rootfs", rootfs, "-o", f"oci:{layout}:new", "-o",
                  "containers-storage:x:1", "--url", no_podman)  # fmt: skip
    assert first.returncode == 0 and proc.returncode == 1
    assert ({p.name for p in layout.rglob("*")}, (layout / "index.json").read_bytes()) == before


def test_bash_completion_completes_commands_and_options() -> None:
    script = staves("completion", "bash")
    assert script.returncode == 0, script.stderr
    for words, completed in (("staves bu", ["build"]), ("staves build --pu", ["--pull"])):
        # As bash calls it: the words so far, the index of the one being completed.
        probe = (
            f"{script.stdout}\nCOMP_WORDS=({words}); COMP_CWORD={len(words.split()) - 1}; "
            '_staves_completion staves; printf "%s\\n" "${COMPREPLY[@]}"'
        )
        done = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, check=True)
        assert done.stdout.split() == completed, done.stderr


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_completion_scripts_for_other_shells(shell: str) -> None:
    proc = staves("completion", shell)
    assert proc.returncode == 0 and "_STAVES_COMPLETE" in proc.stdout
    assert one_line(staves("completion", "tcsh")).startswith("staves: error: SHELL: 'tcsh'")
