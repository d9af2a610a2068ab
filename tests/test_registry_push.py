"""Pushing to a real registry (CNCF distribution) on loopback, checked with skopeo/podman."""

import base64
import json
import logging
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from oci.image import Image
from oci.registry import (
    AuthenticationError,
    BlobLocations,
    Credentials,
    Progress,
    RegistryError,
    RegistryOptions,
    parse_reference,
    push_image,
)
from tests.registry_fixtures import (
    PASSWORD,
    USER,
    CertAuthority,
    FaultProxy,
    Registry,
    TokenServer,
    fault_proxy,
    make_image,
    podman,
    registry_factory,
    require,
    secure_registry,
    small_image,
    test_ca,
    token_server,
)

__all__ = [  # fixtures used by name
    "fault_proxy",
    "podman",
    "registry_factory",
    "secure_registry",
    "small_image",
    "test_ca",
    "token_server",
]

pytestmark = pytest.mark.registry

FAST = {"backoff": 0.01, "max_backoff": 0.05}


def creds_options(ca: CertAuthority | None = None, **kwargs: object) -> RegistryOptions:
    return RegistryOptions(
        creds=Credentials(USER, PASSWORD),
        cert_dir=ca.cert_dir if ca else None,
        **FAST,  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )


def skopeo(*args: str) -> subprocess.CompletedProcess[str]:
    require("skopeo")
    proc = subprocess.run(["skopeo", *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc


def skopeo_digest(ref: str, *flags: str) -> str:
    return json.loads(skopeo("inspect", *flags, f"docker://{ref}").stdout)["Digest"]


def secure_flags(ca: CertAuthority) -> tuple[str, ...]:
    return ("--cert-dir", str(ca.cert_dir), "--creds", f"{USER}:{PASSWORD}")


@pytest.mark.tools
def test_push_with_tls_and_htpasswd_is_what_skopeo_sees(
    secure_registry: Registry, test_ca: CertAuthority, small_image: Image
) -> None:
    refs = [parse_reference(f"docker://{secure_registry.host}/app:{t}") for t in ("1.2", "latest")]
    result = push_image(small_image, refs, creds_options(test_ca))
    assert result.digest == small_image.manifest.digest
    assert result.uploaded_blobs == 3
    for tag in ("1.2", "latest"):
        seen = skopeo_digest(f"{secure_registry.host}/app:{tag}", *secure_flags(test_ca))
        assert seen == small_image.manifest.digest


@pytest.mark.tools
@pytest.mark.podman
def test_podman_pulls_and_runs_the_pushed_image(
    secure_registry: Registry,
    test_ca: CertAuthority,
    tmp_path: Path,
    podman: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    image = make_image(tmp_path / "img", message="pushed by staves")
    ref = f"{secure_registry.host}/tools/app:1.2"
    push_image(image, [parse_reference(f"docker://{ref}")], creds_options(test_ca))
    pulled = podman("pull", *secure_flags(test_ca), ref)
    assert pulled.returncode == 0, pulled.stderr
    ran = podman("run", "--rm", "--net=none", ref)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "pushed by staves"


def test_second_push_uploads_no_blob(
    registry_factory: Callable[..., Registry],
    fault_proxy: Callable[..., FaultProxy],
    small_image: Image,
) -> None:
    registry = registry_factory()
    proxy = fault_proxy(int(registry.host.rsplit(":", 1)[1]), lambda n, head: None)
    ref = parse_reference(f"docker://{proxy.host}/app:1")
    events: list[Progress] = []
    options = RegistryOptions(**FAST)  # type: ignore[arg-type]
    first = push_image(small_image, [ref], options, progress=events.append)
    assert first.uploaded_bytes == sum(b.size for b in small_image.blobs())
    finals = {e.digest: e for e in events if e.state == "uploaded"}
    assert {d: e.done for d, e in finals.items()} == {b.digest: b.size for b in small_image.blobs()}
    assert any(e.state == "uploading" and 0 < e.done < e.size for e in events)
    sent_before = len(proxy.requests)
    second = push_image(small_image, [ref], RegistryOptions(**FAST))  # type: ignore[arg-type]
    assert (second.uploaded_bytes, second.present_blobs) == (0, 3)
    again = proxy.requests[sent_before:]
    assert not [r for r in again if "/blobs/uploads" in r], again
    assert sum(r.startswith("HEAD ") for r in again) == 3


def test_several_repositories_mount_instead_of_uploading(
    registry_factory: Callable[..., Registry],
    fault_proxy: Callable[..., FaultProxy],
    small_image: Image,
    tmp_path: Path,
) -> None:
    registry = registry_factory()
    proxy = fault_proxy(int(registry.host.rsplit(":", 1)[1]), lambda n, head: None)
    refs = [parse_reference(f"docker://{proxy.host}/{repo}:1") for repo in ("one", "two/x")]
    cache = tmp_path / "locations.json"
    result = push_image(small_image, refs, locations=BlobLocations(cache))
    assert (result.uploaded_blobs, result.mounted_blobs) == (3, 3)
    assert sum("mount=" in r for r in proxy.requests) == 3
    # A later run remembers where the blobs are.
    third = parse_reference(f"docker://{proxy.host}/three:1")
    later = push_image(small_image, [third], locations=BlobLocations(cache))
    assert (later.uploaded_blobs, later.mounted_blobs) == (0, 3)


@pytest.mark.tools
def test_chunked_upload_over_plain_http_on_loopback(
    registry_factory: Callable[..., Registry], tmp_path: Path
) -> None:
    registry = registry_factory()
    image = make_image(tmp_path / "img", extra=bytes(range(256)) * 12000)
    ref = parse_reference(f"docker://{registry.host}/chunked:1")
    options = RegistryOptions(chunk_size=256 << 10, **FAST)  # type: ignore[arg-type]
    push_image(image, [ref], options)
    seen = skopeo_digest(f"{registry.host}/chunked:1", "--tls-verify=false")
    assert seen == image.manifest.digest


_FAULTS = {2: "503", 3: "reset", 5: "cut", 8: "503", 9: "cut", 12: "reset", 15: "cut", 17: "503"}


def _flaky(n: int, head: bytes) -> str | None:
    """Some early requests fail: 503s, resets and answers lost after the registry acted."""
    return _FAULTS.get(n)


@pytest.mark.tools
@pytest.mark.parametrize("chunk_size", [None, 512 << 10])
def test_push_survives_dropped_and_503_requests(
    registry_factory: Callable[..., Registry],
    fault_proxy: Callable[..., FaultProxy],
    small_image: Image,
    tmp_path: Path,
    chunk_size: int | None,
) -> None:
    registry = registry_factory()
    proxy = fault_proxy(int(registry.host.rsplit(":", 1)[1]), _flaky)
    ref = parse_reference(f"docker://{proxy.host}/flaky:1")
    options = RegistryOptions(retries=8, chunk_size=chunk_size, **FAST)  # type: ignore[arg-type]
    result = push_image(small_image, [ref], options)
    assert result.digest == small_image.manifest.digest
    kinds = {kind for _, kind, _ in proxy.faults}
    assert kinds == {"503", "reset", "cut"}, proxy.faults
    # skopeo checks every blob's digest while copying it out.
    out = tmp_path / "copied"
    skopeo("copy", "--src-tls-verify=false", f"docker://{registry.host}/flaky:1", f"oci:{out}:x")
    index = json.loads((out / "index.json").read_text())
    assert index["manifests"][0]["digest"] == small_image.manifest.digest


def test_failure_after_retries_is_one_line_naming_registry_and_step(
    registry_factory: Callable[..., Registry],
    fault_proxy: Callable[..., FaultProxy],
    small_image: Image,
) -> None:
    registry = registry_factory()
    blobs_fail = lambda n, head: "503" if b"/blobs/uploads" in head else None  # noqa: E731
    proxy = fault_proxy(int(registry.host.rsplit(":", 1)[1]), blobs_fail)
    ref = parse_reference(f"docker://{proxy.host}/down:1")
    with pytest.raises(RegistryError) as caught:
        push_image(small_image, [ref], RegistryOptions(retries=2, **FAST))  # type: ignore[arg-type]
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("pushing blob sha256:")
    assert f"to {proxy.host}/down: 503" in message
    assert "after 3 attempts" in message
    # Nothing was tagged: the manifest goes last.
    assert not [r for r in proxy.requests if "/manifests/" in r]


def test_wrong_password_is_an_auth_error_without_the_password(
    secure_registry: Registry,
    test_ca: CertAuthority,
    small_image: Image,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    ref = parse_reference(f"docker://{secure_registry.host}/app:1")
    options = RegistryOptions(creds=Credentials(USER, "wrong-Secret-42"), cert_dir=test_ca.cert_dir)
    with pytest.raises(AuthenticationError) as caught:
        push_image(small_image, [ref], options)
    assert "401" in str(caught.value)
    assert secure_registry.host in str(caught.value)
    for text in (str(caught.value), caplog.text, repr(options)):
        assert "wrong-Secret-42" not in text
        assert base64.b64encode(f"{USER}:wrong-Secret-42".encode()).decode() not in text


def test_tls_without_the_test_ca_is_refused(secure_registry: Registry, small_image: Image) -> None:
    ref = parse_reference(f"docker://{secure_registry.host}/app:1")
    refused = r"contacting the registry at 127\.0\.0\.1.*CERTIFICATE"
    with pytest.raises(RegistryError, match=refused):
        push_image(small_image, [ref], creds_options(retries=0))


def test_tls_verify_false_accepts_an_unknown_ca(
    secure_registry: Registry, small_image: Image
) -> None:
    ref = parse_reference(f"docker://{secure_registry.host}/app:1")
    result = push_image(small_image, [ref], creds_options(tls_verify=False))
    assert result.uploaded_blobs == 3


def test_credentials_from_auth_file(
    secure_registry: Registry, test_ca: CertAuthority, small_image: Image, tmp_path: Path
) -> None:
    auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    authfile = tmp_path / "auth.json"
    authfile.write_text(json.dumps({"auths": {secure_registry.host: {"auth": auth}}}))
    ref = parse_reference(f"docker://{secure_registry.host}/app:1")
    env = {"REGISTRY_AUTH_FILE": str(authfile), "HOME": str(tmp_path / "home")}
    options = RegistryOptions(env=env, cert_dir=test_ca.cert_dir, **FAST)  # type: ignore[arg-type]
    assert push_image(small_image, [ref], options).uploaded_blobs == 3


# -- token auth -------------------------------------------------------------------------


@pytest.fixture
def token_registry(
    registry_factory: Callable[..., Registry], token_server: TokenServer, test_ca: CertAuthority
) -> Registry:
    return registry_factory(ca=test_ca, tokens=token_server)


@pytest.mark.tools
def test_bearer_token_push_reuses_its_token(
    token_registry: Registry, token_server: TokenServer, test_ca: CertAuthority, small_image: Image
) -> None:
    refs = [parse_reference(f"docker://{token_registry.host}/team/app:{t}") for t in "ab"]
    push_image(small_image, refs, creds_options(test_ca))
    assert token_server.issued == [["repository:team/app:pull,push"]]
    seen = skopeo_digest(f"{token_registry.host}/team/app:a", *secure_flags(test_ca))
    assert seen == small_image.manifest.digest


def test_bearer_mount_asks_for_pull_on_the_source(
    token_registry: Registry, token_server: TokenServer, test_ca: CertAuthority, small_image: Image
) -> None:
    refs = [parse_reference(f"docker://{token_registry.host}/{r}:1") for r in ("src", "dst")]
    result = push_image(small_image, refs, creds_options(test_ca))
    assert result.mounted_blobs == 3
    assert ["repository:dst:pull,push", "repository:src:pull"] in token_server.issued


def test_anonymous_token_where_the_registry_allows_it(
    token_registry: Registry, test_ca: CertAuthority, small_image: Image
) -> None:
    options = RegistryOptions(cert_dir=test_ca.cert_dir, **FAST)  # type: ignore[arg-type]
    public = parse_reference(f"docker://{token_registry.host}/public/app:1")
    assert push_image(small_image, [public], options).uploaded_blobs == 3
    private = parse_reference(f"docker://{token_registry.host}/private/app:1")
    with pytest.raises(AuthenticationError, match="private/app: 401"):
        push_image(small_image, [private], options)


def test_expired_token_is_refreshed_on_401(
    token_registry: Registry, token_server: TokenServer, test_ca: CertAuthority, small_image: Image
) -> None:
    token_server.expired_first = 1
    ref = parse_reference(f"docker://{token_registry.host}/app:1")
    push_image(small_image, [ref], creds_options(test_ca))
    assert len(token_server.issued) == 2


def test_identity_token_from_auth_file(
    token_registry: Registry,
    token_server: TokenServer,
    test_ca: CertAuthority,
    small_image: Image,
    tmp_path: Path,
) -> None:
    authfile = tmp_path / "auth.json"
    entry = {"identitytoken": token_server.refresh_token}
    authfile.write_text(json.dumps({"auths": {token_registry.host: entry}}))
    ref = parse_reference(f"docker://{token_registry.host}/app:1")
    options = RegistryOptions(authfile=authfile, cert_dir=test_ca.cert_dir, **FAST)  # type: ignore[arg-type]
    assert push_image(small_image, [ref], options).uploaded_blobs == 3
