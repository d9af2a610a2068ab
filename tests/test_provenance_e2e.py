"""One signed build against the test builder and the loopback registry, and all that it
attaches: the cosign signature, the SLSA provenance (as cosign's ``.att`` and as an OCI 1.1
referrer) and what that provenance says the image was made from; the SBOMs (SPDX and
CycloneDX) and what an independent reader, syft, finds in every destination written.

The envelope is checked with securesystemslib (the DSSE reference implementation), the
statement with the in-toto attestation bindings (the SLSA v1 predicate parsed strictly into
its protobuf), the signature with openssl; the facts in it against the test bed itself: the
images' digests as podman reports them, the repositories' revisions (git's HEAD, the
snapshot's timestamp.commit), the distfile's Manifest line.
"""

import base64
import hashlib
import json
import os
import posixpath
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from google.protobuf import json_format
from in_toto_attestation.predicates.provenance.v1 import provenance_pb2
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.statement import Statement
from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import VerificationError
from securesystemslib.signer import SSlibKey

from staves import __version__
from tests.access_fixtures import file_server
from tests.builder_fixtures import (
    BUILDER,
    PORTAGE,
    Build,
    Builder,
    builder,
    overlay_git_server,
    podman,
    test_images,
)
from tests.conftest import PROJECT, require_tools
from tests.cosign_check import (
    curl,
    curl_digest,
    fetch_tagged,
    generate_keys,
    openssl_public_key,
    openssl_verifies,
    read_tagged,
    signature_tag,
)
from tests.registry_fixtures import Registry, start_registry

pytestmark = [pytest.mark.builder, pytest.mark.podman, pytest.mark.registry]
__all__ = ["builder", "test_images"]  # fixtures used by name

PASSWORD = "provenance"
DISTFILE = "fetched-1.0.tar.gz"
SLSA = "https://slsa.dev/provenance/v1"


@dataclass(frozen=True)
class Attested:
    build: Build
    registry: Registry
    digest: str
    public: Path
    overlay_head: str
    work: Path
    full: Build  # the same image with vdb = "full"

    def envelope(self) -> dict[str, Any]:
        found = fetch_tagged(self.registry.host, "attested", signature_tag(self.digest, "att"))
        return dict(json.loads(found.payload))

    def statement(self) -> dict[str, Any]:
        return dict(json.loads(base64.b64decode(self.envelope()["payload"])))

    def dependencies(self) -> dict[str, dict[str, Any]]:
        definition = self.statement()["predicate"]["buildDefinition"]
        return {dep["name"]: dep for dep in definition["resolvedDependencies"]}


