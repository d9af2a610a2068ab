"""``staves inspect`` from every transport: a real registry (TLS + Basic, token auth, plain
HTTP), docker-archives written by ``staves pack`` and by the archive writer, and Podman's
container storage. All traffic stays on 127.0.0.1."""

import gzip
import json
import shutil
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from oci.archive import write_docker_archive
from oci.artifact import Artifact, build_artifact
from oci.blob import json_blob
from oci.compress import Compression
from oci.descriptor import Platform
from oci.image import Image
from oci.media import MediaType
from oci.platforms import pick_platform
from oci.registry import RegistryOptions, parse_creds, parse_reference, push_image
from oci.registry.transport import RegistryClient, repo_scope
from staves.gentoo.sbom import (
    SPDX_MEDIA_TYPE,
    ImageInput,
    SbomFormat,
    SbomSubject,
    describe_image,
    sbom_blob,
)
from tests.conftest import require_tools, run
from tests.helpers import staves
from tests.registry_fixtures import (
    PASSWORD,
    USER,
    CertAuthority,
    Registry,
    TokenServer,
    registry_factory,
    secure_registry,
    test_ca,
    token_server,
)
from tests.sources.test_artifact_inspect import CREATED, make_image
from tests.vdb_samples import HELLO

__all__ = ["registry_factory", "secure_registry", "test_ca", "token_server"]  # fixtures

CREDS = f"{USER}:{PASSWORD}"


def sbom_artifact(image: Image, packages: Any, packed: Any) -> Artifact:
    doc = describe_image(
        packages,
        SbomSubject("example/hello", image.manifest.digest, CREATED),
        packed.file_digests,
        [ImageInput("builder", "localhost/builder:1", "sha256:" + "1" * 64)],
    )
    return build_artifact(
        image.descriptor(), [(sbom_blob(doc, SbomFormat.SPDX), "sbom.spdx.json")], SPDX_MEDIA_TYPE
    )


def inspect_json(*args: str | Path) -> dict[str, Any]:
    proc = staves("inspect", "--format", "json", *args)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def one_line_error(*args: str | Path) -> str:
    proc = staves("inspect", *args)
    assert proc.returncode != 0, proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


def package(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in report["packages"] if p["name"] == name)


# -- registries -----------------------------------------------------------------------


@pytest.mark.registry
def test_inspect_from_a_registry_reads_the_attached_sbom(
    secure_registry: Registry, test_ca: CertAuthority, tmp_path: Path
) -> None:
    _, packages, packed, image = make_image(tmp_path)
    host = secure_registry.host
    options = RegistryOptions(creds=parse_creds(CREDS), cert_dir=test_ca.cert_dir)
    artifact = sbom_artifact(image, packages, packed)
    push_image(image, [parse_reference(f"{host}/team/app:1")], options, referrers=[artifact])

    flags = ("--creds", CREDS, "--cert-dir", test_ca.cert_dir)
    report = inspect_json(f"docker://{host}/team/app:1", *flags)
    assert report["source"] == "sbom"
    assert report["digest"] == image.manifest.digest
    assert report["image_id"] == image.config.digest
    hello = package(report, "app-misc/hello")
    assert hello["version"] == "1.0-r1" and hello["use"] == ["ssl"]
    assert hello["size"] == sum(len(d) for d in HELLO.files.values())
    assert [layer["digest"] for layer in report["layers"]] == [
        layer.digest for layer in image.layers
    ]
    assert report["layers"][2]["packages"] == ["app-misc/hello-1.0-r1"]
    # By digest too, and as text.
    by_digest = inspect_json(f"docker://{host}/team/app@{image.manifest.digest}", *flags)
    assert by_digest["packages"] == report["packages"]
    text = staves("inspect", f"docker://{host}/team/app:1", *flags)
    assert text.returncode == 0, text.stderr
    assert f"image {image.manifest.digest} (packages from sbom)" in text.stdout
    assert PASSWORD not in text.stdout + text.stderr


