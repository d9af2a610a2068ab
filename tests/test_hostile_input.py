"""The attacks of issue 24, each as a regression case: tampered and malformed layouts,
archives, registry answers and key files; bombs; tars that write through links. Each ends
in one line naming the source (and field), exit status 2 for bad input, and no output."""

import base64
import io
import json
import subprocess
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from isal import isal_zlib

from oci.archive import write_docker_archive
from oci.layout import write_layout
from oci.sign.keys import PEM_TYPE, generate_key_pair
from tests.helpers import staves
from tests.hostile import (
    SILENT,
    ScriptedRegistry,
    blob,
    endless,
    index_of,
    manifest_digest,
    manifest_of,
    part_bytes,
    relink,
    scripted_registry,
    sha256,
    small_image,
    tar_of,
)

DEEP = b"[" * 100_000 + b"]" * 100_000


def one_line(proc: subprocess.CompletedProcess[str], code: int = 2) -> str:
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert proc.returncode == code, proc.stderr
    assert proc.stdout == ""
    return lines[0]


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    path = tmp_path / "layout"
    write_layout(small_image(tmp_path / "work"), path, "1")
    return path


def inspect(source: str, *options: str) -> str:
    return one_line(staves("inspect", *options, source))


# -- layouts ------------------------------------------------------------------------------


def test_a_manifest_changed_in_place_is_refused_naming_the_blob(layout: Path) -> None:
    digest = manifest_digest(layout)
    path = blob(layout, digest)
    path.write_bytes(path.read_bytes().replace(b"2024", b"2025"))  # same size, other bytes
    line = inspect(f"oci:{layout}")
    assert line.startswith(f"staves: error: {layout}: blob {digest}: received data with digest")


def test_a_signature_of_a_tampered_layout_is_refused_and_nothing_is_written(
    layout: Path, tmp_path: Path
) -> None:
    env = {"COSIGN_PASSWORD": "pw"}
    key = tmp_path / "cosign"
    assert staves("generate-key-pair", "--output-key-prefix", key, env=env).returncode == 0
    path = blob(layout, manifest_digest(layout))
    path.write_bytes(path.read_bytes().replace(b"2024", b"2025"))
    before = (layout / "index.json").read_bytes()
    line = one_line(staves("sign", "--key", f"{key}.key", f"oci:{layout}", env=env))
    assert "received data with digest" in line
    assert (layout / "index.json").read_bytes() == before


@pytest.mark.parametrize(
    ("index", "problem"),
    [
        (b"{bad", "index.json: is not JSON: Expecting property name"),
        (b"[1]", "index.json: expected an index, found an array"),
        (DEEP, "index.json: nests 100000 levels deep (at most 64 are read)"),
        (b'{"manifests": "zzz"}', "index.json: manifests: expected an array, found a string"),
        (b'{"manifests": [{"mediaType": 1}]}', "index.json: manifests[0].digest: is missing"),
        (b'{"manifests": [], "x": NaN}', "index.json: is not JSON: NaN is not a JSON number"),
    ],
    ids=["not-json", "array", "deep", "retyped", "entry-retyped", "nan"],
)
@pytest.mark.parametrize("command", ["inspect", "diff"])
def test_a_bad_index_is_one_line_naming_the_field(
    layout: Path, index: bytes, problem: str, command: str
) -> None:
    (layout / "index.json").write_bytes(index)
    args = [f"oci:{layout}"] * (2 if command == "diff" else 1)
    line = one_line(staves(command, *args))
    assert problem in line
    assert str(layout) in line


@pytest.mark.parametrize(
    ("part", "change", "problem"),
    [
        ("manifest", {"layers": "x"}, "manifest sha256:{}: layers: expected an array, found a"),
        ("manifest", {"config": [1]}, "manifest sha256:{}: config: expected a descriptor"),
        ("config", {"rootfs": 5}, "config sha256:{}: rootfs: expected an object, found an integer"),
        ("config", {"rootfs": {"diff_ids": [7]}}, "config sha256:{}: rootfs.diff_ids[0]:"),
    ],
)
def test_documents_of_the_wrong_types_are_one_line_naming_the_field(
    layout: Path, part: str, change: dict[str, object], problem: str
) -> None:
    document = json.loads(part_bytes(layout, part))
    document.update(change)
    data = json.dumps(document).encode()
    relink(layout, part, data)
    line = inspect(f"oci:{layout}")
    assert problem.format(sha256(data)[7:]) in line


