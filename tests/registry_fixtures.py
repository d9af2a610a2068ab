"""A real registry (CNCF distribution) on loopback for push tests: test CA, htpasswd,
a token server, a fault-injecting proxy, a tiny busybox image and tool helpers.

Import the fixtures you use into a test module; everything binds 127.0.0.1 only.
"""

import base64
import contextlib
import datetime as dt
import hashlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from oci.compress import Compression
from oci.descriptor import Platform
from oci.image import Image, ImageConfig, build_image
from oci.layer import Layer, write_layer
from oci.tarball import tar_directory
from tests.loopback import free_port, wait_for_port

REGISTRY_BIN = "docker-registry"
BUSYBOX = Path("/bin/busybox")
USER, PASSWORD = "staves", "s3cret-Pa55"
SERVICE, ISSUER = "staves-test-registry", "staves-test-issuer"


def require(*names: str) -> None:
    missing = [n for n in names if shutil.which(n) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} on PATH (.ci/run installs them)")


# -- certificates ---------------------------------------------------------------------


@dataclass(frozen=True)
class CertAuthority:
    ca_cert: Path
    server_cert: Path
    server_key: Path
    cert_dir: Path  # podman layout: ca.crt only


def _write_pem(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def make_test_ca(directory: Path) -> CertAuthority:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "staves test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    directory.mkdir(parents=True, exist_ok=True)
    cert_dir = directory / "certs.d"
    cert_dir.mkdir()
    ca_pem = ca.public_bytes(pem)
    _write_pem(cert_dir / "ca.crt", ca_pem)
    key_pem = key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return CertAuthority(
        _write_pem(directory / "ca.crt", ca_pem),
        _write_pem(directory / "server.crt", server.public_bytes(pem)),
        _write_pem(directory / "server.key", key_pem),
        cert_dir,
    )


# -- token server ---------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def libtrust_key_id(der_public_key: bytes) -> str:
    """The key id distribution expects in a JWT ``kid``: base32 of a SHA-256, grouped."""
    text = base64.b32encode(hashlib.sha256(der_public_key).digest()[:30]).decode().rstrip("=")
    return ":".join(text[i : i + 4] for i in range(0, len(text), 4))


@dataclass
class TokenServer:
    """Issues ES256 JWTs: full access for USER:PASSWORD or the refresh token, pull+push
    under ``public/`` for anyone, nothing else. Counts the tokens it issues."""

    directory: Path
    lifetime: int = 300
    refresh_token: str = "refresh-" + "x" * 16
    expired_first: int = 0  # hand out this many already-expired tokens first
    issued: list[list[str]] = field(default_factory=list)
    port: int = 0

    def __post_init__(self) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        self._key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ISSUER)])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=2))
            .sign(self._key, hashes.SHA256())
        )
        self.cert_bundle = self.directory / "token-signer.crt"
        self.cert_bundle.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        der = self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self._kid = libtrust_key_id(der)

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def sign(self, subject: str, access: list[dict[str, Any]]) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        now = int(time.time())
        expires = now + self.lifetime
        if self.expired_first > 0:
            self.expired_first -= 1
            expires = now - 120  # beyond the registry's 60 s leeway
        header = {"typ": "JWT", "alg": "ES256", "kid": self._kid}
        claims = {
            "iss": ISSUER,
            "sub": subject,
            "aud": SERVICE,
            "exp": expires,
            "nbf": now - 10,
            "iat": now,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        signing_input = (
            f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        )
        der = self._key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return f"{signing_input}.{_b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"

    def grant(self, subject: str | None, scopes: list[str]) -> list[dict[str, Any]]:
        access = []
        for scope in scopes:
            kind, name, actions = scope.split(":")
            if subject is None and not name.startswith("public/"):
                continue
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        return access

    def start(self) -> "ThreadingHTTPServer":
        server = ThreadingHTTPServer(("127.0.0.1", 0), _token_handler(self))
        self.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


def _token_handler(tokens: TokenServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _answer(self, subject: str | None, scopes: list[str], bad: bool) -> None:
            if bad:
                self.send_response(401)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            tokens.issued.append(scopes)
            body = json.dumps(
                {
                    "token": tokens.sign(subject or "", tokens.grant(subject, scopes)),
                    "expires_in": tokens.lifetime,
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            query = parse_qs(urlsplit(self.path).query)
            scopes = [s for value in query.get("scope", []) for s in value.split(" ")]
            auth = self.headers.get("Authorization", "")
            expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
            subject = USER if auth == expected else None
            self._answer(subject, scopes, bad=bool(auth) and subject is None)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = parse_qs(self.rfile.read(length).decode())
            scopes = " ".join(form.get("scope", [])).split()
            ok = form.get("refresh_token") == [tokens.refresh_token]
            self._answer(USER if ok else None, scopes, bad=not ok)

    return Handler


# -- the registry ---------------------------------------------------------------------


@dataclass
class Registry:
    host: str
    storage: Path
    tls: bool
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def registry_config(
    directory: Path,
    port: int,
    *,
    ca: CertAuthority | None,
    htpasswd: bool,
    tokens: TokenServer | None,
) -> dict[str, Any]:
    http: dict[str, Any] = {"addr": f"127.0.0.1:{port}", "secret": secrets.token_hex(16)}
    if ca is not None:
        http["tls"] = {"certificate": str(ca.server_cert), "key": str(ca.server_key)}
    config: dict[str, Any] = {
        "version": 0.1,
        "log": {"level": "error", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": str(directory / "data")}},
        "http": http,
    }
    if htpasswd:
        pw = directory / "htpasswd"
        line = subprocess.run(
            ["htpasswd", "-Bbn", USER, PASSWORD], capture_output=True, text=True, check=True
        ).stdout
        pw.write_text(line)
        config["auth"] = {"htpasswd": {"realm": "staves-test", "path": str(pw)}}
    elif tokens is not None:
        config["auth"] = {
            "token": {
                "realm": tokens.realm,
                "service": SERVICE,
                "issuer": ISSUER,
                "rootcertbundle": str(tokens.cert_bundle),
            }
        }
    return config


def start_registry(
    directory: Path,
    *,
    ca: CertAuthority | None = None,
    htpasswd: bool = False,
    tokens: TokenServer | None = None,
) -> Registry:
    require(REGISTRY_BIN)
    if htpasswd:
        require("htpasswd")
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = registry_config(directory, port, ca=ca, htpasswd=htpasswd, tokens=tokens)
    config_path = directory / "config.yml"
    config_path.write_text(json.dumps(config))  # JSON is YAML
    proc = subprocess.Popen(
        [REGISTRY_BIN, "serve", str(config_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_port(port, proc)
    except RuntimeError:
        proc.kill()
        raise
    return Registry(f"127.0.0.1:{port}", directory / "data", ca is not None, proc)


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory: pytest.TempPathFactory) -> CertAuthority:
    pytest.importorskip("cryptography")
    return make_test_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture
def registry_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., Registry]]:
    """Start registries: ``registry_factory(ca=test_ca, htpasswd=True)``."""
    started: list[Registry] = []

    def start(**kwargs: Any) -> Registry:
        registry = start_registry(tmp_path_factory.mktemp("registry"), **kwargs)
        started.append(registry)
        return registry

    yield start
    for registry in started:
        registry.stop()


@pytest.fixture
def secure_registry(registry_factory: Callable[..., Registry], test_ca: CertAuthority) -> Registry:
    """TLS from the test CA and htpasswd auth (USER / PASSWORD)."""
    return registry_factory(ca=test_ca, htpasswd=True)


@pytest.fixture
def token_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenServer]:
    pytest.importorskip("cryptography")
    tokens = TokenServer(tmp_path_factory.mktemp("tokens"))
    server = tokens.start()
    yield tokens
    server.shutdown()
    server.server_close()


# -- test images ----------------------------------------------------------------------


def busybox_rootfs(root: Path, extra: bytes = b"") -> Path:
    if not BUSYBOX.exists():
        pytest.skip(f"needs {BUSYBOX} (Debian busybox-static)")
    (root / "bin").mkdir(parents=True)
    shutil.copy2(BUSYBOX, root / "bin/busybox")
    (root / "bin/sh").symlink_to("busybox")
    if extra:
        (root / "data").mkdir()
        (root / "data/blob.bin").write_bytes(extra)
    return root


def make_image(work: Path, extra: bytes = b"", message: str = "hello from staves") -> Image:
    """A busybox image whose command echoes ``message``; ``extra`` adds a second layer."""
    blobs = work / "blobs"
    layers: list[Layer] = []
    base = busybox_rootfs(work / "rootfs")
    layers.append(write_layer(tar_directory(base, clamp_mtime=0), blobs, Compression.GZIP))
    if extra:
        data_root = work / "rootfs2"
        (data_root / "data").mkdir(parents=True)
        (data_root / "data/blob.bin").write_bytes(extra)
        layers.append(write_layer(tar_directory(data_root, clamp_mtime=0), blobs, Compression.GZIP))
    config = ImageConfig(cmd=("/bin/busybox", "echo", message))
    return build_image(
        layers, config, created=dt.datetime(2024, 1, 1, tzinfo=dt.UTC), platform=Platform.host()
    )


@pytest.fixture
def small_image(tmp_path: Path) -> Image:
    return make_image(tmp_path / "image", extra=os.urandom(3 << 20))


# -- podman and skopeo ----------------------------------------------------------------


def podman_conf(directory: Path) -> Path:
    """Where podman reads its config: the project's, or a minimal one here."""
    if os.environ.get("CONTAINERS_CONF"):
        return Path(os.environ["CONTAINERS_CONF"])
    hard = subprocess.run(["sh", "-c", "ulimit -Hn"], capture_output=True, text=True).stdout
    nofile = min(1024, int(hard)) if hard.strip().isdigit() else 1024
    conf = directory / "containers.conf"
    conf.write_text(
        '[engine]\nruntime = "runc"\n[containers]\n'
        f'default_ulimits = ["nofile={nofile}:{nofile}", "nproc=1024:1024"]\n'
    )
    return conf


@pytest.fixture
def podman(tmp_path: Path) -> Iterator[Callable[..., subprocess.CompletedProcess[str]]]:
    """Run podman with its own storage under tmp_path (vfs), never the machine's."""
    require("podman")
    # Podman wants a runroot shorter than 50 characters.
    store = Path(tempfile.mkdtemp(prefix="stv-podman-"))
    env = {**os.environ, "CONTAINERS_CONF": str(podman_conf(store))}
    base = [
        "podman",
        "--root",
        str(store / "root"),
        "--runroot",
        str(store / "run"),
        "--storage-driver",
        "vfs",
    ]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*base, *args], capture_output=True, text=True, env=env, timeout=300)

    yield run
    run("system", "reset", "--force")
    shutil.rmtree(store, ignore_errors=True)


# -- a proxy that breaks things -------------------------------------------------------

FaultPlan = Callable[[int, bytes], str | None]
_CUT_AFTER = 64 << 10


def _rst_close(sock: socket.socket) -> None:
    """Close with a TCP reset, as a crashed peer or middlebox would."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    sock.close()


def _read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk or chunk.startswith(b"\x16"):  # EOF, or a TLS hello: plain HTTP only
            return b"", b""
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head + b"\r\n\r\n", rest


def _close_connection_head(head: bytes) -> bytes:
    lines = [
        line
        for line in head.rstrip(b"\r\n").split(b"\r\n")
        if not line.lower().startswith(b"connection:")
    ]
    return b"\r\n".join([*lines, b"Connection: close"]) + b"\r\n\r\n"


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while chunk := src.recv(1 << 20):
            dst.sendall(chunk)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)


@dataclass
class FaultProxy:
    """Plain-HTTP proxy on loopback, one request per connection, numbered from 0.

    ``plan(n, head)`` picks a fault for request n: ``"503"`` (answer 503 itself),
    ``"reset"`` (TCP reset before forwarding), ``"cut"`` (forward the head and up to
    64 KiB of body, then reset both sides: the answer is lost), or None (forward).
    """

    upstream_port: int
    plan: FaultPlan
    faults: list[tuple[int, str, str]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    port: int = 0

    def start(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self) -> None:
        self._listener.close()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        head, rest = _read_head(client)
        if not head:
            client.close()
            return
        line = head.split(b"\r\n", 1)[0].decode(errors="replace")
        with self._lock:
            number = len(self.requests)
            self.requests.append(line)
        fault = self.plan(number, head)
        if fault:
            self.faults.append((number, fault, line))
        if fault == "503":
            client.sendall(
                b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                b"Connection: close\r\n\r\n"
            )
            client.close()
            return
        if fault == "reset":
            _rst_close(client)
            return
        upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
        upstream.sendall(_close_connection_head(head) + rest)
        if fault == "cut":
            self._cut(client, upstream, len(rest))
            return
        threading.Thread(target=_pump, args=(client, upstream), daemon=True).start()
        _pump(upstream, client)
        client.close()
        upstream.close()

    def _cut(self, client: socket.socket, upstream: socket.socket, sent: int) -> None:
        client.settimeout(0.2)
        try:
            while sent < _CUT_AFTER and (chunk := client.recv(min(65536, _CUT_AFTER - sent))):
                upstream.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass
        time.sleep(0.1)
        _rst_close(upstream)
        _rst_close(client)


@pytest.fixture
def fault_proxy() -> Iterator[Callable[[int, FaultPlan], FaultProxy]]:
    started: list[FaultProxy] = []

    def start(upstream_port: int, plan: FaultPlan) -> FaultProxy:
        proxy = FaultProxy(upstream_port, plan)
        proxy.start()
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        proxy.stop()