@pytest.mark.registry
def test_inspect_from_a_registry_without_sbom_reads_the_layers(
    registry_factory: Callable[..., Registry], tmp_path: Path
) -> None:
    _, _, _, image = make_image(tmp_path, layers=10)
    registry = registry_factory()  # plain HTTP on loopback, no auth
    push_image(image, [parse_reference(f"{registry.host}/app:1")], RegistryOptions())
    report = inspect_json(f"docker://{registry.host}/app:1")
    assert report["source"] == "vdb"
    assert report["digest"] == image.manifest.digest
    glibc = package(report, "sys-libs/glibc")
    assert glibc["license"] == "LGPL-2.1+ BSD HPND ISC inner-net rc PCRE"
    assert report["layers"][0]["packages"] == ["sys-libs/glibc-2.39-r6"]


@pytest.mark.registry
def test_a_layer_the_registry_serves_altered_is_refused(
    registry_factory: Callable[..., Registry], tmp_path: Path
) -> None:
    _, _, _, image = make_image(tmp_path, layers=1)
    registry = registry_factory()
    push_image(image, [parse_reference(f"{registry.host}/app:1")], RegistryOptions())
    digest = image.layers[0].digest
    hexa = digest.split(":", 1)[1]
    stored = registry.storage / "docker/registry/v2/blobs/sha256" / hexa[:2] / hexa / "data"
    data = bytearray(stored.read_bytes())
    data[-1] ^= 0xFF  # the last byte of the gzip trailer (the size)
    stored.write_bytes(bytes(data))
    line = one_line_error(f"docker://{registry.host}/app:1")
    assert line.startswith(f"staves: error: pulling blob {digest} from {registry.host}/app: ")
    assert "received data with digest" in line


@pytest.mark.registry
def test_inspect_picks_this_hosts_image_from_an_index(
    registry_factory: Callable[..., Registry], tmp_path: Path
) -> None:
    _, packages, packed, image = make_image(tmp_path / "host")
    _, _, _, other = make_image(tmp_path / "other", layers=1, vdb="none")
    registry = registry_factory()
    options = RegistryOptions()
    artifact = sbom_artifact(image, packages, packed)
    push_image(
        image, [parse_reference(f"{registry.host}/multi:host")], options, referrers=[artifact]
    )
    push_image(other, [parse_reference(f"{registry.host}/multi:other")], options)
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
    client = RegistryClient(registry.host, options, None)
    try:
        client.request(
            "PUT",
            "/v2/multi/manifests/latest",
            step="pushing index",
            where="test",
            scopes=[repo_scope("multi")],
            expected=(201,),
            headers={"Content-Type": MediaType.OCI_INDEX},
            body=lambda: index.data,
        )
    finally:
        client.close()
    report = inspect_json(f"docker://{registry.host}/multi")  # :latest
    assert report["digest"] == image.manifest.digest
    assert report["source"] == "sbom"
    chosen = inspect_json("--platform", str(foreign), f"docker://{registry.host}/multi")
    assert chosen["digest"] == other.manifest.digest
    missing = one_line_error("--platform", "linux/mips64le", f"docker://{registry.host}/multi")
    assert "no linux/mips64le image in the index" in missing and str(foreign) in missing
    assert "OS/ARCH" in one_line_error("--platform", "amd64", f"docker://{registry.host}/multi")

    # The same index copied by skopeo into a layout and an oci-archive: the same choice.
    require_tools("skopeo")
    layout, archive = tmp_path / "layout", tmp_path / "multi.tar"
    for dest in (f"oci:{layout}:multi", f"oci-archive:{archive}:multi"):
        run("skopeo", "copy", "--all", "--src-tls-verify=false",
            f"docker://{registry.host}/multi", dest)  # fmt: skip
        assert inspect_json(dest)["digest"] == image.manifest.digest
        assert inspect_json("--platform", str(foreign), dest)["digest"] == other.manifest.digest
        assert "has no linux/mips64le image" in one_line_error("--platform", "linux/mips64le", dest)
    untagged = inspect_json(f"oci:{layout}")  # the layout's only entry is the index
    assert untagged["digest"] == image.manifest.digest


