"""The registry client's pure parts: references, challenges, credential lookup, errors."""

import base64
import json
import os
from pathlib import Path

import pytest

from oci.errors import InvalidReference
from oci.registry import CredentialError, Credentials, RegistryOptions, parse_reference
from oci.registry.auth import (
    auth_file_paths,
    lookup_keys,
    parse_creds,
    resolve_credentials,
    run_credential_helper,
)
from oci.registry.challenge import parse_challenges, uncovered_scopes
from oci.registry.errors import RegistryError, describe_response
from oci.registry.locations import BlobLocations
from oci.registry.options import cert_dir_for
from oci.registry.tls import is_loopback
from oci.registry.transport import RegistryClient
from staves.destinations.registry import PushProgress
from staves.progress.ledger import BuildLedger
from staves.progress.reporter import Progress as Reporter

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        ("docker://alpine", "docker.io", "library/alpine", "latest", None),
        ("docker://me/app:1.2", "docker.io", "me/app", "1.2", None),
        ("docker://ghcr.io/me/app:1.2", "ghcr.io", "me/app", "1.2", None),
        ("docker://localhost/app", "localhost", "app", "latest", None),
        ("docker://localhost:5000/a/b/c:x", "localhost:5000", "a/b/c", "x", None),
        ("docker://127.0.0.1:5000/app", "127.0.0.1:5000", "app", "latest", None),
        ("docker://index.docker.io/busybox", "docker.io", "library/busybox", "latest", None),
        (f"docker://quay.io/a/b@{DIGEST}", "quay.io", "a/b", None, DIGEST),
        (f"docker://quay.io/a/b:t@{DIGEST}", "quay.io", "a/b", "t", DIGEST),
        ("registry:5000/x", "registry:5000", "x", "latest", None),
    ],
)
def test_references_parse_as_podman_does(
    text: str, registry: str, repository: str, tag: str | None, digest: str | None
) -> None:
    ref = parse_reference(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (
        registry,
        repository,
        tag,
        digest,
    )


def test_docker_hub_api_host() -> None:
    assert parse_reference("docker://alpine").api_host == "registry-1.docker.io"
    assert parse_reference("docker://ghcr.io/a/b").api_host == "ghcr.io"
    assert str(parse_reference("docker://alpine")) == "docker.io/library/alpine:latest"


@pytest.mark.parametrize(
    "text",
    [
        "docker://",
        "docker:///app",
        "docker://app/Upper:1",
        "docker://x:bad tag",
        "docker://a@sha256:1",
    ],
)
def test_bad_references_say_what_is_accepted(text: str) -> None:
    with pytest.raises(InvalidReference, match=r"expected docker://\[HOST"):
        parse_reference(text)


def test_challenges_with_quoted_commas() -> None:
    header = (
        'Bearer realm="https://auth.example/token",service="reg",'
        'scope="repository:a/b:pull,push", Basic realm="x"'
    )
    bearer, basic = parse_challenges(header)
    assert bearer.scheme == "bearer"
    assert bearer.params == {
        "realm": "https://auth.example/token",
        "service": "reg",
        "scope": "repository:a/b:pull,push",
    }
    assert (basic.scheme, basic.realm) == ("basic", "x")
    assert parse_challenges("") == []


def test_scopes_already_granted_are_not_asked_again() -> None:
    have = ["repository:app:pull,push"]
    assert uncovered_scopes("repository:app:pull", have) == []
    assert uncovered_scopes("repository:other:pull", have) == ["repository:other:pull"]


def test_auth_file_order_follows_podman(tmp_path: Path) -> None:
    env = {"HOME": "/home/u", "XDG_RUNTIME_DIR": "/run/user/1"}
    assert auth_file_paths(None, env) == [
        Path("/run/user/1/containers/auth.json"),
        Path("/home/u/.config/containers/auth.json"),
        Path("/home/u/.docker/config.json"),
    ]
    with_env = {**env, "REGISTRY_AUTH_FILE": "/etc/a.json"}
    assert auth_file_paths(None, with_env)[0] == Path("/etc/a.json")
    assert auth_file_paths(Path("/x.json"), with_env)[0] == Path("/x.json")


def _auth(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def test_first_file_with_an_entry_wins_and_namespaces_match(tmp_path: Path) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    first.write_text(json.dumps({"auths": {"other.io": {"auth": _auth("o", "p")}}}))
    second.write_text(
        json.dumps(
            {
                "auths": {
                    "reg.io": {"auth": _auth("host", "p1")},
                    "reg.io/team": {"auth": _auth("team", "p2")},
                    "https://old.io/v1/": {"auth": _auth("legacy", "p3")},
                }
            }
        )
    )
    files = [tmp_path / "missing.json", first, second]

    def find(registry: str, repo: str) -> Credentials | None:
        return resolve_credentials(registry, repo, creds=None, auth_files=files)

    assert find("reg.io", "team/app") == Credentials("team", "p2")
    assert find("reg.io", "solo/app") == Credentials("host", "p1")
    assert find("old.io", "x") == Credentials("legacy", "p3")
    assert find("nowhere.io", "x") is None
    assert lookup_keys("r", "a/b") == ["r/a/b", "r/a", "r"]


def test_creds_flag_beats_files_and_helpers_run_by_name(tmp_path: Path) -> None:
    path = tmp_path / "auth.json"
    path.write_text(
        json.dumps({"credHelpers": {"ecr.io": "ecr"}, "credsStore": "desktop", "auths": {}})
    )
    calls: list[tuple[str, str]] = []

    def helper(name: str, server: str) -> Credentials:
        calls.append((name, server))
        return Credentials("from-" + name, "pw")

    explicit = Credentials("me", "pw")
    assert resolve_credentials("ecr.io", "a", creds=explicit, auth_files=[path]) == explicit

    def find(registry: str) -> Credentials | None:
        return resolve_credentials(registry, "a", creds=None, auth_files=[path], run_helper=helper)

    assert find("ecr.io") == Credentials("from-ecr", "pw")
    assert find("docker.io") == Credentials("from-desktop", "pw")
    assert calls == [("ecr", "ecr.io"), ("desktop", "https://index.docker.io/v1/")]


def test_credential_helper_protocol(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    helper = tmp_path / "docker-credential-fake"
    helper.write_text(
        "#!/bin/sh\nread server\n"
        'case "$server" in\n'
        '  tok.io) echo \'{"ServerURL":"tok.io","Username":"<token>","Secret":"idt"}\' ;;\n'
        '  pw.io) echo \'{"ServerURL":"pw.io","Username":"u","Secret":"p"}\' ;;\n'
        "  *) echo 'credentials not found in native keychain'; exit 1 ;;\n"
        "esac\n"
    )
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    assert run_credential_helper("fake", "pw.io") == Credentials("u", "p")
    assert run_credential_helper("fake", "tok.io") == Credentials(identity_token="idt")
    assert run_credential_helper("fake", "none.io") is None
    with pytest.raises(CredentialError, match="docker-credential-absent is not installed"):
        run_credential_helper("absent", "x")


def test_broken_auth_file_and_missing_authfile_are_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(CredentialError, match=r"bad\.json: not valid JSON"):
        resolve_credentials("r", "a", creds=None, auth_files=[bad])
    missing = tmp_path / "missing.json"
    with pytest.raises(CredentialError, match=r"--authfile .*missing\.json: no such file"):
        resolve_credentials("r", "a", creds=None, auth_files=[missing], required_file=missing)
    bad.write_text(json.dumps({"auths": {"r": {"auth": "!!"}}}))
    with pytest.raises(CredentialError, match="not base64"):
        resolve_credentials("r", "a", creds=None, auth_files=[bad])


def test_secrets_stay_out_of_reprs() -> None:
    creds = parse_creds("user:hunter2-secret")
    assert creds.password == "hunter2-secret"
    options = RegistryOptions(creds=Credentials("u", "hunter2", "tok3n"))
    for text in (repr(creds), str(creds), repr(options), repr(Credentials("u", "p", "tok3n"))):
        assert "hunter2" not in text and "tok3n" not in text
    with pytest.raises(CredentialError):
        parse_creds(":nouser")


def test_error_bodies_become_one_line() -> None:
    body = json.dumps(
        {"errors": [{"code": "BLOB_UNKNOWN", "message": "blob unknown\nto registry"}]}
    ).encode()
    why = describe_response(404, "Not Found", body)
    err = RegistryError("pushing blob " + DIGEST, "r.io/app", why, 404)
    assert (
        str(err) == f"pushing blob {DIGEST} to r.io/app: 404 BLOB_UNKNOWN: blob unknown to registry"
    )
    assert describe_response(503, "Service Unavailable", b"<html>") == "503 Service Unavailable"


def test_plain_http_only_when_insecure_or_loopback() -> None:
    assert is_loopback("localhost:5000") and is_loopback("127.0.0.2") and is_loopback("[::1]:80")
    assert not is_loopback("ghcr.io") and not is_loopback("10.0.0.1:5000")
    schemes = RegistryClient("ghcr.io", RegistryOptions(), None)._schemes()
    assert schemes == ["https"]
    insecure = RegistryOptions(tls_verify=False)
    assert RegistryClient("ghcr.io", insecure, None)._schemes() == ["https", "http"]
    assert RegistryClient("localhost:5000", RegistryOptions(), None)._schemes() == [
        "https",
        "http",
    ]


def test_cert_dir_defaults_to_podman_layout(tmp_path: Path) -> None:
    root = tmp_path / "certs.d"
    (root / "reg.io:5000").mkdir(parents=True)
    options = RegistryOptions(cert_roots=(root,))
    assert cert_dir_for(options, "reg.io:5000") == root / "reg.io:5000"
    assert cert_dir_for(options, "other.io") is None
    explicit = RegistryOptions(cert_dir=tmp_path, cert_roots=(root,))
    assert cert_dir_for(explicit, "reg.io:5000") == tmp_path


def test_blob_locations_persist_and_exclude_the_target(tmp_path: Path) -> None:
    cache = tmp_path / "c.json"
    known = BlobLocations(cache)
    known.record("r.io", "a", DIGEST)
    known.record("r.io", "b", DIGEST)
    known.record("s.io", "c", DIGEST)
    known.save()
    again = BlobLocations(cache)
    assert again.sources("r.io", DIGEST, exclude="b") == ["a"]
    assert again.sources("r.io", DIGEST, exclude="z") == ["b", "a"]
    cache.write_text("garbage")
    assert BlobLocations(cache).sources("r.io", DIGEST, exclude="z") == []


class Recorded:
    """A screen that keeps what it is given."""

    def __init__(self) -> None:
        self.transfers: list[tuple[str, int, int | None]] = []
        self.events: list[str] = []

    def transfer(self, key: str, label: str, done: int, total: int | None) -> None:
        self.transfers.append((label, done, total))

    def event(self, elapsed: float, scope: str | None, text: str) -> None:
        self.events.append(text)


def test_a_push_reports_bytes_sent_of_bytes_to_send_then_what_it_sent() -> None:
    from oci.registry import Progress, PushResult, parse_reference

    screen = Recorded()
    progress = PushProgress(Reporter(screen, BuildLedger()), "pushing to app")  # type: ignore[arg-type]
    progress(Progress(DIGEST, 4 << 20, 0, "checking"))
    progress(Progress("sha256:" + "b" * 64, 1 << 20, 0, "present"))  # not sent: not counted
    progress(Progress(DIGEST, 4 << 20, 2 << 20, "uploading"))
    progress(Progress(DIGEST, 4 << 20, 4 << 20, "uploaded"))
    assert screen.transfers[-1] == ("pushing to app", 4 << 20, 4 << 20)
    assert screen.transfers[2] == ("pushing to app", 2 << 20, 4 << 20)
    result = PushResult("sha256:" + "c" * 64, (parse_reference("r.io/app:1"),), 4 << 20, 1, 1)
    progress.finish(result)
    assert screen.events == [
        "pushed docker://r.io/app:1: 1 blobs uploaded (4.2 MB), 1 already there, 0 mounted"
    ]
