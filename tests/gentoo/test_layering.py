"""Planning layers from packages, and packing a root filesystem into them."""

import io
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from staves.errors import StavesError
from staves.gentoo.layering import (
    ANNOTATION_PACKAGES,
    MAX_LAYERS,
    VdbMode,
    keep_in_image,
    plan_layers,
)
from staves.gentoo.rootfs_layers import pack_rootfs
from staves.gentoo.vdb import read_vdb_dir
from tests.portage_support import requires_portage
from tests.tar_model import apply_layers, apply_tar, hardlink_classes, tar_names, without_mtimes
from tests.vdb_samples import (
    ALL,
    GLIBC,
    HELLO,
    LIBGREET,
    UNOWNED,
    VDB,
    Pkg,
    make_rootfs,
    podman_archive,
)


def sample(tmp_path: Path, packages=ALL, unowned=UNOWNED, name: str = "root"):
    root = make_rootfs(tmp_path / name, packages, unowned)
    return root, read_vdb_dir(root / VDB)


def pack(tmp_path: Path, root: Path, packages, **kwargs):
    kwargs.setdefault("blob_dir", tmp_path / "blobs")
    return pack_rootfs(io.BytesIO(podman_archive(root)), packages, **kwargs)


def names_in(layer) -> list[str]:
    return tar_names(layer.blob.path.read_bytes())


def test_budget_one_is_one_layer_with_everything(tmp_path: Path) -> None:
    root, packages = sample(tmp_path)
    packed = pack(tmp_path, root, packages, layers=1, vdb="full")
    assert len(packed.layers) == 1
    expected = apply_tar({}, podman_archive(root), strip=1)
    assert without_mtimes(
        apply_layers([packed.layers[0].blob.path.read_bytes()])
    ) == without_mtimes(expected)


def test_one_layer_per_package_then_unowned(tmp_path: Path) -> None:
    root, packages = sample(tmp_path)
    packed = pack(tmp_path, root, packages, layers=10)
    assert [g.name for g in packed.groups] == [
        "sys-libs/glibc-2.39-r6",  # largest first
        "dev-libs/libgreet-1.0",
        "app-misc/hello-1.0-r1",
        "unowned",
    ]
    glibc, greet, hello, unowned = (names_in(layer) for layer in packed.layers)
    assert "usr/lib64/libc.so.6" in glibc and "lib64" in glibc
    assert "var/db/pkg/sys-libs/glibc-2.39-r6/CONTENTS" in glibc
    assert "usr/lib64/libgreet.so" in greet and "usr/lib64/libgreet.so.1" in greet
    assert "usr/share/hello/a file with spaces.txt" in hello
    assert "var/lib/hello" in hello  # an empty directory only it owns
    assert set(unowned) >= {"etc/ld.so.cache", "usr/lib64/libgcc_s.so.1"}
    assert "var/db/pkg/virtual/libc-1/CONTENTS" in unowned  # no files, no layer of its own
    assert not [n for n in unowned if n.startswith("usr/lib64/libc")]
    assert packed.layers[0].annotations[ANNOTATION_PACKAGES] == "sys-libs/glibc-2.39-r6"
    assert packed.history[0] == "staves: sys-libs/glibc-2.39-r6"
    # Every entry of a package layer has the package's BUILD_TIME.
    tree = apply_tar({}, packed.layers[0].blob.path.read_bytes())
    assert {entry[6] for entry in tree.values()} == {1700000000}


def test_layers_applied_in_order_give_the_rootfs(tmp_path: Path) -> None:
    root, packages = sample(tmp_path)
    (root / "usr/bin/hello-again").hardlink_to(root / "usr/bin/hello")
    (root / "etc/unowned-link-to-libc").hardlink_to(root / "usr/lib64/libc.so.6")
    packed = pack(tmp_path, root, packages, layers=5, vdb="full")
    expected = apply_tar({}, podman_archive(root), strip=1)
    got = apply_layers([layer.blob.path.read_bytes() for layer in packed.layers])
    assert without_mtimes(got) == without_mtimes(expected)
    assert hardlink_classes(got) == hardlink_classes(expected)


