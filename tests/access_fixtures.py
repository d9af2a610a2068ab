"""Servers on 127.0.0.1 for builds that fetch: a distfiles mirror and private git servers.

One git server is ``git http-backend`` (CGI) behind a small HTTP server that demands Basic
auth, so a repository syncs only with the credentials the build shares from ``~/.netrc``;
the other is ``sshd`` with a generated host key that lets one generated client key run
``git-shell``, for ``--ssh`` with an agent or with ``~/.ssh``.
"""

import base64
import getpass
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.conftest import PROJECT
from tests.loopback import free_port, wait_for_port

GIT_HTTP_BACKEND = Path("/usr/lib/git-core/git-http-backend")
GIT_USER = "builder"
GIT_PASSWORD = "Pr1vate-Overlay-Secret-7f3a"


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serving(server: ThreadingHTTPServer) -> Iterator[int]:
    """Run ``server`` in a thread; yield its port."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def file_server(directory: Path) -> Iterator[int]:
    """``directory`` over plain HTTP on 127.0.0.1 (a mirror: ``/distfiles/NAME``)."""
    handler = partial(_QuietFiles, directory=str(directory))
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), handler)) as port:
        yield port


class _GitHandler(BaseHTTPRequestHandler):
    """Smart HTTP for the repositories under ``server.root``, Basic auth required."""

    server: "GitServer"

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _serve(self) -> None:
        if not self._authorized():
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="private overlay"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.server.authorized += 1
        path, _, query = self.path.partition("?")
        proc = subprocess.run(
            [str(GIT_HTTP_BACKEND)],
            input=self._body(),
            env=self._cgi_env(path, query),
            capture_output=True,
            check=False,
        )
        self._relay(proc.stdout)

    def _authorized(self) -> bool:
        expected = base64.b64encode(f"{GIT_USER}:{GIT_PASSWORD}".encode()).decode()
        return self.headers.get("Authorization", "") == f"Basic {expected}"

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _cgi_env(self, path: str, query: str) -> dict[str, str]:
        return {
            "GIT_PROJECT_ROOT": str(self.server.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH": "/usr/bin:/bin",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "REQUEST_METHOD": self.command,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
            "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
            "REMOTE_USER": GIT_USER,
            "REMOTE_ADDR": "127.0.0.1",
        }

    def _relay(self, output: bytes) -> None:
        head, _, body = output.partition(b"\r\n\r\n")
        if not _:
            head, _, body = output.partition(b"\n\n")
        headers = [line.split(":", 1) for line in head.decode().splitlines() if ":" in line]
        status = next((v.strip() for k, v in headers if k.lower() == "status"), "200 OK")
        self.send_response(int(status.split()[0]))
        for key, value in headers:
            if key.lower() != "status":
                self.send_header(key, value.strip())
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class GitServer(ThreadingHTTPServer):
    def __init__(self, root: Path) -> None:
        super().__init__(("127.0.0.1", 0), _GitHandler)
        self.root = root
        self.authorized = 0  # requests that carried the right credentials


def bare_overlay(root: Path) -> Path:
    """The test overlay as a bare git repository ``root/private.git``."""
    work = root / "work"
    shutil.copytree(PROJECT / "tests" / "testbed" / "overlay", work)
    ident = ["-c", "user.name=t", "-c", "user.email=t@localhost"]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], [*ident, "commit", "-qm", "o"]):
        subprocess.run(["git", "-C", str(work), *args], check=True)
    bare = root / "private.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(bare)], check=True)
    return bare


@contextmanager
def private_git_server(root: Path) -> Iterator[GitServer]:
    """A git server on 127.0.0.1 holding the overlay, readable only with the password."""
    bare_overlay(root)
    server = GitServer(root)
    with serving(server):
        yield server


@dataclass(frozen=True)
class SshGit:
    """A git server over SSH on 127.0.0.1 and a client key it accepts."""

    uri: str
    known_hosts_line: str
    key: Path  # the client's private key


def _keygen(path: Path, comment: str) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
        check=True,
    )


def _sshd_config(root: Path, port: int) -> Path:
    config = root / "sshd_config"
    config.write_text(
        f"ListenAddress 127.0.0.1\nPort {port}\nHostKey {root}/host_key\n"
        f"AuthorizedKeysFile {root}/authorized_keys\nPidFile {root}/sshd.pid\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
        "StrictModes no\nPermitRootLogin prohibit-password\nAllowTcpForwarding no\n"
        "X11Forwarding no\nPermitTTY no\n"
        # Only git's fetch and push commands, in the repositories root.
        'ForceCommand cd / && exec git-shell -c "$SSH_ORIGINAL_COMMAND"\n'
    )
    return config


@contextmanager
def ssh_git_server(root: Path) -> Iterator[SshGit]:
    """sshd on 127.0.0.1 serving ``root/private.git`` to one generated key (as this user)."""
    bare = bare_overlay(root)
    _keygen(root / "host_key", "staves-test-host")
    _keygen(root / "client_key", "staves-test-client")
    shutil.copy(root / "client_key.pub", root / "authorized_keys")
    port = free_port()
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation dir
    sshd = shutil.which("sshd") or "/usr/sbin/sshd"
    proc = subprocess.Popen(
        [sshd, "-D", "-e", "-f", str(_sshd_config(root, port))], stderr=subprocess.DEVNULL
    )
    try:
        wait_for_port(port, proc)
        host_key = (root / "host_key.pub").read_text().split()
        yield SshGit(
            f"ssh://{getpass.getuser()}@127.0.0.1:{port}{bare}",
            f"[127.0.0.1]:{port} {host_key[0]} {host_key[1]}\n",
            root / "client_key",
        )
    finally:
        proc.terminate()
        proc.wait()


@contextmanager
def ssh_agent(key: Path) -> Iterator[str]:
    """An ssh-agent holding ``key``; yields its socket path (short: sockets have a limit)."""
    sock_dir = Path(tempfile.mkdtemp(prefix="staves-agent-"))
    sock = sock_dir / "agent.sock"
    proc = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not sock.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        env = {**os.environ, "SSH_AUTH_SOCK": str(sock)}
        subprocess.run(["ssh-add", "-q", str(key)], env=env, check=True, capture_output=True)
        yield str(sock)
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(sock_dir, ignore_errors=True)
