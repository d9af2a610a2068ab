"""``staves diff``: what it names between two images, and diff(1)'s exit status."""

import io
import json
import tarfile
from pathlib import Path

from click.testing import CliRunner

from oci.archive import write_docker_archive, write_oci_archive
from oci.blob import json_blob
from oci.descriptor import Platform
from oci.image import ImageConfig, build_image
from oci.layout import write_layout
from oci.media import MediaType
from staves.cli import main
from staves.gentoo.rootfs_layers import pack_rootfs
from staves.gentoo.vdb import read_vdb_dir
from staves.reports.diff import diff_packages
from staves.sources.packages import PackageInfo
from tests.helpers import layout_blob, manifest_for_tag
from tests.sources.test_artifact_inspect import CREATED, attach_sbom, make_image
from tests.vdb_samples import ALL, GLIBC, HELLO, UNOWNED, VDB, Pkg, make_rootfs, podman_archive


def pkg(name: str, version: str, use: tuple[str, ...] = (), size: int = 1) -> PackageInfo:
    return PackageInfo(name, version, use, (), "MIT", size, "gentoo")


def test_packages_added_removed_and_changed_field_by_field() -> None:
    old = [pkg("a/kept", "1"), pkg("a/gone", "1"), pkg("a/moved", "1.0", ("x",), 10)]
    new = [pkg("a/kept", "1"), pkg("a/new", "2"), pkg("a/moved", "1.1", ("x", "y"), 12)]
    added, removed, changed = diff_packages(old, new)
    assert [p.name for p in added] == ["a/new"]
    assert [p.name for p in removed] == ["a/gone"]
    assert [(c.name, [(f.field, f.old, f.new) for f in c.changes]) for c in changed] == [
        ("a/moved", [("version", "1.0", "1.1"), ("use", ("x",), ("x", "y")), ("size", 10, 12)])
    ]


def test_slotted_versions_of_one_name_are_added_and_removed_by_version() -> None:
    old = [pkg("dev-lang/py", "3.11"), pkg("dev-lang/py", "3.12")]
    new = [pkg("dev-lang/py", "3.12", ("x",)), pkg("dev-lang/py", "3.13")]
    added, removed, changed = diff_packages(old, new)
    assert [p.version for p in added] == ["3.13"]
    assert [p.version for p in removed] == ["3.11"]
    assert [(c.old.version, c.changes[0].field) for c in changed] == [("3.12", "use")]


def packed_image(where: Path, packages: list[Pkg]):
    """The packages packed as a build would, four layers; SOURCE_DATE_EPOCH set, so that
    layers of the same files are the same bytes whenever they are packed."""
    root = make_rootfs(where / "root", packages, UNOWNED)
    packed = pack_rootfs(
        io.BytesIO(podman_archive(root)),
        read_vdb_dir(root / VDB),
        layers=4,
        blob_dir=where / "blobs",
        epoch=1_700_000_000,
    )
    return build_image(
        packed.layers,
        ImageConfig(),
        created=CREATED,
        platform=Platform("linux", "amd64"),
        history=packed.history,
    )


def two_layouts(tmp_path: Path) -> tuple[str, str]:
    """Image A from the samples; B with hello replaced by a bigger hello-1.1."""
    hello = Pkg(
        "app-misc/hello-1.1",
        files={"/usr/bin/hello": b"#!/bin/sh\necho hello, world\n" * 10},
        meta={"LICENSE": "MIT", "USE": "amd64", "IUSE": "", "BUILD_TIME": "1700000300"},
    )
    layout = tmp_path / "layout"
    write_layout(packed_image(tmp_path / "a", ALL), layout, "a")
    b_packages = [p for p in ALL if p is not HELLO] + [hello]
    write_layout(packed_image(tmp_path / "b", b_packages), layout, "b")
    return f"oci:{layout}:a", f"oci:{layout}:b"


def tree_bytes(source: str) -> int:
    """Bytes of the regular files of the final tree, read with tarfile (no whiteouts in
    these images: a later layer's file replaces an earlier one)."""
    _, path, tag = source.split(":")
    manifest = manifest_for_tag(Path(path), tag)
    sizes: dict[str, int] = {}
    for layer in manifest["layers"]:
        with tarfile.open(layout_blob(Path(path), layer["digest"])) as tar:
            for member in tar:
                sizes.pop(member.name.lstrip("./"), None)
                if member.isreg():
                    sizes[member.name.lstrip("./")] = member.size
    return sum(sizes.values())


def diff(*args: str):
    return CliRunner().invoke(main, ["diff", *args])


