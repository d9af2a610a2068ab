"""Destinations: OCI layouts, oci-archive and docker-archive, checked by podman and skopeo."""

import hashlib
import json
import shutil
import subprocess
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from oci.compress import Compression
from oci.descriptor import Platform
from oci.errors import OciError
from oci.image import ImageConfig, build_image
from oci.layer import write_layer
from oci.layout import write_layout
from oci.tarball import tar_directory
from tests.conftest import require_tools, run
from tests.helpers import layout_blob, layout_index, layout_json, manifest_for_tag, staves

CREATED = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture
def busybox_rootfs(tmp_path: Path) -> Path:
    root = tmp_path / "rootfs"
    (root / "bin").mkdir(parents=True)
    shutil.copy("/bin/busybox", root / "bin" / "busybox")
    (root / "bin" / "sh").symlink_to("busybox")
    (root / "greeting").write_text("hello from staves\n")
    return root


def make_image(rootfs: Path, blob_dir: Path, **config: object):
    layer = write_layer(tar_directory(rootfs), blob_dir, Compression.GZIP)
    return build_image(
        [layer], ImageConfig(**config), created=CREATED, platform=Platform("linux", "amd64")
    )


def test_two_packs_give_byte_identical_manifests(busybox_rootfs: Path, tmp_path: Path) -> None:
    digests, manifests = [], []
    for run_no in range(2):
        layout = tmp_path / f"layout{run_no}"
        proc = staves("pack", "--rootfs", busybox_rootfs, "-o", f"oci:{layout}:v1")
        assert proc.returncode == 0, proc.stderr
        digests.append(proc.stdout.strip())
        manifests.append(layout_blob(layout, digests[-1]).read_bytes())
    assert digests[0] == digests[1]
    assert manifests[0] == manifests[1]


def test_written_documents_match_the_oci_schemas(
    busybox_rootfs: Path, tmp_path: Path, oci_schema
) -> None:
    layout = tmp_path / "layout"
    image = make_image(
        busybox_rootfs,
        tmp_path / "work",
        entrypoint=("/bin/sh", "-c"),
        cmd=("echo hi",),
        env=(("PATH", "/bin"),),
        user="1000",
        workdir="/",
        ports=("8080/tcp",),
        volumes=("/data",),
        labels={"a": "b"},
        stop_signal="SIGTERM",
    )
    write_layout(image, layout, "v1")
    index = layout_index(layout)
    oci_schema("image-index-schema.json", index)
    oci_schema("image-layout-schema.json", json.loads((layout / "oci-layout").read_text()))
    manifest = layout_json(layout, index["manifests"][0]["digest"])
    oci_schema("image-manifest-schema.json", manifest)
    oci_schema("config-schema.json", layout_json(layout, manifest["config"]["digest"]))


def test_layout_shares_blobs_between_tags_and_images(busybox_rootfs: Path, tmp_path: Path) -> None:
    layout = tmp_path / "layout"
    first = make_image(busybox_rootfs, tmp_path / "w1", cmd=("one",))
    second = make_image(busybox_rootfs, tmp_path / "w2", cmd=("two",))
    write_layout(first, layout, "one")
    write_layout(first, layout, "one-again")
    write_layout(second, layout, "two")
    write_layout(second, layout, "one")  # retag: "one" now names the second image
    tags = {
        m["annotations"]["org.opencontainers.image.ref.name"]: m["digest"]
        for m in layout_index(layout)["manifests"]
    }
    assert tags == {
        "one": second.manifest.digest,
        "one-again": first.manifest.digest,
        "two": second.manifest.digest,
    }
    # One layer, two configs, two manifests: the shared layer is stored once.
    assert len(list((layout / "blobs" / "sha256").iterdir())) == 5
    require_tools("skopeo")
    for tag, digest in tags.items():
        out = json.loads(run("skopeo", "inspect", f"oci:{layout}:{tag}").stdout)
        assert out["Digest"] == digest


def test_failed_write_leaves_layout_as_it_was(busybox_rootfs: Path, tmp_path: Path) -> None:
    layout = tmp_path / "layout"
    write_layout(make_image(busybox_rootfs, tmp_path / "w1"), layout, "good")
    before = {p.name: p.read_bytes() for p in layout.rglob("*") if p.is_file()}
    (busybox_rootfs / "new-file").write_text("changes the layer\n")
    broken = make_image(busybox_rootfs, tmp_path / "w2", cmd=("x",))
    broken.layers[0].blob.path.unlink()  # the layer vanishes before it is written out
    with pytest.raises(OSError):
        write_layout(broken, layout, "bad")
    after = {p.name: p.read_bytes() for p in layout.rglob("*") if p.is_file()}
    assert after == before


def test_layout_refuses_a_directory_that_is_not_a_layout(
    busybox_rootfs: Path, tmp_path: Path
) -> None:
    target = tmp_path / "not-a-layout"
    target.mkdir()
    (target / "precious.txt").write_text("keep me")
    with pytest.raises(OciError, match="not an OCI layout"):
        write_layout(make_image(busybox_rootfs, tmp_path / "w"), target, "t")
    assert sorted(p.name for p in target.iterdir()) == ["precious.txt"]


def test_oci_archive_is_a_tarred_layout(busybox_rootfs: Path, tmp_path: Path) -> None:
    archive = tmp_path / "image.tar"
    proc = staves("pack", "--rootfs", busybox_rootfs, "-o", f"oci-archive:{archive}:v2")
    assert proc.returncode == 0, proc.stderr
    extracted = tmp_path / "extracted"
    with tarfile.open(archive) as tar:
        tar.extractall(extracted, filter="data")
    assert manifest_for_tag(extracted, "v2")["layers"]
    require_tools("skopeo")
    out = json.loads(run("skopeo", "inspect", f"oci-archive:{archive}:v2").stdout)
    assert out["Digest"] == proc.stdout.strip()


@pytest.mark.podman
@pytest.mark.parametrize("kind", ["oci", "oci-archive", "docker-archive"])
def test_podman_runs_what_staves_wrote(busybox_rootfs: Path, tmp_path: Path, kind: str) -> None:
    require_tools("podman")
    name = f"localhost/staves-test/pack-{kind}:t"
    path = tmp_path / "out"
    dest = f"docker-archive:{path}:{name}" if kind == "docker-archive" else f"{kind}:{path}:t"
    proc = staves("pack", "--rootfs", busybox_rootfs, "--tag", name, "-o", dest)
    assert proc.returncode == 0, proc.stderr
    if kind == "docker-archive":
        run("podman", "load", "-i", path)
        source = name
    else:
        source = f"{kind}:{path}:t"
    try:
        out = run("podman", "run", "--rm", source, "/bin/busybox", "cat", "/greeting").stdout
        assert out == "hello from staves\n"
    finally:
        # podman run of a layout stores the image too; the image ID is the config digest.
        config_digest = subprocess.run(
            [
                "skopeo",
                "inspect",
                "--raw",
                "--config",
                f"{kind}:{path}" + ("" if kind == "docker-archive" else ":t"),
            ],
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(
            ["podman", "rmi", "-f", hashlib.sha256(config_digest).hexdigest()],
            capture_output=True,
            check=False,
        )
