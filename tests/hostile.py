"""Hostile inputs for the readers: valid images to start from, ways to damage them, and a
registry on 127.0.0.1 that answers whatever a test tells it to.

A damaged document can be re-digested (``relink``): its new digest is written into the
documents that name it, up to ``index.json``, so that the damage reaches the reader behind
the digest check instead of being caught by it.
"""

import copy
import hashlib
import io
import json
import tarfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from oci.compress import Compression
from oci.descriptor import Platform
from oci.image import Image, ImageConfig, build_image
from oci.layer import write_layer
from oci.tarball import tar_directory

CREATED = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
MIB = 1 << 20


def small_image(work: Path) -> Image:
    """A one-layer image of a few files (gzip), as ``staves pack`` makes them."""
    root = work / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "hello").write_text("hi\n")
    (root / "bin").symlink_to("usr/bin")
    layer = write_layer(tar_directory(root), work / "blobs", Compression.GZIP)
    return build_image([layer], ImageConfig(cmd=("/bin/sh",)), created=CREATED, platform=HOST)


HOST = Platform.host()


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def blob(layout: Path, digest: str) -> Path:
    return layout / "blobs" / "sha256" / digest.removeprefix("sha256:")


def index_of(layout: Path) -> dict[str, Any]:
    return json.loads((layout / "index.json").read_bytes())


def manifest_digest(layout: Path) -> str:
    return str(index_of(layout)["manifests"][0]["digest"])


def manifest_of(layout: Path) -> dict[str, Any]:
    return json.loads(blob(layout, manifest_digest(layout)).read_bytes())


def put_blob(layout: Path, data: bytes) -> str:
    digest = sha256(data)
    blob(layout, digest).write_bytes(data)
    return digest


def relink(layout: Path, part: str, data: bytes) -> None:
    """Make ``data`` the layout's ``part`` (index, manifest, config or layer), its digest
    and size written into what names it."""
    if part == "index":
        (layout / "index.json").write_bytes(data)
        return
    index = index_of(layout)
    manifest = manifest_of(layout)
    digest = put_blob(layout, data)
    if part == "config":
        manifest["config"].update(digest=digest, size=len(data))
    elif part == "layer":
        manifest["layers"][0].update(digest=digest, size=len(data))
    if part != "manifest":
        data = json.dumps(manifest).encode()
        digest = put_blob(layout, data)
    index["manifests"][0].update(digest=digest, size=len(data))
    (layout / "index.json").write_bytes(json.dumps(index).encode())


def part_bytes(layout: Path, part: str) -> bytes:
    if part == "index":
        return (layout / "index.json").read_bytes()
    manifest = manifest_of(layout)
    digest = {
        "manifest": manifest_digest(layout),
        "config": manifest["config"]["digest"],
        "layer": manifest["layers"][0]["digest"],
    }[part]
    return blob(layout, digest).read_bytes()


# -- mutations ----------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.sampled_from([0, -1, 2**70, 1.5, "", "sha256:" + "z" * 64, "zzz", "../../etc"])
    | st.integers()
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(value: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield at
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*at, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, (*at, i))


def _replace(doc: Any, path: tuple[Any, ...], make: Callable[[Any], Any]) -> Any:
    if not path:
        return make(doc)
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    new = make(parent[path[-1]])
    if new is _DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = new
    return doc


_DELETE = object()


