"""Servers on 127.0.0.1 for builds that fetch: a distfiles mirror and a private git server.

The git server is ``git http-backend`` (CGI) behind a small HTTP server that demands Basic
auth, so a repository syncs only with the credentials the build shares from ``~/.netrc``.
"""

import base64
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.conftest import PROJECT

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
