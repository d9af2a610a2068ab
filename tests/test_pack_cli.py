"""``staves pack`` as a user runs it: good input packs, bad input gets one line and no output."""

import io
import json
import tarfile
from pathlib import Path

import pytest

from tests.helpers import layout_json, manifest_for_tag, staves


def tar_with(names: list[str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name in names:
            info = tarfile.TarInfo(name)
            info.size = 2
            tar.addfile(info, io.BytesIO(b"x\n"))
    return buf.getvalue()


def assert_one_line_error(proc, code: int, *fragments: str) -> None:
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_unknown_transport_is_a_usage_error(tmp_path: Path) -> None:
    proc = staves("pack", "--rootfs", tmp_path, "-o", "ftp://x/y")
    assert_one_line_error(proc, 2, "ftp://x/y", "oci:DIR[:TAG]")


def test_missing_rootfs_is_a_usage_error(tmp_path: Path) -> None:
    proc = staves("pack", "--rootfs", tmp_path / "nope", "-o", f"oci:{tmp_path}/l")
    assert_one_line_error(proc, 2, "--rootfs", "does not exist")
    assert not (tmp_path / "l").exists()


@pytest.mark.parametrize("bad_name", ["../escape", "/etc/passwd", "a/../../b"])
def test_entries_outside_the_root_are_refused(tmp_path: Path, bad_name: str) -> None:
    archive = tmp_path / "out.tar"
    proc = staves(
        "pack", "--rootfs", "-", "-o", f"oci-archive:{archive}", input=tar_with(["ok", bad_name])
    )
    assert proc.returncode == 2
    assert bad_name.encode() in proc.stderr and b"Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_damaged_tar_leaves_no_output(tmp_path: Path) -> None:
    source = tmp_path / "rootfs.tar"
    source.write_bytes(tar_with(["a", "b", "c"])[:700])
    out = tmp_path / "out"
    out.mkdir()
    proc = staves(
        "pack",
        "--rootfs",
        source,
        "-o",
        f"oci-archive:{out}/img.tar",
        "-o",
        f"docker-archive:{out}/d.tar",
    )
    assert_one_line_error(proc, 2, "tar")
    assert list(out.iterdir()) == []


def test_stdin_tar_and_platform_and_epoch(tmp_path: Path) -> None:
    layout = tmp_path / "layout"
    proc = staves(
        "pack",
        "--rootfs",
        "-",
        "--platform",
        "linux/arm64/v8",
        "--tag",
        "demo:1.0",
        "-o",
        f"oci:{layout}",
        input=tar_with(["./etc/motd"]),
        env={"SOURCE_DATE_EPOCH": "86400"},
    )
    assert proc.returncode == 0, proc.stderr
    manifest = manifest_for_tag(layout, "1.0")
    config = layout_json(layout, manifest["config"]["digest"])
    assert (config["os"], config["architecture"], config["variant"]) == ("linux", "arm64", "v8")
    assert config["created"] == "1970-01-02T00:00:00Z"
    assert manifest["annotations"]["org.opencontainers.image.title"] == "demo"
    assert manifest["annotations"]["org.opencontainers.image.version"] == "1.0"


@pytest.mark.parametrize(
    ("args", "env", "fragment"),
    [
        (["--platform", "amd64"], {}, "--platform"),
        (["--tag", ":"], {}, "--tag"),
        ([], {"SOURCE_DATE_EPOCH": "yesterday"}, "SOURCE_DATE_EPOCH"),
        (["-o", "oci:/tmp/x:bad/tag"], {}, "not a valid tag"),
    ],
)
def test_bad_options_are_one_line_usage_errors(
    tmp_path: Path, args: list[str], env: dict[str, str], fragment: str
) -> None:
    out = tmp_path / "out"
    proc = staves("pack", "--rootfs", tmp_path, "-o", f"oci:{out}", *args, env=env)
    assert_one_line_error(proc, 2, fragment)
    assert not out.exists()


def test_docker_archive_names_the_image(tmp_path: Path) -> None:
    archive = tmp_path / "d.tar"
    proc = staves(
        "pack",
        "--rootfs",
        "-",
        "-o",
        f"docker-archive:{archive}:example.com/app:2",
        input=tar_with(["f"]),
    )
    assert proc.returncode == 0, proc.stderr
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
    assert manifest[0]["RepoTags"] == ["example.com/app:2"]


def test_spec_gives_the_image_its_settings(tmp_path: Path) -> None:
    spec = tmp_path / "staves.toml"
    spec.write_text(
        'name = "example.com/tools/probe"\nversion = "2.1"\npackages = ["app-misc/hello"]\n'
        'command = ["/bin/probe", "--serve"]\ncmd = ["--port", "80"]\nuser = "nobody"\n'
        'ports = [8080]\nlabels = { team = "infra" }\n[image.env]\nMODE = "prod"\n'
    )
    layout = tmp_path / "layout"
    proc = staves(
        "pack", "--rootfs", "-", "-c", spec, "-o", f"oci:{layout}", input=tar_with(["bin/probe"])
    )
    assert proc.returncode == 0, proc.stderr
    manifest = manifest_for_tag(layout, "2.1")
    config = layout_json(layout, manifest["config"]["digest"])["config"]
    assert config["Entrypoint"] == ["/bin/probe", "--serve"]
    assert config["Cmd"] == ["--port", "80"]
    assert config["User"] == "nobody"
    assert config["ExposedPorts"] == {"8080/tcp": {}}
    assert config["Labels"] == {"team": "infra"}
    assert config["Env"] == ["MODE=prod"]
    assert manifest["annotations"]["org.opencontainers.image.title"] == "example.com/tools/probe"


def test_bad_spec_for_pack_is_reported_with_its_key(tmp_path: Path) -> None:
    spec = tmp_path / "staves.toml"
    spec.write_text('name = "x"\npackages = ["app-misc/hello"]\nuser = []\n')
    proc = staves("pack", "--rootfs", tmp_path, "-c", spec, "-o", f"oci:{tmp_path}/l")
    assert proc.returncode == 2
    assert "user" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "l").exists()


@pytest.mark.parametrize(
    ("dest", "says"),
    [
        ("oci:{file}/layout", "oci:{file}/layout: {file} is not a directory; create it first"),
        (
            "oci-archive:{dir}",
            "oci-archive:{dir}: {dir} is a directory; give the path of a file to write",
        ),
        (
            "docker-archive:{dir}",
            "docker-archive:{dir}: {dir} is a directory; give the path of a file to write",
        ),
    ],
)
def test_unwritable_destinations_are_one_line(tmp_path: Path, dest: str, says: str) -> None:
    rootfs = tmp_path / "rootfs"
    rootfs.mkdir()
    (rootfs / "greeting").write_text("hi\n")
    places = {"file": tmp_path / "a-file", "dir": tmp_path / "a-dir"}
    places["file"].write_text("not a directory\n")
    places["dir"].mkdir()
    before = sorted(p.name for p in tmp_path.rglob("*"))
    proc = staves("pack", "--rootfs", rootfs, "-o", dest.format(**places))
    assert_one_line_error(proc, 2, "staves: error: --output: " + says.format(**places))
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing half-written


@pytest.mark.parametrize("transport", ["oci-archive", "docker-archive"])
def test_reading_a_file_that_is_no_archive_is_one_line(tmp_path: Path, transport: str) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("just text\n")
    proc = staves("inspect", f"{transport}:{text}")
    assert_one_line_error(proc, 1, f"not a readable {transport}: not a tar archive")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["-o", "containers-storage:UPPER"], "--output: 'UPPER' is not an image name; lowercase"),
        (["-o", "docker-archive:{tmp}/d.tar:Bad:1"], "--output: 'Bad' is not an image name;"),
        (["-o", "containers-storage:ok:-bad"], "--output: '-bad' is not an image tag;"),
        # Podman cannot load an image under a digest, nor docker-archive list one as a tag.
        (["-o", "containers-storage:ok@sha256:abc"], "--output: 'ok@sha256' is not an image name;"),
        (["-o", f"containers-storage:ok@sha256:{'a' * 64}"], "--output: 'ok@sha256' is not an"),
        (["-o", f"docker-archive:{{tmp}}/d.tar:ok@sha256:{'a' * 64}"], "--output: 'ok@sha256' is"),
        (["--tag", f"ok@sha256:{'a' * 64}", "-o", "oci:{tmp}/out"], "--tag: 'ok@sha256' is not"),
        (["--tag", "UP:x", "-o", "oci:{tmp}/out"], "--tag: 'UP' is not an image name;"),
    ],
)
def test_image_names_are_checked_before_packing(tmp_path: Path, args: list[str], says: str) -> None:
    rootfs = tmp_path / "rootfs"
    rootfs.mkdir()
    proc = staves("pack", "--rootfs", rootfs, *(a.format(tmp=tmp_path) for a in args))
    assert_one_line_error(proc, 2, "staves: error: " + says)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rootfs"]


def test_a_missing_tag_names_the_layout_and_its_tags(tmp_path: Path) -> None:
    rootfs = tmp_path / "rootfs"
    rootfs.mkdir()
    (rootfs / "f").write_text("x\n")
    for tag in ("1.0", "2.0"):
        assert staves("pack", "--rootfs", rootfs, "-o", f"oci:{tmp_path}/out:{tag}").returncode == 0
    proc = staves("inspect", f"oci:{tmp_path}/out:3.0")
    assert_one_line_error(proc, 1, f"{tmp_path}/out: no image tagged '3.0' (tags: 1.0, 2.0)")