def test_pick_platform_prefers_the_variant_asked_for() -> None:
    def entry(arch: str, variant: str | None = None, **extra: str) -> dict[str, Any]:
        plat = {"os": "linux", "architecture": arch, **({"variant": variant} if variant else {})}
        return {"mediaType": MediaType.OCI_MANIFEST, "digest": arch + (variant or ""),
                "platform": plat, **extra}  # fmt: skip

    index = {
        "manifests": [
            entry("amd64", artifactType="application/spdx+json"),
            entry("arm", "v6"),
            entry("arm", "v7"),
            entry("amd64"),
        ]
    }
    assert pick_platform(index, Platform("linux", "amd64"))["digest"] == "amd64"  # type: ignore[index]
    assert pick_platform(index, Platform("linux", "arm", "v7"))["digest"] == "armv7"  # type: ignore[index]
    assert pick_platform(index, Platform("linux", "arm"))["digest"] == "armv6"  # type: ignore[index]
    assert pick_platform(index, Platform("linux", "arm64")) is None


@pytest.mark.registry
def test_inspect_from_a_token_auth_registry(
    registry_factory: Callable[..., Registry], token_server: TokenServer, tmp_path: Path
) -> None:
    _, packages, packed, image = make_image(tmp_path)
    registry = registry_factory(tokens=token_server)
    options = RegistryOptions(creds=parse_creds(CREDS))
    artifact = sbom_artifact(image, packages, packed)
    push_image(
        image, [parse_reference(f"{registry.host}/private/app:1")], options, referrers=[artifact]
    )
    report = inspect_json(f"docker://{registry.host}/private/app:1", "--creds", CREDS)
    assert report["source"] == "sbom" and report["digest"] == image.manifest.digest
    # Without credentials the token server grants nothing here.
    line = one_line_error(f"docker://{registry.host}/private/app:1")
    assert "pulling manifest 1 from" in line and "no credentials found" in line


@pytest.mark.registry
def test_inspect_registry_errors_are_one_line(
    secure_registry: Registry, test_ca: CertAuthority, tmp_path: Path
) -> None:
    _, _, _, image = make_image(tmp_path, layers=1)
    host = secure_registry.host
    options = RegistryOptions(creds=parse_creds(CREDS), cert_dir=test_ca.cert_dir)
    push_image(image, [parse_reference(f"{host}/app:1")], options)
    ref = f"docker://{host}/app:1"

    line = one_line_error(ref, "--creds", f"{USER}:wrong", "--cert-dir", test_ca.cert_dir)
    assert line.startswith(f"staves: error: pulling manifest 1 from {host}/app: 401")
    assert "credentials were refused" in line and "wrong" not in line

    line = one_line_error(
        f"docker://{host}/app:2", "--creds", CREDS, "--cert-dir", test_ca.cert_dir
    )
    assert line.startswith(f"staves: error: pulling manifest 2 from {host}/app: 404")

    line = one_line_error(ref, "--creds", CREDS)  # the test CA is not trusted
    assert "certificate" in line.lower()

    report = inspect_json(ref, "--creds", CREDS, "--tls-verify=false")
    assert report["digest"] == image.manifest.digest


# -- docker-archive and containers-storage ----------------------------------------------


def test_inspect_a_docker_archive_from_the_archive_writer(tmp_path: Path) -> None:
    _, _, _, image = make_image(tmp_path, layers=10)
    archive = tmp_path / "image.tar"
    write_docker_archive(image, archive, ["localhost/app:1", "app:latest"])
    report = inspect_json(f"docker-archive:{archive}")
    assert report["source"] == "vdb"
    assert report["digest"] is None
    assert report["image_id"] == image.config.digest
    diff_ids = json.loads(image.config.data)["rootfs"]["diff_ids"]
    assert [layer["digest"] for layer in report["layers"]] == diff_ids
    assert [layer["size"] for layer in report["layers"]] == [layer.size for layer in image.layers]
    assert {layer["media_type"] for layer in report["layers"]} == {MediaType.DOCKER_LAYER_GZIP}
    assert report["layers"][0]["packages"] == ["sys-libs/glibc-2.39-r6"]
    assert "ssl" in package(report, "app-misc/hello")["use"]
    # Picked by name (short or long), or refused naming what is there.
    assert inspect_json(f"docker-archive:{archive}:app:1")["image_id"] == image.config.digest
    line = one_line_error(f"docker-archive:{archive}:app:2")
    assert "no image named 'app:2'" in line and "localhost/app:1" in line