def test_more_packages_than_budget_share_a_layer(tmp_path: Path) -> None:
    root, packages = sample(tmp_path)
    packed = pack(tmp_path, root, packages, layers=3)
    assert [g.name for g in packed.groups] == ["sys-libs/glibc-2.39-r6", "packages", "unowned"]
    assert packed.groups[1].packages == (
        "app-misc/hello-1.0-r1",
        "dev-libs/libgreet-1.0",
        "virtual/libc-1",
    )
    assert packed.groups[1].mtime == 1700000200
    two = pack(tmp_path, root, packages, layers=2, blob_dir=tmp_path / "b2")
    assert [g.name for g in two.groups] == ["packages", "unowned"]


def test_same_package_gives_the_same_layer_in_different_images(tmp_path: Path) -> None:
    """Two images sharing glibc share its blob, whatever else they hold and whatever
    SOURCE_DATE_EPOCH says."""
    other_hello = replace(HELLO, key="app-misc/hello-2.0", files={"/usr/bin/hello": b"v2"})
    extra = Pkg("app-misc/other-3", files={"/usr/lib64/other.so": b"o" * 50000, "/opt/x": b"x"})
    root1, pk1 = sample(tmp_path, [GLIBC, LIBGREET, HELLO], {"/etc/a": b"1"}, "one")
    root2, pk2 = sample(tmp_path, [GLIBC, other_hello, extra], {"/etc/b": b"2"}, "two")
    first = pack(tmp_path, root1, pk1, layers=20, epoch=1_000, blob_dir=tmp_path / "b1")
    second = pack(tmp_path, root2, pk2, layers=20, epoch=2_000, blob_dir=tmp_path / "b2")
    d1 = {g.name: layer.digest for g, layer in zip(first.groups, first.layers, strict=True)}
    d2 = {g.name: layer.digest for g, layer in zip(second.groups, second.layers, strict=True)}
    assert d1["sys-libs/glibc-2.39-r6"] == d2["sys-libs/glibc-2.39-r6"]
    assert d1["unowned"] != d2["unowned"]


@pytest.mark.parametrize("mode", ["trim", "none", "full"])
def test_vdb_modes(tmp_path: Path, mode: str) -> None:
    root, packages = sample(tmp_path)
    packed = pack(tmp_path, root, packages, layers=10, vdb=mode)
    names = {n for layer in packed.layers for n in names_in(layer)}
    vdb_files = {n for n in names if n.startswith("var/db/pkg/")}
    glibc = "var/db/pkg/sys-libs/glibc-2.39-r6/"
    if mode == "none":
        assert not vdb_files and "var/db/pkg" not in names
    elif mode == "trim":
        assert {n.rsplit("/", 1)[1] for n in vdb_files if n.startswith(glibc)} == {
            "CONTENTS",
            "LICENSE",
            "SIZE",
            "SLOT",  # staves audit matches advisories by slot
            "USE",
            "repository",
        }
    else:
        assert glibc + "environment.bz2" in vdb_files
        # The per-install counter stays out of the package's layer.
        assert glibc + "COUNTER" in names_in(packed.layers[-1])


@requires_portage
@pytest.mark.parametrize("layers", [1, 5])
def test_full_vdb_is_portage_readable_and_free_of_build_records(
    tmp_path: Path, layers: int
) -> None:
    """vdb = "full": Portage's consolidated metadata file, written by Portage itself, stays
    one Portage trusts in the image (its #dir_mtime= matches the directory there) and
    says the BUILD_TIME the BUILD_TIME file says; BINPKGMD5 (a record of the cache's
    binary-package file, made at build time) is left out."""
    from portage.dbapi.vartree import _consolidate_to_metadata_file, _read_metadata_file

    root, _ = sample(tmp_path)
    for dbdir in (root / VDB).glob("*/*"):
        (dbdir / "BINPKGMD5").write_text("2e6f7255c20dce56c9f9f150f80a515c\n")
        _consolidate_to_metadata_file(str(dbdir))
        assert "#dir_mtime=" in (dbdir / "metadata").read_text()
    packages = read_vdb_dir(root / VDB)
    packed = pack(tmp_path, root, packages, layers=layers, vdb="full", epoch=1_750_000_000)
    image = tmp_path / "image"
    for layer in packed.layers:
        with tarfile.open(layer.blob.path) as tar:
            tar.extractall(image, filter="fully_trusted")
    hello = image / VDB / "app-misc/hello-1.0-r1"
    assert (image / VDB / "sys-libs/glibc-2.39-r6/environment.bz2").exists()
    assert not list((image / VDB).glob("*/*/BINPKGMD5"))
    for dbdir in (image / VDB).glob("*/*"):
        fields = _read_metadata_file(str(dbdir / "metadata"))
        assert fields is not None, dbdir
        if (dbdir / "BUILD_TIME").exists():
            assert fields["BUILD_TIME"] == (dbdir / "BUILD_TIME").read_text().strip()
        assert fields["COUNTER"] == (dbdir / "COUNTER").read_text().strip()
    assert "var/db/pkg/app-misc/hello-1.0-r1/metadata" in names_in(packed.layers[-1])
    assert "BUILD_TIME=1750000000" in (hello / "metadata").read_text() or layers > 1