def test_diff_names_the_change_and_exits_1(tmp_path: Path) -> None:
    a, b = two_layouts(tmp_path)
    result = diff(a, b, "--format", "json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    assert report["added"] == [] and report["removed"] == []
    [change] = report["changed"]
    assert change["name"] == "app-misc/hello"
    fields = {c["field"]: (c["old"], c["new"]) for c in change["changes"]}
    assert fields["version"] == ("1.0-r1", "1.1")
    # glibc's, libgreet's and the last layer (virtual/libc's entry and files of no
    # package) are byte for byte the same: shared.
    shared = {p for layer in report["shared_layers"] for p in layer["packages"]}
    assert shared == {GLIBC.key, "dev-libs/libgreet-1.0", "virtual/libc-1"}
    assert next(layer["packages"] for layer in report["layers_only_b"]) == ["app-misc/hello-1.1"]
    assert report["file_bytes_change"] == tree_bytes(b) - tree_bytes(a)
    text = diff(a, b).output
    assert "~ app-misc/hello: version 1.0-r1 -> 1.1" in text
    assert "layers: 3 shared, 1 only in A, 1 only in B" in text


def test_the_same_image_from_two_transports_exits_0(tmp_path: Path) -> None:
    _, _, _, image = make_image(tmp_path, layers=4)
    write_layout(image, tmp_path / "layout", "a")
    write_oci_archive(image, tmp_path / "a.tar", "a")
    result = diff(f"oci:{tmp_path / 'layout'}:a", f"oci-archive:{tmp_path / 'a.tar'}:a")
    assert result.exit_code == 0, result.output
    assert "same image" in result.output


def test_the_same_image_with_and_without_its_sbom_has_no_changes(tmp_path: Path) -> None:
    # A layout keeps the SBOM; a docker archive keeps only the package database, whose
    # USE and licenses read differently: still the same image.
    _, packages, packed, image = make_image(tmp_path, layers=4)
    write_layout(image, tmp_path / "layout", "a")
    attach_sbom(image, packages, packed, tmp_path / "layout")
    write_docker_archive(image, tmp_path / "a.tar", ["localhost/a:1"])
    result = diff(f"oci:{tmp_path / 'layout'}:a", f"docker-archive:{tmp_path / 'a.tar'}")
    assert result.exit_code == 0, result.output
    assert "~" not in result.output and "note:" not in result.output


def test_trouble_exits_2_with_one_line(tmp_path: Path) -> None:
    a, _ = two_layouts(tmp_path)
    for args, said in [
        ((a, f"oci:{tmp_path}/nothing"), "reading oci:"),
        ((a, "nonsense:x"), "B: source 'nonsense:x' has no known transport"),
        ((a, a, "--platform", "linux"), "--platform"),
        ((a,), "B: missing; it is required"),
    ]:
        result = diff(*args)
        assert result.exit_code == 2, (args, result.output)
        assert said in result.output, result.output
        assert "Traceback" not in result.output


def index_layout(tmp_path: Path) -> tuple[Path, Platform]:
    """A layout with two images, tagged "host" and "other", and an index of both, "multi",
    as ``skopeo copy --all`` leaves one."""
    _, _, _, image = make_image(tmp_path / "host", layers=4)
    _, _, _, other = make_image(tmp_path / "other", layers=1, vdb="none")
    layout = tmp_path / "layout"
    write_layout(image, layout, "host")
    write_layout(other, layout, "other")
    host = Platform.host()
    foreign = Platform("linux", "s390x" if host.architecture != "s390x" else "riscv64")
    index = json_blob(
        {
            "schemaVersion": 2,
            "mediaType": MediaType.OCI_INDEX,
            "manifests": [
                {**other.descriptor().to_dict(), "platform": foreign.to_dict()},
                {**image.descriptor().to_dict(), "platform": host.to_dict()},
            ],
        },
        MediaType.OCI_INDEX,
    )
    layout_blob(layout, index.digest).write_bytes(index.data)
    top = json.loads((layout / "index.json").read_text())
    top["manifests"].append(
        {
            "mediaType": MediaType.OCI_INDEX,
            "digest": index.digest,
            "size": index.size,
            "annotations": {"org.opencontainers.image.ref.name": "multi"},
        }
    )
    (layout / "index.json").write_text(json.dumps(top))
    return layout, foreign


def test_platform_picks_the_image_of_an_index_on_both_sides(tmp_path: Path) -> None:
    layout, foreign = index_layout(tmp_path)
    multi, host, other = (f"oci:{layout}:{tag}" for tag in ("multi", "host", "other"))
    assert diff(multi, host).exit_code == 0
    assert diff(multi, other).exit_code == 1
    assert diff("--platform", str(foreign), multi, other).exit_code == 0
    # "other" keeps no package database and has no SBOM: packages from nowhere.
    assert "note: packages of A from vdb, of B from none" in diff(multi, other).output
    result = diff("--platform", "linux/mips64le", multi, other)
    assert result.exit_code == 2 and "has no linux/mips64le image" in result.output


def test_same_content_in_different_manifests_is_not_the_same_image(tmp_path: Path) -> None:
    """Two manifests of one tree (another annotation, another label, other compression) are
    two images to a registry and a signature: diff says so, and why."""
    _, _, packed, image = make_image(tmp_path, layers=4)
    layout = tmp_path / "layout"
    write_layout(image, layout, "a")
    annotated = build_image(
        packed.layers,
        ImageConfig(),
        created=CREATED,
        platform=Platform("linux", "amd64"),
        history=packed.history,
        annotations={"org.opencontainers.image.source": "https://example.org/x"},
    )
    write_layout(annotated, layout, "b")
    result = diff(f"oci:{layout}:a", f"oci:{layout}:b", "--format", "json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    assert (report["same"], report["same_content"]) == (False, True)
    assert report["differences"] == ["manifest annotation org.opencontainers.image.source"]
    assert report["changed"] == [] and report["layers_only_a"] == []
    text = diff(f"oci:{layout}:a", f"oci:{layout}:b").output
    assert text.splitlines()[-1] == (
        "same content, different image: manifest annotation org.opencontainers.image.source"
    )
    labelled = build_image(
        packed.layers,
        ImageConfig(labels={"team": "infra"}),
        created=CREATED,
        platform=Platform("linux", "amd64"),
        history=packed.history,
    )
    write_layout(labelled, layout, "c")
    report = json.loads(diff(f"oci:{layout}:a", f"oci:{layout}:c", "--format", "json").output)
    assert report["differences"] == ["config Labels"]
    # Read where no manifest is kept, the same config is the same image.
    write_docker_archive(labelled, tmp_path / "c.tar", ["localhost/c:1"])
    same = diff(f"oci:{layout}:c", f"docker-archive:{tmp_path / 'c.tar'}")
    assert same.exit_code == 0 and same.output.splitlines()[-1] == "same image"