@pytest.fixture(scope="module")
def attested(builder: Builder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Attested]:
    """``staves build --sign-key`` of a package built from a distfile and one from a git
    repository, to the registry and an OCI layout."""
    require_tools("curl", "openssl", "git")
    work = tmp_path_factory.mktemp("attested")
    private, public = generate_keys(work, PASSWORD)
    registry = start_registry(work / "registry")
    try:
        with (
            overlay_git_server(work / "git") as overlay,
            file_server(PROJECT / "tests" / "testbed") as port,
        ):
            spec = (
                'name = "attested"\nversion = "1"\n'
                'packages = ["app-misc/fetched", "app-misc/overlay-hello"]\n'
                f'[env]\nGENTOO_MIRRORS = "http://127.0.0.1:{port}"\n'
                f'[[repositories]]\nname = "staves-overlay"\ntype = "git"\nuri = "{overlay}"\n'
            )
            build = builder.build(
                spec,
                "--network", "host", "--sign-key", str(private),
                "-o", f"docker://{registry.host}/attested:1",
                "-o", f"oci-archive:{work / 'image.oci.tar'}",
                "-o", f"docker-archive:{work / 'image.docker.tar'}",
                "--sbom", str(work / "sbom.json"),
                "--sbom-format", "spdx", "--sbom-format", "cyclonedx",
                env={**os.environ, "COSIGN_PASSWORD": PASSWORD},
            )  # fmt: skip
            # The same packages, their binary packages reused, with the whole database.
            full_spec = spec.replace('version = "1"', 'version = "1"\nvdb = "full"')
            full = builder.build(full_spec, "--network", "host")
        head = subprocess.run(
            ["git", "-C", str(work / "git" / "overlay.git"), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        yield Attested(build, registry, build.proc.stdout.strip(), public, head, work, full)
    finally:
        registry.stop()


def test_the_pushed_image_is_signed_and_openssl_verifies_it(attested: Attested) -> None:
    host, digest = attested.registry.host, attested.digest
    assert curl_digest(f"http://{host}/v2/attested/manifests/1") == digest
    signature = fetch_tagged(host, "attested", signature_tag(digest))
    assert signature.document()["critical"]["image"]["docker-manifest-digest"] == digest
    work = attested.work / "verify"
    assert openssl_verifies(attested.public, signature.signature, signature.payload, work)
    stranger = openssl_public_key(attested.work / "stranger")
    assert not openssl_verifies(stranger, signature.signature, signature.payload, work)
    # The layout has a signature of its own: its payload names the image, not a registry.
    stored = read_tagged(attested.build.layout, signature_tag(digest))
    assert stored.document()["critical"]["identity"]["docker-reference"] == "attested"
    assert openssl_verifies(attested.public, stored.signature, stored.payload, work)


def sslib_key(public: Path) -> SSlibKey:
    found = SSlibKey.from_crypto(serialization.load_pem_public_key(public.read_bytes()))  # type: ignore[arg-type]
    return SSlibKey("", found.keytype, found.scheme, found.keyval)  # cosign's empty key id


def test_the_attestation_is_a_dsse_envelope_signed_with_the_key(attested: Attested) -> None:
    found = fetch_tagged(attested.registry.host, "attested", signature_tag(attested.digest, "att"))
    assert found.layer["mediaType"] == "application/vnd.dsse.envelope.v1+json"
    assert found.layer["annotations"]["predicateType"] == SLSA
    envelope = Envelope.from_dict(json.loads(found.payload))
    assert envelope.payload_type == "application/vnd.in-toto+json"
    envelope.verify([sslib_key(attested.public)], 1)
    stranger = openssl_public_key(attested.work / "stranger-dsse")
    with pytest.raises(VerificationError):
        Envelope.from_dict(json.loads(found.payload)).verify([sslib_key(stranger)], 1)


def test_the_statement_is_slsa_v1_provenance_of_the_image(attested: Attested) -> None:
    statement = attested.statement()
    parsed = Statement.copy_from_pb(json_format.ParseDict(statement, statement_pb2.Statement()))
    parsed.validate()
    assert statement["predicateType"] == SLSA
    (subject,) = statement["subject"]
    assert subject == {"name": "attested:1", "digest": {"sha256": attested.digest[7:]}}
    # Strict parsing: every field of the predicate is one SLSA v1 defines.
    predicate = json_format.ParseDict(statement["predicate"], provenance_pb2.Provenance())
    assert predicate.run_details.builder.version["staves"] == __version__
    external = statement["predicate"]["buildDefinition"]["externalParameters"]
    assert external["packages"] == ["app-misc/fetched", "app-misc/overlay-hello"]


def image_digest(reference: str) -> str:
    return podman("image", "inspect", "--format", "{{.Digest}}", reference).stdout.strip()


def test_the_provenance_names_what_the_image_was_made_from(attested: Attested) -> None:
    deps = attested.dependencies()
    assert deps["builder"]["digest"] == {"sha256": image_digest(BUILDER)[7:]}
    assert deps["snapshot"]["digest"] == {"sha256": image_digest(PORTAGE)[7:]}
    snapshot_commit = (PROJECT / "tests/testbed/repo/metadata/timestamp.commit").read_text()
    assert deps["repository:gentoo"]["digest"] == {"gitCommit": snapshot_commit.split()[0]}
    assert deps["repository:staves-overlay"]["digest"] == {"gitCommit": attested.overlay_head}
    manifest = (PROJECT / "tests/testbed/repo/app-misc/fetched/Manifest").read_text().split()
    assert deps[DISTFILE]["digest"] == {"blake2b": manifest[4], "sha512": manifest[6]}
    assert deps[DISTFILE]["annotations"] == {
        "size": int(manifest[2]),
        "packages": ["app-misc/fetched-1.0"],
    }
    tarball = (PROJECT / "tests/testbed/distfiles" / DISTFILE).read_bytes()
    assert hashlib.blake2b(tarball).hexdigest() == manifest[4]
    config = deps["portage-configuration"]
    content = base64.b64decode(config["content"])
    assert config["digest"] == {"sha256": hashlib.sha256(content).hexdigest()}
    assert "GENTOO_MIRRORS" in json.loads(content)["append"]["/etc/portage/make.conf"]


def test_portage_recorded_each_packages_repository_revision(attested: Attested) -> None:
    internal = attested.statement()["predicate"]["buildDefinition"]["internalParameters"]
    merged = {entry["package"]: entry for entry in internal["merged"]}
    snapshot_commit = (PROJECT / "tests/testbed/repo/metadata/timestamp.commit").read_text()
    assert merged["app-misc/fetched-1.0"]["revisions"] == {"gentoo": snapshot_commit.split()[0]}
    overlay = merged["app-misc/overlay-hello-1.0"]
    assert overlay["repository"] == "staves-overlay"
    assert overlay["revisions"]["staves-overlay"] == attested.overlay_head


def test_the_provenance_is_a_referrer_and_inspect_shows_it(attested: Attested) -> None:
    host = attested.registry.host
    listed = json.loads(
        curl(
            f"http://{host}/v2/attested/manifests/{signature_tag(attested.digest, '')[:-1]}",
            "Accept: application/vnd.oci.image.index.v1+json",
        )
    )
    kinds = {m.get("artifactType") for m in listed["manifests"]}
    assert "application/vnd.dsse.envelope.v1+json" in kinds
    shown = subprocess.run(
        ["staves", "inspect", f"docker://{host}/attested:1"], capture_output=True, text=True
    )
    assert shown.returncode == 0, shown.stderr
    assert "provenance (SLSA v1, signed DSSE envelope)" in shown.stdout
    assert f"repository staves-overlay at {attested.overlay_head}" in shown.stdout
    layout = subprocess.run(
        ["staves", "inspect", f"oci:{attested.build.layout}:t", "--format", "json"],
        capture_output=True,
        text=True,
    )
    assert layout.returncode == 0, layout.stderr
    provenance = json.loads(layout.stdout)["provenance"]
    assert provenance["signed"] is True
    assert provenance["statement"]["subject"][0]["digest"]["sha256"] == attested.digest[7:]


# --- The SBOMs, and syft (an independent reader of Portage's database) on each destination.

SKELETON = {  # what baselayout's pkg_preinst/pkg_postinst lay out outside any CONTENTS
    "bin", "lib", "lib64", "sbin", "var/lock", "var/run",
    "etc/passwd", "etc/group", "etc/shadow", "etc/os-release",
}  # fmt: skip
GENERATED = {  # what env-update writes from the packages' /etc/env.d, caches included
    "etc/ld.so.cache", "etc/ld.so.conf", "etc/profile.env", "etc/csh.env",
    "etc/environment.d/10-gentoo-env.conf",
}  # fmt: skip


def syft_packages(source: str) -> set[tuple[str, str]]:
    """The Gentoo packages syft finds in ``source``, as (CATEGORY/PN, PVR)."""
    syft = Path(sys.executable).with_name("syft")
    env = {
        **os.environ,
        "SYFT_CHECK_FOR_APP_UPDATE": "false",  # it would phone home
        "SYFT_REGISTRY_INSECURE_USE_HTTP": "true",  # the loopback registry is plain HTTP
    }
    proc = subprocess.run(
        [str(syft), "scan", source, "-o", "json", "-q"], capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    assert found["distro"]["id"] == "gentoo"
    return {(a["name"], a["version"]) for a in found["artifacts"] if a["type"] == "portage"}


def sbom_packages(spdx: dict[str, Any]) -> set[tuple[str, str]]:
    """The Gentoo packages of an SPDX document, from their purls."""
    out = set()
    for package in spdx["packages"]:
        for ref in package.get("externalRefs", []):
            if ref["referenceLocator"].startswith("pkg:ebuild/"):
                name = ref["referenceLocator"].removeprefix("pkg:ebuild/").split("?")[0]
                cp, _, pvr = name.rpartition("@")
                out.add((cp, pvr))
    return out


def spdx_of(attested: Attested) -> dict[str, Any]:
    return dict(json.loads((attested.work / "sbom.spdx.json").read_text()))


def test_syft_finds_in_every_destination_what_the_sbom_lists(attested: Attested) -> None:
    listed = sbom_packages(spdx_of(attested))
    assert {cp for cp, _ in listed} >= {"app-misc/fetched", "sys-devel/gcc", "sys-libs/glibc"}
    sources = [
        f"oci-dir:{attested.build.layout}",
        f"oci-archive:{attested.work / 'image.oci.tar'}",
        f"docker-archive:{attested.work / 'image.docker.tar'}",
        f"registry:{attested.registry.host}/attested:1",
    ]
    for source in sources:
        assert syft_packages(source) == listed, source


def test_syft_reads_the_full_database_alike(attested: Attested) -> None:
    shown = subprocess.run(
        ["staves", "inspect", "--format", "spdx", f"oci:{attested.full.layout}:t"],
        capture_output=True,
        text=True,
    )
    assert shown.returncode == 0, shown.stderr
    listed = sbom_packages(json.loads(shown.stdout))
    assert listed == sbom_packages(spdx_of(attested))
    assert syft_packages(f"oci-dir:{attested.full.layout}") == listed


def test_the_sboms_validate_and_agree(attested: Attested) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator
    from spdx_tools.spdx.parser.parse_anything import parse_file
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    spdx_path = attested.work / "sbom.spdx.json"
    assert validate_full_spdx_document(parse_file(str(spdx_path)), "SPDX-2.3") == []
    text = (attested.work / "sbom.cdx.json").read_text()
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    bom = json.loads(text)
    assert bom["metadata"]["component"]["version"] == attested.digest
    purls = {c["purl"].split("?")[0].removeprefix("pkg:ebuild/") for c in bom["components"]}
    assert {tuple(p.rsplit("@", 1)) for p in purls} == sbom_packages(spdx_of(attested))


def test_the_sboms_name_distfiles_and_revisions(attested: Attested) -> None:
    manifest = (PROJECT / "tests/testbed/repo/app-misc/fetched/Manifest").read_text().split()
    bom = json.loads((attested.work / "sbom.cdx.json").read_text())
    by_name = {c["name"]: c for c in bom["components"]}
    (source,) = by_name["fetched"]["externalReferences"]
    assert source["type"] == "source-distribution"
    assert source["comment"] == DISTFILE
    assert {h["alg"]: h["content"] for h in source["hashes"]} == {
        "BLAKE2b-512": manifest[4],
        "SHA-512": manifest[6],
    }
    properties = {p["name"]: p["value"] for p in by_name["overlay-hello"]["properties"]}
    assert properties["gentoo:repository-revision"] == attested.overlay_head
    spdx = spdx_of(attested)
    (distfile,) = [p for p in spdx["packages"] if p["name"] == DISTFILE]
    assert {c["algorithm"]: c["checksumValue"] for c in distfile["checksums"]} == {
        "BLAKE2b-512": manifest[4],
        "SHA512": manifest[6],
    }
    snapshot_commit = (PROJECT / "tests/testbed/repo/metadata/timestamp.commit").read_text()
    (fetched,) = [p for p in spdx["packages"] if p["name"] == "fetched"]
    notes = {line for a in fetched["annotations"] for line in a["comment"].splitlines()}
    assert f"repository-revision: {snapshot_commit.split()[0]}" in notes


def builder_gcc() -> str:
    listed = podman("run", "--rm", BUILDER, "ls", "/var/db/pkg/sys-devel")
    (gcc,) = [name for name in listed.stdout.split() if name.startswith("gcc-")]
    return gcc.removeprefix("gcc-")


def test_the_compiler_runtime_is_the_builders_gcc_for_portage_too(attested: Attested) -> None:
    version = builder_gcc()
    spdx = spdx_of(attested)
    (gcc,) = [p for p in spdx["packages"] if p["name"] == "gcc"]
    assert gcc["versionInfo"] == version
    assert "origin: builder" in {n for a in gcc["annotations"] for n in a["comment"].splitlines()}
    names = {f["SPDXID"]: f["fileName"] for f in spdx["files"]}
    owned = {
        names[r["relatedSpdxElement"]]
        for r in spdx["relationships"]
        if r["spdxElementId"] == gcc["SPDXID"] and r["relationshipType"] == "CONTAINS"
    }
    assert "./usr/lib64/libgcc_s.so.1" in owned
    # Portage itself (the builder's portageq) names the owner in the image's database.
    root = attested.work / "full-root"
    root.mkdir(exist_ok=True)
    subprocess.run(["tar", "-xzf", str(attested.full.layer_blob()), "-C", str(root)], check=True)
    owners = podman(
        "run", "--rm", "-v", f"{root}:/image:ro", BUILDER,
        "portageq", "owners", "/image/", "/image/usr/lib64/libgcc_s.so.1",
    )  # fmt: skip
    assert owners.returncode == 0, owners.stderr
    assert owners.stdout.split()[0] == f"sys-devel/gcc-{version}"


def contents_paths(members: dict[str, Any], build: Build) -> set[str]:
    """Every obj and sym path the image's package database lists (no leading slash)."""
    out = set()
    for name in members:
        if name.startswith("var/db/pkg/") and name.endswith("/CONTENTS"):
            for line in build.read(name).decode().splitlines():
                kind, _, rest = line.partition(" ")
                if kind == "obj":
                    out.add(rest.rsplit(" ", 2)[0].lstrip("/"))
                elif kind == "sym":
                    out.add(rest.rsplit(" ", 1)[0].partition(" -> ")[0].lstrip("/"))
    return out


def test_every_file_belongs_to_a_package_but_the_skeleton(attested: Attested) -> None:
    build = attested.full
    members = build.members()
    links = {
        f"{n}/": f"{m.linkname}/" for n, m in members.items() if n.count("/") == 0 and m.issym()
    }
    listed = set()
    for path in contents_paths(members, build):
        for link, target in links.items():  # /lib64/… lies in usr/lib64/…
            if path.startswith(link):
                path = posixpath.normpath(target + path.removeprefix(link))
        listed.add(path)
    files = {n for n, m in members.items() if (m.isreg() or m.issym())}
    outside = {n for n in files - listed if not n.startswith("var/db/pkg/")}
    assert outside <= SKELETON | GENERATED, sorted(outside)
    assert "etc/ld.so.cache" in outside
    # The SBOM's files are the regular files the packages hold.
    spdx_files = {f["fileName"].removeprefix("./") for f in spdx_of(attested)["files"]}
    regular = {n for n, m in members.items() if m.isreg() and not n.startswith("var/db/pkg/")}
    assert spdx_files == regular - SKELETON - GENERATED


def test_inspect_writes_the_sbom_of_any_destination(attested: Attested) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    attached = subprocess.run(
        [
            "staves",
            "inspect",
            "--format",
            "cyclonedx",
            f"oci-archive:{attested.work / 'image.oci.tar'}",
        ],
        capture_output=True,
    )
    assert attached.returncode == 0, attached.stderr
    assert attached.stdout.strip() == (attested.work / "sbom.cdx.json").read_bytes().strip()
    made = subprocess.run(
        [
            "staves",
            "inspect",
            "--format",
            "cyclonedx",
            f"docker-archive:{attested.work / 'image.docker.tar'}",
        ],
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(made.stdout) is None
    ours = json.loads((attested.work / "sbom.cdx.json").read_text())
    theirs = json.loads(made.stdout)
    assert {c["purl"] for c in theirs["components"]} == {c["purl"] for c in ours["components"]}