def test_inspect_a_docker_archive_written_by_pack(tmp_path: Path) -> None:
    root, _, _, _ = make_image(tmp_path)
    archive = tmp_path / "packed.tar"
    proc = staves("pack", "--rootfs", root, "--tag", "hello:1", "-o", f"docker-archive:{archive}")
    assert proc.returncode == 0, proc.stderr
    report = inspect_json(f"docker-archive:{archive}")
    assert report["source"] == "vdb"
    assert len(report["layers"]) == 1
    assert {"app-misc/hello-1.0-r1", "dev-libs/libgreet-1.0", "sys-libs/glibc-2.39-r6"} <= set(
        report["layers"][0]["packages"]
    )
    text = staves("inspect", f"docker-archive:{archive}:hello:1")
    assert text.returncode == 0, text.stderr
    assert "image ID sha256:" in text.stdout and "app-misc/hello" in text.stdout


def test_inspect_a_gzip_compressed_docker_archive_with_plain_layers(tmp_path: Path) -> None:
    """As ``docker save | gzip`` leaves it: the layers plain tars, the whole gzipped."""
    _, _, _, image = make_image(tmp_path, layers=3, compression=Compression.NONE)
    archive = tmp_path / "image.tar"
    write_docker_archive(image, archive, ["app:1"])
    zipped = tmp_path / "image.tar.gz"
    with archive.open("rb") as src, gzip.open(zipped, "wb") as dst:
        shutil.copyfileobj(src, dst)
    report = inspect_json(f"docker-archive:{zipped}")
    assert report["source"] == "vdb"
    assert {layer["media_type"] for layer in report["layers"]} == {
        "application/vnd.docker.image.rootfs.diff.tar"
    }


def test_broken_docker_archives_are_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "missing.tar"
    assert "not a readable docker-archive" in one_line_error(f"docker-archive:{missing}")
    _, _, _, image = make_image(tmp_path, layers=1)
    archive = tmp_path / "cut.tar"
    write_docker_archive(image, archive)
    data = archive.read_bytes()
    # Overwrite the layer's deflate data in place, leaving the gzip header and trailer.
    start, size = data.index(b"\x1f\x8b\x08"), image.layers[0].size
    archive.write_bytes(data[: start + 10] + b"\xff" * (size - 18) + data[start + size - 8 :])
    line = one_line_error(f"docker-archive:{archive}")
    assert line.startswith(f"staves: error: {archive}: ")
    assert f"layer {image.layers[0].diff_id}: received data that is not valid gzip" in line


@pytest.mark.podman
def test_inspect_from_containers_storage(tmp_path: Path) -> None:
    require_tools("podman")
    _, _, _, image = make_image(tmp_path, layers=10)
    archive = tmp_path / "image.tar"
    name = f"localhost/staves-inspect-{uuid.uuid4().hex[:8]}:t"
    write_docker_archive(image, archive, [name])
    run("podman", "load", "-i", archive)
    try:
        report = inspect_json(f"containers-storage:{name}")
        assert report["source"] == "vdb"
        assert report["image_id"] == image.config.digest
        diff_ids = json.loads(image.config.data)["rootfs"]["diff_ids"]
        assert [layer["digest"] for layer in report["layers"]] == diff_ids
        assert report["layers"][0]["packages"] == ["sys-libs/glibc-2.39-r6"]
        assert package(report, "app-misc/hello")["version"] == "1.0-r1"
        line = one_line_error(f"containers-storage:{name}-absent")
        assert line.startswith(f"staves: error: SOURCE: containers-storage:{name}-absent: ")
    finally:
        subprocess.run(["podman", "rmi", "-f", name], capture_output=True, check=False)
