"""Portage-aware images end to end: per-package layers, shared library layers, the SBOM,
``staves inspect`` — on real builds in the test builder."""

import json
import subprocess
from pathlib import Path

import pytest
import requests

from tests.builder_fixtures import Build, Builder, builder, test_images
from tests.registry_fixtures import Registry, registry_factory, test_ca

pytestmark = [pytest.mark.builder, pytest.mark.podman]
__all__ = ["builder", "registry_factory", "test_ca", "test_images"]  # fixtures used by name

HELLO = """
name = "localhost/staves-test/layered-hello"
packages = ["app-misc/hello"]
command = ["/usr/bin/hello"]
layers = 8
"""
LIBRARY_ONLY = """
name = "localhost/staves-test/layered-lib"
packages = ["dev-libs/libgreet", "app-misc/envprobe"]
command = ["/usr/bin/envprobe"]
layers = 8
"""


def manifest(build: Build) -> dict:
    index = json.loads((build.layout / "index.json").read_text())
    image = next(m for m in index["manifests"] if "artifactType" not in m)
    return json.loads((build.layout / "blobs/sha256" / image["digest"][7:]).read_text())


def layers_by_package(build: Build) -> dict[str, str]:
    return {
        layer.get("annotations", {}).get("io.staves.packages", ""): layer["digest"]
        for layer in manifest(build)["layers"]
    }


@pytest.fixture(scope="module")
def layered(builder: Builder) -> Build:
    """HELLO, built once for the tests that only read it."""
    return builder.build(HELLO)


def test_one_layer_per_package_and_podman_runs_it(layered: Build) -> None:
    build = layered
    by_package = layers_by_package(build)
    assert {"app-misc/hello-1.0", "dev-libs/libgreet-1.0", "sys-libs/glibc-2.36-r1"} <= set(
        by_package
    )
    assert not any("gentool" in name for name in by_package)
    assert build.run() == "Hello World!\n"
    proc = subprocess.run(
        ["skopeo", "inspect", f"oci:{build.layout}:t"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)["Layers"]) == len(manifest(build)["layers"])


def test_images_from_the_same_binpkgs_share_the_library_layer(
    builder: Builder, layered: Build, registry_factory
) -> None:
    first = layered
    second = builder.build(LIBRARY_ONLY)
    shared = layers_by_package(first)["dev-libs/libgreet-1.0"]
    assert layers_by_package(second)["dev-libs/libgreet-1.0"] == shared
    assert manifest(first)["config"]["digest"] != manifest(second)["config"]["digest"]

    registry: Registry = registry_factory()
    repo = f"{registry.host}/staves-test/shared"
    subprocess.run(
        [
            "skopeo",
            "copy",
            "-q",
            "--dest-tls-verify=false",
            f"oci:{first.layout}:t",
            f"docker://{repo}:first",
        ],
        check=True,
    )
    # The second image's library layer is in the registry before it is pushed: a push
    # of the second image has no blob to upload for it.
    head = requests.head(f"http://{registry.host}/v2/staves-test/shared/blobs/{shared}", timeout=10)
    assert head.status_code == 200


def test_sbom_lists_every_package_with_use_flags(builder: Builder, tmp_path: Path) -> None:
    from spdx_tools.spdx.parser.parse_anything import parse_file
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    sbom = tmp_path / "sbom.spdx.json"
    build = builder.build(HELLO + "['app-misc/hello']\nuse = ['shout']\n", "--sbom", str(sbom))
    assert validate_full_spdx_document(parse_file(str(sbom)), "SPDX-2.3") == []
    doc = json.loads(sbom.read_text())
    purls = {
        ref["referenceLocator"].split("?")[0]: package
        for package in doc["packages"]
        for ref in package.get("externalRefs", [])
        if ref["referenceLocator"].startswith("pkg:ebuild/")
    }
    assert {
        "pkg:ebuild/app-misc/hello@1.0",
        "pkg:ebuild/dev-libs/libgreet@1.0",
        "pkg:ebuild/sys-libs/glibc@2.36-r1",
    } <= set(purls)
    assert "shout" in json.dumps(purls["pkg:ebuild/app-misc/hello@1.0"])
    # The same document is attached to the image in the layout's artifacts layout.
    index = json.loads((build.layout / "artifacts" / "index.json").read_text())
    attached = [m for m in index["manifests"] if m.get("artifactType") == "application/spdx+json"]
    assert len(attached) == 1


def test_inspect_shows_packages_and_layers(layered: Build) -> None:
    build = layered
    proc = subprocess.run(
        ["staves", "inspect", "--format", "json", f"oci:{build.layout}:t"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert "app-misc/hello" in json.dumps(report)
    text = subprocess.run(
        ["staves", "inspect", f"oci:{build.layout}:t"], capture_output=True, text=True, check=True
    ).stdout
    assert "dev-libs/libgreet" in text and "LAYER" in text


def test_vdb_none_drops_the_package_database(builder: Builder, layered: Build) -> None:
    trimmed = layered
    assert "var/db/pkg/app-misc/hello-1.0/CONTENTS" in trimmed.files()
    assert "var/db/pkg/app-misc/hello-1.0/environment.bz2" not in trimmed.files()
    dropped = builder.build(HELLO + 'vdb = "none"\n')
    assert not any(f.startswith("var/db/pkg/") for f in dropped.files())
    assert dropped.run() == "Hello World!\n"