def test_a_layer_size_of_the_wrong_type_names_it(layout: Path) -> None:
    manifest = manifest_of(layout)
    manifest["layers"][0]["size"] = "150"
    relink(layout, "manifest", json.dumps(manifest).encode())
    assert "layers[0].size: expected a whole number, found a string" in inspect(f"oci:{layout}")


def test_a_short_layer_is_one_plain_line(layout: Path) -> None:
    data = part_bytes(layout, "layer")
    relink(layout, "layer", data[: len(data) // 2])
    line = inspect(f"oci:{layout}")
    assert f"layer {sha256(data[: len(data) // 2])}: not a readable tar: " in line
    assert "('" not in line and "(b'" not in line  # no Python tuple


def test_pack_into_a_layout_whose_index_nests_deep_adds_nothing(
    layout: Path, tmp_path: Path
) -> None:
    (layout / "index.json").write_bytes(DEEP)
    blobs = sorted((layout / "blobs" / "sha256").iterdir())
    rootfs = tmp_path / "rootfs"
    (rootfs / "etc").mkdir(parents=True)
    (rootfs / "etc" / "new").write_text("new\n")
    line = one_line(staves("pack", "--rootfs", rootfs, "-o", f"oci:{layout}:2"))
    assert "index.json: nests 100000 levels deep" in line
    assert sorted((layout / "blobs" / "sha256").iterdir()) == blobs


# -- layer bombs ----------------------------------------------------------------------------


def gzip_bomb(size: int) -> bytes:
    """A gzip'd tar holding one file of ``size`` zero bytes (about size/1000 compressed)."""
    header = tarfile.TarInfo("zeros")
    header.size = size
    out = isal_zlib.compressobj(1, isal_zlib.DEFLATED, 31)
    parts = [out.compress(header.tobuf(format=tarfile.PAX_FORMAT))]
    zeros = bytes(16 << 20)
    for _ in range(size // len(zeros)):
        parts.append(out.compress(zeros))
    parts.append(out.compress(bytes(1024)))  # the end-of-archive blocks
    parts.append(out.flush())
    return b"".join(parts)


def test_a_gzip_bomb_layer_stops_at_the_expansion_limit(layout: Path) -> None:
    bomb = gzip_bomb(4 << 30)  # 4 GiB of zeros in about 4 MiB
    relink(layout, "layer", bomb)
    started = time.monotonic()
    line = inspect(f"oci:{layout}")
    assert time.monotonic() - started < 60
    assert f"layer {sha256(bomb)}: expands to more than 399" in line  # 100 times ~4 MiB
    assert line.endswith("--max-layer-size raises the limit")
    line = inspect(f"oci:{layout}", "--max-layer-size", "64M")
    assert "expands to more than 64 MiB uncompressed" in line


def test_a_layer_of_too_many_entries_is_refused_when_limited(layout: Path) -> None:
    assert staves("inspect", f"oci:{layout}").returncode == 0
    line = inspect(f"oci:{layout}", "--max-layer-entries", "2")
    assert "holds more than 2 entries; --max-layer-entries raises the limit" in line


# -- docker-archives ------------------------------------------------------------------------


def docker_archive(tmp_path: Path, config: bytes) -> Path:
    """A docker-archive of the small image with ``config`` as its config file."""
    plain = tmp_path / "plain.tar"
    write_docker_archive(small_image(tmp_path / "work"), plain, ["app:1"])
    out = tmp_path / "archive.tar"
    with tarfile.open(plain) as src, tarfile.open(out, "w") as dst:
        (entry,) = json.loads(src.extractfile("manifest.json").read())  # type: ignore[union-attr]
        for member in src.getmembers():
            data = src.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == entry["Config"]:
                data = config
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    return out


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        (b"[1]", "expected an image config, found an array"),
        (b'{"rootfs": 5}', "rootfs: expected an object, found an integer"),
        (DEEP, "nests 100000 levels deep"),
    ],
    ids=["array", "rootfs-number", "deep"],
)
def test_a_docker_archive_with_a_bad_config_is_one_line(
    tmp_path: Path, config: bytes, problem: str
) -> None:
    archive = docker_archive(tmp_path, config)
    line = inspect(f"docker-archive:{archive}")
    assert line.startswith(f"staves: error: {archive}: ")
    assert problem in line


def test_a_docker_archive_layer_changed_in_place_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "d.tar"
    image = small_image(tmp_path / "work")
    write_docker_archive(image, archive, ["app:1"])
    data = bytearray(archive.read_bytes())
    with tarfile.open(archive) as tar:
        (entry,) = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
        member = tar.getmember(entry["Layers"][0])
    # The gzip'd layer's stored size field (its last 4 bytes) says one byte more.
    end = member.offset_data + member.size
    data[end - 4] ^= 1
    archive.write_bytes(bytes(data))
    line = inspect(f"docker-archive:{archive}")
    assert f"layer {image.layers[0].diff_id}: received data" in line


# -- registries -----------------------------------------------------------------------------


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[ScriptedRegistry]:
    with scripted_registry() as server:
        server.serve("app", small_image(tmp_path / "work"))
        yield server


INDEX_TYPE = {"Content-Type": "application/vnd.oci.image.index.v1+json"}


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        (DEEP, "manifest 1: nests 100000 levels deep"),
        (b'{"manifests": "zzz"}', "manifest 1: manifests: expected an array, found a string"),
        (b'{"manifests": [{"digest": "../../x"}]}', "manifests[0].mediaType: is missing"),
    ],
    ids=["deep", "manifests-string", "entry"],
)
def test_a_registry_index_of_the_wrong_shape_is_one_line(
    registry: ScriptedRegistry, answer: bytes, problem: str
) -> None:
    registry.answers["/v2/app/manifests/1"] = (200, INDEX_TYPE, answer)
    line = inspect(f"docker://{registry.host}/app:1", "--tls-verify=false")
    assert line.startswith(f"staves: error: docker://{registry.host}/app: ")
    assert problem in line


