"""The files of an image from its layer tars: whiteouts, replacement, and their owners."""

import gzip
import io
import tarfile
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from oci.errors import OciError
from oci.layer_reader import DEFAULT_LIMITS
from oci.layout import write_layout
from oci.source import SourceImage
from staves.sources.listing import bytes_by_package, image_files, read_image_contents
from staves.sources.packages import image_report
from staves.sources.transports import SourceAccess, open_source, parse_source_arg
from tests.sources.test_artifact_inspect import attach_sbom, make_image
from tests.vdb_samples import GLIBC, HELLO, LIBGREET

GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"


def layer(*entries: tuple[str, str, bytes | str]) -> bytes:
    """A gzipped layer of (name, kind, data): kind "file", "dir", "link" (data: target)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, kind, data in entries:
            info = tarfile.TarInfo(name)
            if kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif kind == "link":
                info.type = tarfile.SYMTYPE
                info.linkname = str(data)
                tar.addfile(info)
            else:
                raw = data if isinstance(data, bytes) else data.encode()
                info.size = len(raw)
                tar.addfile(info, io.BytesIO(raw))
    return gzip.compress(buf.getvalue())


class LayerTars:
    """An ImageSource over layer tars in memory, as a transport would stream them."""

    limits = DEFAULT_LIMITS

    def __init__(self, *layers: bytes) -> None:
        self.blobs = {f"sha256:{i:064x}": data for i, data in enumerate(layers)}

    def image(self) -> SourceImage:
        layers = [{"digest": d, "size": len(b), "mediaType": GZIP} for d, b in self.blobs.items()]
        manifest = {"config": {"digest": "sha256:" + "c" * 64}, "layers": layers}
        return SourceImage(None, manifest, {})

    def open_blob(self, digest: str, size: int | None = None) -> BinaryIO:
        return io.BytesIO(self.blobs[digest])

    def referrers(self, subject: str, artifact_type: str | None = None) -> list[dict[str, Any]]:
        return []


def listing(source: LayerTars) -> dict[str, tuple[int, int, str | None]]:
    files = image_files(source, source.image().layers)
    return {f.path: (f.size, f.layer, f.package) for f in files}


def test_later_layers_replace_and_white_out_files_of_earlier_ones() -> None:
    source = LayerTars(
        layer(
            ("./usr/", "dir", b""),
            ("./usr/bin/a", "file", b"aaaa"),
            ("./usr/bin/b", "file", b"bb"),
            ("./opt/x/1", "file", b"1"),
            ("./opt/x/deep/2", "file", b"22"),
            ("./etc/c", "file", b"c"),
        ),
        layer(
            ("usr/bin/a", "file", b"A"),  # replaced: its size is the new one's
            ("usr/bin/.wh.b", "file", b""),  # whited out
            ("opt/x/.wh..wh..opq", "file", b""),  # everything below from lower layers goes
            ("opt/x/new", "file", b"new"),
            ("etc/c", "link", "a"),  # now a symlink: no longer a regular file
        ),
    )
    assert listing(source) == {"usr/bin/a": (1, 1, None), "opt/x/new": (3, 1, None)}


def test_an_opaque_directory_keeps_what_its_own_layer_put_there() -> None:
    # The whiteout may come after the layer's own files in the tar.
    source = LayerTars(
        layer(("d/old", "file", b"o")),
        layer(("d/mine", "file", b"m"), ("d/.wh..wh..opq", "file", b"")),
    )
    assert listing(source) == {"d/mine": (1, 1, None)}


def test_owners_come_from_contents_through_the_directory_symlinks(tmp_path: Path) -> None:
    _, _, _, image = make_image(tmp_path, layers=4)
    layout = tmp_path / "layout"
    write_layout(image, layout, "v1")
    with open_source(parse_source_arg(f"oci:{layout}:v1"), SourceAccess()) as source:
        contents = read_image_contents(source)
    owners = {f.path: f.package for f in contents.files}
    assert owners["usr/lib64/libc.so.6"] == GLIBC.key
    assert owners["usr/lib64/libgreet.so.1"] == LIBGREET.key
    assert owners["usr/share/hello/a file with spaces.txt"] == HELLO.key
    assert owners["etc/ld.so.cache"] is None
    totals = bytes_by_package(contents.files)
    for pkg in (GLIBC, LIBGREET, HELLO):
        assert totals[pkg.key] == sum(len(d) for d in pkg.files.values())
    # Each package's files are in its own layer, the one its annotation names.
    layer_of = {f.package: f.layer for f in contents.files if f.package}
    for key, index in layer_of.items():
        assert key in contents.report.layers[index].packages


def test_without_a_package_database_the_sbom_names_the_owners(tmp_path: Path) -> None:
    _, packages, packed, image = make_image(tmp_path, layers=4, vdb="none")
    layout = tmp_path / "layout"
    write_layout(image, layout, "v1")
    attach_sbom(image, packages, packed, layout)
    with open_source(parse_source_arg(f"oci:{layout}:v1"), SourceAccess()) as source:
        contents = read_image_contents(source)
    assert contents.report.source == "sbom"
    assert not any(f.path.startswith("var/db/pkg") for f in contents.files)
    totals = bytes_by_package(contents.files)
    for pkg in (GLIBC, LIBGREET, HELLO):
        assert totals[pkg.key] == sum(len(d) for d in pkg.files.values())


def test_a_layer_that_is_not_a_tar_is_one_error_naming_it() -> None:
    source = LayerTars(gzip.compress(b"not a tar at all" * 100))
    with pytest.raises(OciError, match=r"layer sha256:0+: not a readable tar"):
        listing(source)


@pytest.mark.parametrize("sbom", [True, False])
def test_one_pass_over_the_layers_gives_the_report_inspect_gives(
    tmp_path: Path, sbom: bool
) -> None:
    _, packages, packed, image = make_image(tmp_path, layers=3)
    layout = tmp_path / "layout"
    write_layout(image, layout, "v1")
    if sbom:
        attach_sbom(image, packages, packed, layout)
    with open_source(parse_source_arg(f"oci:{layout}:v1"), SourceAccess()) as source:
        assert read_image_contents(source).report == image_report(source)
