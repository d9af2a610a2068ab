"""A debug build's root split in one pass: the image's layers without the debug trees (and
its package database without them), the debug layer with them and each such package's
whole CONTENTS; the debug packages' tar as one layer."""

import io
import tarfile
from pathlib import Path

import pytest

from oci.compress import Compression
from staves.gentoo.debug_split import is_debug_path, pack_debug_packages, trim_contents
from staves.gentoo.layering import ANNOTATION_LAYER
from staves.gentoo.rootfs_layers import pack_rootfs
from staves.gentoo.vdb import read_vdb_dir
from tests.tar_model import tar_names
from tests.vdb_samples import GLIBC, VDB, Pkg, make_rootfs, podman_archive

HELLO = Pkg(
    "app-misc/hello-1.0",
    files={
        "/usr/bin/hello": b"\x7fELF stripped, with a debug link",
        "/usr/lib/debug/usr/bin/hello.debug": b"\x7fELF debug information" * 50,
        "/usr/src/debug/app-misc/hello-1.0/hello.c": b"int main(void) { return 0; }\n",
    },
    symlinks={
        "/usr/lib/debug/.build-id/ab/cdef.debug": "../../usr/bin/hello.debug",
        "/usr/lib/debug/.build-id/ab/cdef": "../../../../../usr/bin/hello",
    },
    meta={"BUILD_TIME": "1700000100", "COUNTER": "11"},
)
EPOCH = 1_700_000_000


def packed_root(tmp_path: Path, layers: int):
    root = make_rootfs(tmp_path / "root", [GLIBC, HELLO], {"/etc/ld.so.cache": b"cache"})
    packages = read_vdb_dir(root / VDB)
    return pack_rootfs(
        io.BytesIO(podman_archive(root)),
        packages,
        layers=layers,
        blob_dir=tmp_path / "blobs",
        epoch=EPOCH,
        split_debug=True,
    )


def read(layer, name: str) -> bytes:
    with tarfile.open(layer.blob.path) as tar:
        return tar.extractfile(name).read()  # type: ignore[union-attr]


@pytest.mark.parametrize("layers", [1, 4])
def test_the_debug_trees_leave_the_image_for_a_layer_of_their_own(
    tmp_path: Path, layers: int
) -> None:
    packed = packed_root(tmp_path, layers)
    in_image = {n for layer in packed.layers for n in tar_names(layer.blob.path.read_bytes())}
    assert "usr/bin/hello" in in_image and "etc/ld.so.cache" in in_image
    assert not [n for n in in_image if is_debug_path(n)]
    assert not [n for n in packed.file_digests if is_debug_path(n)]
    assert packed.debug is not None
    debug = set(tar_names(packed.debug.layer.blob.path.read_bytes()))
    assert {
        "usr/lib/debug/usr/bin/hello.debug",
        "usr/lib/debug/.build-id/ab/cdef.debug",
        "usr/src/debug/app-misc/hello-1.0/hello.c",
        "var/db/pkg/app-misc/hello-1.0/CONTENTS",
    } <= debug
    assert not [n for n in debug if n.startswith(("usr/bin", "etc", "var/db/pkg/sys-libs"))]
    assert packed.debug.layer.annotations[ANNOTATION_LAYER] == "debug"
    assert set(packed.debug.file_digests) >= {"usr/lib/debug/usr/bin/hello.debug"}

    contents = f"{VDB}/app-misc/hello-1.0/CONTENTS"
    image_contents = next(
        read(layer, contents)
        for layer in packed.layers
        if contents in tar_names(layer.blob.path.read_bytes())
    ).decode()
    whole = read(packed.debug.layer, contents).decode()
    assert "/usr/bin/hello " in image_contents and "debug" not in image_contents
    assert "obj /usr/lib/debug/usr/bin/hello.debug" in whole
    assert "sym /usr/lib/debug/.build-id/ab/cdef.debug -> ../../usr/bin/hello.debug" in whole
    # The same lines as the image's, stamped the same way, with the debug files besides.
    assert set(image_contents.splitlines()) < set(whole.splitlines())


def test_without_debug_files_there_is_no_debug_layer(tmp_path: Path) -> None:
    root = make_rootfs(tmp_path / "root", [GLIBC])
    packed = pack_rootfs(
        io.BytesIO(podman_archive(root)),
        read_vdb_dir(root / VDB),
        blob_dir=tmp_path / "blobs",
        split_debug=True,
    )
    assert packed.debug is None and len(packed.layers) == 1


def test_trimmed_contents_lose_the_directories_only_the_debug_trees_needed() -> None:
    contents = (
        b"dir /usr\ndir /usr/bin\nobj /usr/bin/a b 0123 1\ndir /usr/lib\ndir /usr/lib/debug\n"
        b"obj /usr/lib/debug/usr/bin/a b.debug 4567 1\ndir /usr/src\ndir /usr/src/debug\n"
    )
    assert trim_contents(contents) == b"dir /usr\ndir /usr/bin\nobj /usr/bin/a b 0123 1\n"


def test_the_debug_packages_tar_is_one_layer_whiteouts_and_trimmed_database(
    tmp_path: Path,
) -> None:
    dash = Pkg("app-shells/dash-0.5.12", files={"/usr/bin/dash": b"dash"})
    root = make_rootfs(tmp_path / "root", [dash], {"/etc/ld.so.cache": b"cache 2"})
    (root / "etc/.wh.old.conf").write_bytes(b"")
    packages = read_vdb_dir(root / VDB)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path in sorted(root.rglob("*")):
            tar.add(path, str(path.relative_to(root)), recursive=False)
    buffer.seek(0)
    found = pack_debug_packages(
        buffer,
        packages,
        vdb="trim",
        blob_dir=tmp_path / "blobs",
        compression=Compression.GZIP,
        epoch=EPOCH,
    )
    assert found is not None
    names = set(tar_names(found.layer.blob.path.read_bytes()))
    assert {"usr/bin/dash", "etc/ld.so.cache", "etc/.wh.old.conf"} <= names
    assert f"{VDB}/app-shells/dash-0.5.12/CONTENTS" in names
    assert f"{VDB}/app-shells/dash-0.5.12/COUNTER" not in names  # vdb = "trim"
    assert found.layer.annotations == {
        "io.staves.layer": "debug-packages",
        "io.staves.packages": "app-shells/dash-0.5.12",
    }
    with tarfile.open(found.layer.blob.path) as tar:
        assert {m.mtime for m in tar.getmembers()} == {EPOCH}
