"""Every reader of outside data against valid inputs damaged at random (truncated, bytes
flipped, fields retyped, removed or nested deep, oversized): each either reads the input
or fails with one line (an OciError or StavesError), never a traceback, never a hang, and
never writes. Examples are bounded so that the suite stays quick; the corpus of issue 24
is in test_hostile_input.py."""

import base64
import gzip
import io
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oci.archive import write_docker_archive
from oci.archive_reader import open_docker_archive
from oci.errors import OciError
from oci.image import Image
from oci.layer_reader import LayerLimits
from oci.layout import write_layout
from oci.layout_reader import open_layout_source
from oci.registry import RegistryOptions, parse_reference
from oci.registry.pull import open_registry_source
from oci.sign.keys import PEM_TYPE, generate_key_pair, load_signing_key
from oci.source import ImageSource
from oci.tarball import retar_stream
from staves.errors import StavesError
from staves.sources.listing import image_files
from staves.sources.packages import image_report
from staves.sources.provenance import attached_provenance
from tests.hostile import (
    ScriptedRegistry,
    damaged,
    part_bytes,
    relink,
    scripted_registry,
    sha256,
    small_image,
    tar_of,
)

FUZZ = settings(
    max_examples=int(os.environ.get("STAVES_FUZZ_EXAMPLES", "40")),
    deadline=timedelta(seconds=20),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Small enough that a bomb in an example costs little.
LIMITS = LayerLimits(max_bytes=32 << 20, max_entries=10_000)
PARTS = ["index", "manifest", "config", "layer"]


def fails_in_one_line(read: Callable[[], object]) -> None:
    """``read()`` succeeds, or fails with one of Staves' one-line errors."""
    try:
        read()
    except (OciError, StavesError) as exc:
        message = str(exc)
        assert message and "\n" not in message, message
        assert "Traceback" not in message


def read_everything(source: ImageSource) -> None:
    """What inspect, diff and audit read: manifest, config, referrers, every layer."""
    report = image_report(source)
    image_files(source, source.image().layers)
    assert report.image_id.startswith("sha256:")


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Image:
    return small_image(tmp_path_factory.mktemp("image"))


@pytest.fixture(scope="module")
def base_layout(image: Image, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("base") / "layout"
    write_layout(image, path, "1")
    return path


@pytest.fixture(scope="module")
def originals(base_layout: Path) -> dict[str, bytes]:
    return {part: part_bytes(base_layout, part) for part in PARTS}


@st.composite
def layout_damage(draw: st.DrawFn, originals: dict[str, bytes]) -> tuple[str, bytes, bool]:
    part = draw(st.sampled_from(PARTS))
    data = draw(damaged(originals[part], part != "layer"))
    return part, data, draw(st.booleans())


def snapshot(path: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def damage(originals: dict[str, bytes]) -> st.SearchStrategy[tuple[str, bytes, bool]]:
    return layout_damage(originals)


@FUZZ
@given(data=st.data(), archive=st.booleans())
def test_damaged_layouts_and_oci_archives(
    base_layout: Path, damage: st.SearchStrategy[tuple[str, bytes, bool]], data: Any, archive: bool
) -> None:
    part, content, redigest = data.draw(damage)
    with tempfile.TemporaryDirectory() as tmp:
        layout = Path(tmp) / "layout"
        shutil.copytree(base_layout, layout)
        if redigest:
            relink(layout, part, content)
        else:
            target = layout / "index.json" if part == "index" else _blob_path(layout, part)
            target.write_bytes(content)
        path = layout
        if archive:
            path = Path(tmp) / "layout.tar"
            with tarfile.open(path, "w") as tar:
                for item in sorted(layout.rglob("*")):
                    tar.add(item, item.relative_to(layout).as_posix(), recursive=False)
        before = snapshot(Path(tmp))

        def read() -> None:
            with open_layout_source(path, None, archive, limits=LIMITS) as source:
                read_everything(source)

        fails_in_one_line(read)
        assert snapshot(Path(tmp)) == before


def _blob_path(layout: Path, part: str) -> Path:
    from tests.hostile import blob, manifest_digest, manifest_of

    manifest = manifest_of(layout)
    digest = {
        "manifest": manifest_digest(layout),
        "config": manifest["config"]["digest"],
        "layer": manifest["layers"][0]["digest"],
    }[part]
    return blob(layout, digest)


@pytest.fixture(scope="module")
def docker_members(image: Image, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    path = tmp_path_factory.mktemp("docker") / "image.tar"
    write_docker_archive(image, path, ["app:1"])
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]


@FUZZ
@given(data=st.data())
def test_damaged_docker_archives(docker_members: dict[str, bytes], data: Any) -> None:
    name = data.draw(st.sampled_from(sorted(docker_members)))
    original = docker_members[name]
    content = data.draw(damaged(original, name.endswith(".json")))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "image.tar"
        with tarfile.open(path, "w") as tar:
            for member, body in docker_members.items():
                body = content if member == name else body
                info = tarfile.TarInfo(member)
                info.size = len(body)
                tar.addfile(info, io.BytesIO(body))

        def read() -> None:
            with open_docker_archive(path, limits=LIMITS) as source:
                read_everything(source)

        fails_in_one_line(read)


@pytest.fixture(scope="module")
def registry(image: Image) -> Iterator[ScriptedRegistry]:
    with scripted_registry() as server:
        yield server


@FUZZ
@given(data=st.data())
def test_damaged_registry_answers(image: Image, registry: ScriptedRegistry, data: Any) -> None:
    part = data.draw(st.sampled_from(["manifest", "config", "layer"]))
    with image.layers[0].open() as layer:
        originals = {
            "manifest": image.manifest.data,
            "config": image.config.data,
            "layer": layer.read(),
        }
    content = data.draw(damaged(originals[part], part != "layer"))
    replaced = {part: content}
    if part != "manifest" and data.draw(st.booleans()):  # named by its new digest
        manifest = json.loads(image.manifest.data)
        descriptor = manifest["config"] if part == "config" else manifest["layers"][0]
        descriptor.update(digest=sha256(content), size=len(content))
        replaced["manifest"] = json.dumps(manifest).encode()
        registry.answers[f"/v2/app/blobs/{sha256(content)}"] = (200, {}, content)
    registry.serve("app", image, **replaced)
    options = RegistryOptions(retries=0, timeout=10)

    def read() -> None:
        reference = parse_reference(f"docker://{registry.host}/app:1")
        with open_registry_source(reference, options, limits=LIMITS) as source:
            read_everything(source)

    fails_in_one_line(read)


@pytest.fixture(scope="module")
def key_document() -> bytes:
    pem, _ = generate_key_pair(b"pw")
    lines = pem.decode().strip().splitlines()
    return base64.b64decode("".join(lines[1:-1]))


@FUZZ
@given(data=st.data())
def test_damaged_key_files(key_document: bytes, data: Any) -> None:
    body = data.draw(damaged(key_document, True))
    text = base64.b64encode(body).decode()
    pem = f"-----BEGIN {PEM_TYPE}-----\n{text}\n-----END {PEM_TYPE}-----\n".encode()
    fails_in_one_line(lambda: load_signing_key(pem, b"pw", "cosign.key"))


class _Attached:
    """A source holding one envelope attached to the image ``sha256:…1``."""

    limits = LIMITS

    def __init__(self, envelope: bytes) -> None:
        self._envelope = envelope

    def referrers(self, subject: str, artifact_type: str | None = None) -> list[dict[str, Any]]:
        layer = {
            "mediaType": "application/vnd.dsse.envelope.v1+json",
            "digest": sha256(self._envelope),
            "size": len(self._envelope),
        }
        return [{"layers": [layer]}]

    def open_blob(self, digest: str, size: int | None = None) -> io.BytesIO:
        return io.BytesIO(self._envelope)


STATEMENT = {
    "_type": "https://in-toto.io/Statement/v1",
    "predicateType": "https://slsa.dev/provenance/v1",
    "predicate": {
        "buildDefinition": {
            "resolvedDependencies": [
                {"name": "repository:gentoo", "uri": "x", "digest": {"gitCommit": "ab"}}
            ]
        },
        "runDetails": {"builder": {"version": {"staves": "0.1.0"}}},
    },
}


@FUZZ
@given(data=st.data(), inside=st.booleans())
def test_damaged_provenance(data: Any, inside: bool) -> None:
    statement = json.dumps(STATEMENT).encode()
    if inside:
        statement = data.draw(damaged(statement, True))
    envelope = json.dumps(
        {"payload": base64.b64encode(statement).decode(), "payloadType": "x", "signatures": []}
    ).encode()
    if not inside:
        envelope = data.draw(damaged(envelope, True))
    source = _Attached(envelope)
    fails_in_one_line(lambda: attached_provenance(source, "sha256:" + "1" * 64))  # type: ignore[arg-type]


ROOTFS = tar_of(
    ("dir", "etc", ""),
    ("file", "etc/passwd", "root:x:0:0::/root:/bin/sh\n"),
    ("sym", "bin", "usr/bin"),
    ("dir", "usr/bin", ""),
    ("file", "usr/bin/a", "a"),
    ("lnk", "usr/bin/b", "usr/bin/a"),
)


@FUZZ
@given(
    content=damaged(ROOTFS, False),
    names=st.lists(st.sampled_from(["a", "a/b", "etc", "bin/x"]), max_size=3),
)
def test_damaged_rootfs_tars_for_pack(content: bytes, names: list[str]) -> None:
    extra = tar_of(*(("sym" if i % 2 else "file", n, "/etc") for i, n in enumerate(names)))
    for source in (content, extra[:-1024] + content):
        sink = io.BytesIO()

        def pack(source: bytes = source, sink: io.BytesIO = sink) -> None:
            retar_stream(io.BytesIO(source))(sink)
            # What was written writes nothing through a symlink of its own.
            links: set[str] = set()
            with tarfile.open(fileobj=io.BytesIO(sink.getvalue())) as tar:
                for info in tar:
                    name = info.name.rstrip("/")
                    parents = ["/".join(name.split("/")[:i]) for i in range(1, name.count("/") + 1)]
                    assert not links & set(parents), name
                    links.discard(name)
                    if info.issym():
                        links.add(name)

        fails_in_one_line(pack)


_NAMES = st.lists(
    st.sampled_from(["a", "b", "..", ".", "", ".wh.a", ".wh..wh..opq", "var/db/pkg/c/p-1"]),
    min_size=1,
    max_size=4,
).map("/".join)
_VDB = st.sampled_from(["CONTENTS", "USE", "IUSE", "SIZE", "LICENSE", "repository", "SLOT"])
_ENTRIES = st.lists(
    st.tuples(
        st.sampled_from(["file", "dir", "sym", "lnk"]),
        st.one_of(_NAMES, _VDB.map(lambda f: f"var/db/pkg/c/p-1/{f}")),
        st.one_of(st.text(max_size=30), st.sampled_from(["obj /a 1 2\n", "sym /b -> a 3\n"])),
    ),
    max_size=12,
)


@FUZZ
@given(entries=_ENTRIES, compress=st.booleans())
def test_hostile_layer_tars(
    base_layout: Path, entries: list[tuple[str, str, str]], compress: bool
) -> None:
    """Layers of any entries (whiteouts, links to anywhere, package database files of any
    text), named by their true digest, read as inspect and diff read them."""
    layer = tar_of(*entries)
    if compress:
        layer = gzip.compress(layer, mtime=0)
    with tempfile.TemporaryDirectory() as tmp:
        layout = Path(tmp) / "layout"
        shutil.copytree(base_layout, layout)
        relink(layout, "layer", layer)

        def read() -> None:
            with open_layout_source(layout, None, False, limits=LIMITS) as source:
                read_everything(source)

        fails_in_one_line(read)
