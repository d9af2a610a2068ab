"""One signed build against the test builder and the loopback registry, and all that it
attaches: the cosign signature, the SLSA provenance (as cosign's ``.att`` and as an OCI 1.1
referrer) and what that provenance says the image was made from.

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
import subprocess
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
                env={**os.environ, "COSIGN_PASSWORD": PASSWORD},
            )  # fmt: skip
        head = subprocess.run(
            ["git", "-C", str(work / "git" / "overlay.git"), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        yield Attested(build, registry, build.proc.stdout.strip(), public, head, work)
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