def test_keep_in_image() -> None:
    assert keep_in_image("usr/bin/x", VdbMode.NONE)
    assert keep_in_image("var/db/pkg/a/b-1/USE", VdbMode.TRIM)
    assert not keep_in_image("var/db/pkg/a/b-1/CFLAGS", VdbMode.TRIM)
    assert not keep_in_image("var/db/pkg/a/-MERGING-b-1", VdbMode.TRIM)
    assert not keep_in_image("var/db/pkg", VdbMode.NONE)
    assert keep_in_image("var/db/pkgfoo", VdbMode.NONE)


def test_budget_limits() -> None:
    with pytest.raises(StavesError, match="out of range"):
        plan_layers([], 0)
    with pytest.raises(StavesError, match="out of range"):
        plan_layers([], MAX_LAYERS + 1)
    assert MAX_LAYERS < 127


def test_paths_through_directory_symlinks_find_their_owner(tmp_path: Path) -> None:
    """Merged /usr: a package lists /lib64/x while the file lies in /usr/lib64/x."""
    base = Pkg("sys-apps/baselayout-2", symlinks={"/lib64": "usr/lib64"}, dirs=("/usr/lib64",))
    lib = Pkg("dev-libs/zz-1", files={"/lib64/libzz.so": b"zz" * 100})
    root = make_rootfs(tmp_path / "r", [base], {})
    (root / "usr/lib64/libzz.so").write_bytes(b"zz" * 100)
    packages = read_vdb_dir(root / VDB)
    from tests.vdb_samples import write_package

    write_package(tmp_path / "vdbonly", lib)
    packages = (*packages, *read_vdb_dir(tmp_path / "vdbonly" / VDB))
    plan = plan_layers(packages, 10)
    assert plan.assign("usr/lib64/libzz.so") == "dev-libs/zz-1"


def test_deterministic_across_runs(tmp_path: Path) -> None:
    root, packages = sample(tmp_path)
    a = pack(tmp_path, root, packages, layers=4, blob_dir=tmp_path / "a")
    b = pack(tmp_path, root, tuple(reversed(packages)), layers=4, blob_dir=tmp_path / "b")
    assert [layer.digest for layer in a.layers] == [layer.digest for layer in b.layers]


def test_file_digests_for_the_sbom(tmp_path: Path) -> None:
    import hashlib

    root, packages = sample(tmp_path)
    packed = pack(tmp_path, root, packages, layers=1)
    assert (
        packed.file_digests["usr/bin/hello"]["sha1"]
        == hashlib.sha1(HELLO.files["/usr/bin/hello"]).hexdigest()
    )


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    budget=st.integers(1, 7),
    mode=st.sampled_from(["trim", "full"]),
    chosen=st.lists(st.sampled_from(range(4)), unique=True),
)
def test_any_budget_reassembles_the_rootfs(
    tmp_path_factory: pytest.TempPathFactory, budget: int, mode: str, chosen: list[int]
) -> None:
    tmp = tmp_path_factory.mktemp("prop")
    root, packages = sample(tmp, [ALL[i] for i in sorted(chosen)])
    packed = pack(tmp, root, packages, layers=budget, vdb=mode)
    assert len(packed.layers) <= budget
    data = podman_archive(root)
    expected = apply_tar({}, data, strip=1)
    got = apply_layers([layer.blob.path.read_bytes() for layer in packed.layers])
    if mode == "trim":
        expected = {k: v for k, v in expected.items() if keep_in_image(k, VdbMode.TRIM)}
    assert without_mtimes(got) == without_mtimes(expected)