def test_a_registry_manifest_that_never_ends_is_read_no_further_than_4_mib(
    registry: ScriptedRegistry,
) -> None:
    registry.answers["/v2/app/manifests/1"] = (200, INDEX_TYPE, endless())
    proc = subprocess.run(
        [
            "staves",
            "inspect",
            "--tls-verify=false",
            "--timeout",
            "5",
            f"docker://{registry.host}/app:1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    line = one_line(proc, 1)
    assert "pulling manifest 1 from" in line and "the answer is over 4 MiB" in line


def test_a_registry_that_stops_answering_fails_after_the_timeout(
    registry: ScriptedRegistry,
) -> None:
    registry.answers["/v2/app/manifests/1"] = SILENT
    started = time.monotonic()
    proc = staves("inspect", "--timeout", "2", f"docker://{registry.host}/app:1")
    took = time.monotonic() - started
    line = one_line(proc, 1)
    assert line == (
        f"staves: error: pulling manifest 1 from {registry.host}/app: "
        "no answer in 2s (see --timeout)"
    )
    assert took < 20


def test_a_registry_blob_longer_than_its_digest_says_is_refused(
    registry: ScriptedRegistry, tmp_path: Path
) -> None:
    image = small_image(tmp_path / "again")
    layer = image.layers[0]
    path = f"/v2/app/blobs/{layer.digest}"
    status, headers, body = registry.answers[path]
    registry.answers[path] = (status, headers, bytes(body or b"") + b"\0" * 512)
    line = one_line(staves("inspect", f"docker://{registry.host}/app:1"), 1)
    where = f"pulling blob {layer.digest} from {registry.host}/app"
    assert line.endswith(f"{where}: received more than {layer.size} bytes")


# -- pack -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entries", "problem"),
    [
        (
            [("sym", "a", "/etc"), ("file", "a/passwd", "root::0:0::/:/bin/sh\n")],
            "tar entry 'a/passwd' would be written through the symlink 'a' (-> '/etc')",
        ),
        (
            [("dir", "d", ""), ("sym", "d/up", "../../.."), ("file", "d/up/x", "x")],
            "tar entry 'd/up/x' would be written through the symlink 'd/up'",
        ),
        (
            [("file", "x", "1"), ("lnk", "y", "nothere")],
            "tar entry 'y' is a hardlink to 'nothere', which no earlier entry holds",
        ),
        ([("lnk", "y", "y")], "tar entry 'y' is a hardlink to itself"),
        (
            [("sym", "a", "/etc"), ("file", "f", "1"), ("lnk", "a/shadow", "f")],
            "tar entry 'a/shadow' would be written through the symlink 'a'",
        ),
    ],
    ids=[
        "through-symlink",
        "through-nested-symlink",
        "hardlink-missing",
        "hardlink-self",
        "link-through",
    ],
)
def test_pack_refuses_tars_that_write_through_links(
    tmp_path: Path, entries: list[tuple[str, str, str]], problem: str
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    proc = staves("pack", "--rootfs", "-", "-o", f"oci:{out}/l", input=tar_of(*entries))
    assert proc.returncode == 2 and b"Traceback" not in proc.stderr
    assert problem.encode() in proc.stderr
    assert list(out.iterdir()) == []


def test_pack_keeps_a_symlink_replaced_by_a_directory_before_files_go_under_it(
    tmp_path: Path,
) -> None:
    entries = tar_of(
        ("sym", "a", "/etc"), ("dir", "a", ""), ("file", "a/x", "x"), ("lnk", "b", "a/x")
    )
    proc = staves("pack", "--rootfs", "-", "-o", f"oci:{tmp_path}/l", input=entries)
    assert proc.returncode == 0, proc.stderr


# -- key files ------------------------------------------------------------------------------


def key_file(path: Path, change: dict[str, object] | None = None, raw: bytes | None = None) -> Path:
    """A cosign key file whose JSON document has ``change`` applied (or is ``raw``)."""
    pem, _ = generate_key_pair(b"pw")
    lines = pem.decode().strip().splitlines()
    document = json.loads(base64.b64decode("".join(lines[1:-1])))
    for dotted, value in (change or {}).items():
        *parents, last = dotted.split(".")
        node = document
        for part in parents:
            node = node[part]
        node[last] = value
    body = raw if raw is not None else json.dumps(document).encode()
    text = base64.b64encode(body).decode()
    path.write_text(f"-----BEGIN {PEM_TYPE}-----\n{text}\n-----END {PEM_TYPE}-----\n")
    return path


@pytest.mark.parametrize(
    ("change", "raw", "problem"),
    [
        ({"kdf": "scrypt"}, None, "not a readable cosign key: kdf: expected an object, found a"),
        (None, b'{"kdf": {"params": {"N": Infinity}}}', "Infinity is not a JSON number"),
        ({"kdf.params.N": 2**80}, None, "scrypt parameters N=1208925819614629174706176"),
        (
            {"cipher.nonce": base64.b64encode(b"short").decode()},
            None,
            "cipher.nonce has 5 bytes, not 24",
        ),
        (None, b"[" * 1000 + b"]" * 1000, "nests 1000 levels deep"),
    ],
    ids=["kdf-string", "n-infinity", "n-huge", "nonce-length", "deep"],
)
def test_a_bad_key_file_is_one_line_naming_the_field(
    layout: Path, tmp_path: Path, change: dict[str, object] | None, raw: bytes | None, problem: str
) -> None:
    key = key_file(tmp_path / "cosign.key", change, raw)
    before = index_of(layout)
    line = one_line(staves("sign", "--key", key, f"oci:{layout}", env={"COSIGN_PASSWORD": "pw"}))
    assert line.startswith(f"staves: error: --sign-key: {key}: ")
    assert problem in line
    assert index_of(layout) == before


def test_a_key_that_never_ends_is_not_read_to_its_end(layout: Path) -> None:
    line = one_line(
        staves("sign", "--key", "/dev/zero", f"oci:{layout}", env={"COSIGN_PASSWORD": ""})
    )
    assert line == "staves: error: --sign-key: /dev/zero: over 64 KiB; not a cosign key file"


def test_the_wrong_passphrase_still_says_so(layout: Path, tmp_path: Path) -> None:
    key = key_file(tmp_path / "cosign.key")
    line = one_line(staves("sign", "--key", key, f"oci:{layout}", env={"COSIGN_PASSWORD": "no"}))
    assert line.endswith("wrong passphrase (the key does not decrypt)")


def test_hostile_layout_is_left_as_it_was(layout: Path) -> None:
    """Reading never writes: a failed inspect leaves the layout byte for byte."""
    (layout / "index.json").write_bytes(b"[1]")
    before = {p: p.read_bytes() for p in layout.rglob("*") if p.is_file()}
    inspect(f"oci:{layout}")
    assert {p: p.read_bytes() for p in layout.rglob("*") if p.is_file()} == before