@st.composite
def mutated_json(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` (a JSON document) with one node retyped, removed, nulled or nested deep."""
    doc = copy.deepcopy(json.loads(data))
    path = draw(st.sampled_from(list(_paths(doc))))
    kind = draw(st.sampled_from(["retype", "delete", "null", "nest"]))
    if kind == "retype":
        value = draw(json_values)
        doc = _replace(doc, path, lambda _: value)
    elif kind == "delete" and path:
        doc = _replace(doc, path, lambda _: _DELETE)
    elif kind == "null":
        doc = _replace(doc, path, lambda _: None)
    else:
        depth = draw(st.sampled_from([2, 70, 5000]))

        def nest(value: Any) -> Any:
            for _ in range(depth):
                value = [value]
            return value

        if depth > 500:  # json.dumps recurses too: write the brackets by hand
            return _deep(doc, path, depth)
        doc = _replace(doc, path, nest)
    return json.dumps(doc).encode()


def _deep(doc: Any, path: tuple[Any, ...], depth: int) -> bytes:
    marker = "\x00deep\x00"
    doc = _replace(doc, path, lambda _: marker)
    return (
        json.dumps(doc)
        .encode()
        .replace(json.dumps(marker).encode(), b"[" * depth + b"1" + b"]" * depth)
    )


@st.composite
def mutated_bytes(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` truncated, with bytes flipped, with garbage added, or oversized."""
    kind = draw(st.sampled_from(["truncate", "flip", "append", "prefix-nesting", "oversize"]))
    if kind == "truncate":
        return data[: draw(st.integers(0, max(len(data) - 1, 0)))]
    if kind == "flip":
        out = bytearray(data)
        for _ in range(draw(st.integers(1, 4))):
            i = draw(st.integers(0, max(len(out) - 1, 0)))
            if out:
                out[i] ^= draw(st.integers(1, 255))
        return bytes(out)
    if kind == "append":
        return data + draw(st.binary(min_size=1, max_size=64))
    if kind == "prefix-nesting":
        return b"[" * draw(st.sampled_from([65, 1000, 100_000])) + data
    return data + b" " * (16 * MIB)  # past every document cap


def damaged(data: bytes, is_json: bool) -> st.SearchStrategy[bytes]:
    """Every way ``data`` is damaged here: field by field for JSON, byte by byte always."""
    if is_json:
        return st.one_of(mutated_json(data), mutated_bytes(data))
    return mutated_bytes(data)


# -- tars ---------------------------------------------------------------------------------


def tar_of(*entries: tuple[str, str, str]) -> bytes:
    """A tar of (kind, name, text or link target) entries: file, dir, sym, lnk."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for kind, name, extra in entries:
            info = tarfile.TarInfo(name)
            if kind == "file":
                data = extra.encode()
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
                continue
            info.type = {"dir": tarfile.DIRTYPE, "sym": tarfile.SYMTYPE, "lnk": tarfile.LNKTYPE}[
                kind
            ]
            info.linkname = extra
            tar.addfile(info)
    return buffer.getvalue()


# -- a registry that says what it is told ---------------------------------------------------

Answer = tuple[int, dict[str, str], bytes | Callable[[], Iterator[bytes]] | None]
SILENT: Answer = (0, {}, None)  # accept, read the request, never answer


class _Handler(BaseHTTPRequestHandler):
    server: "ScriptedRegistry"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def do_GET(self) -> None:
        self._answer(head=False)

    def _answer(self, head: bool) -> None:
        path = self.path.split("?", 1)[0]
        status, headers, body = self.server.answers.get(path, (404, {}, b"{}"))
        if (status, headers, body) == SILENT:
            self.server.stop.wait(60)
            return
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        if callable(body):
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for chunk in body():
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.write(b"0\r\n\r\n")
            except OSError:
                pass  # the client hung up: what a cap does
            return
        data = body or b""
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if not head:
            self.wfile.write(data)


class ScriptedRegistry(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hangs up early is what the caps do

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.stop = threading.Event()
        self.answers: dict[str, Answer] = {"/v2/": (200, {}, b"{}")}

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"

    def serve(self, repo: str, image: Image, **replaced: bytes) -> None:
        """Serve ``image`` as ``repo:1``; ``replaced`` parts (manifest, config, layer)
        answered with other bytes."""
        manifest = replaced.get("manifest", image.manifest.data)
        self.answers[f"/v2/{repo}/manifests/1"] = (
            200,
            {"Content-Type": image.manifest.media_type},
            manifest,
        )
        blobs = {image.config.digest: replaced.get("config", image.config.data)}
        layer = image.layers[0]
        with layer.open() as data:
            blobs[layer.digest] = replaced.get("layer", data.read())
        for digest, data in blobs.items():
            self.answers[f"/v2/{repo}/blobs/{digest}"] = (200, {}, data)


@contextmanager
def scripted_registry() -> Iterator[ScriptedRegistry]:
    server = ScriptedRegistry()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop.set()
        server.shutdown()
        server.server_close()
        thread.join()


def endless(chunk: bytes = b" " * MIB) -> Callable[[], Iterator[bytes]]:
    """A body that never ends (until the client stops reading)."""

    def body() -> Iterator[bytes]:
        while True:
            yield chunk
            time.sleep(0)

    return body
