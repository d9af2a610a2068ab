"""User patches and debug images end to end, against the test repository: a patch changes
what a program prints, a build with it again is a no-op, a build without it gives the
image of before; a patch that does not apply names the package and the hunk. The debug
image shares every layer of the image, resolves the image's programs' build IDs to their
debug files (which the image lacks), holds the sources and a shell; a warm rebuild
compiles nothing."""

import base64
import fcntl
import hashlib
import json
import os
import re
import struct
import subprocess
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.builder_fixtures import (
    BUILDER,
    IMAGE_LOCKS,
    PORTAGE,
    Builder,
    builder,
    podman,
    test_images,
)
from tests.cosign_check import generate_keys, openssl_verifies, read_tagged, signature_tag
from tests.helpers import layout_blob, layout_index, layout_json, manifest_for_tag

pytestmark = [pytest.mark.builder, pytest.mark.podman]
PASSWORD = "correct horse"
__all__ = ["builder", "test_images"]  # fixtures used by name

HELLO = """
name = "localhost/staves-test/patched"
packages = ["app-misc/hello"]
command = ["/usr/bin/hello"]
"""
PATCHED = HELLO + "['app-misc/hello']\npatches = ['patches/planet.patch']\n"
# The context lines of a unified diff start with a space, the empty one too.
PLANET = "".join(
    line + "\n"
    for line in (
        "--- a/hello.c",
        "+++ b/hello.c",
        "@@ -6,7 +6,7 @@",
        " ",
        " int main(int argc, char **argv) {",
        " \tchar line[256];",
        '-\tsnprintf(line, sizeof line, "%s World!", greet_word());',
        '+\tsnprintf(line, sizeof line, "%s Planet!", greet_word());',
        " #ifdef SHOUT",
        " \tfor (char *p = line; *p; p++) *p = (char)toupper((unsigned char)*p);",
        " #endif",
    )
).encode()
DEBUG = """
name = "localhost/staves-test/debugged"
packages = ["app-misc/hello"]
command = ["/usr/bin/hello"]
layers = 4

[debug]
sources = true
packages = ["app-shells/dash"]
"""


@dataclass
class Bed:
    builder: Builder
    work: Path

    def build(
        self,
        spec: str,
        *outputs: str,
        extra: tuple[str, ...] = (),
        files: Mapping[str, bytes] | None = None,
        expect_ok: bool = True,
        env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """``staves build`` of ``spec``, written with ``files`` beside it, to ``outputs``."""
        directory = self.work / f"spec-{len(list(self.work.iterdir()))}"
        directory.mkdir()
        (directory / "staves.toml").write_text(spec)
        for name, data in (files or {}).items():
            (directory / name).parent.mkdir(parents=True, exist_ok=True)
            (directory / name).write_bytes(data)
        argv = ["staves", "build", "-c", str(directory / "staves.toml"), "--builder", BUILDER]
        argv += ["--portage", PORTAGE, "--build-cache", self.builder.cache]
        argv += [arg for dest in outputs for arg in ("-o", dest)]
        done = subprocess.run(
            [*argv, *extra],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, **(env or {})},
        )
        if expect_ok:
            assert done.returncode == 0, done.stderr[-3000:]
        return done


@pytest.fixture(scope="module")
def bed(builder: Builder, tmp_path_factory: pytest.TempPathFactory) -> Bed:
    return Bed(builder, tmp_path_factory.mktemp("patches-debug"))


def compiled(log: str) -> list[str]:
    """Packages emerge compiled (not taken from a binary package)."""
    return re.findall(r">>> Emerging \(\d+ of \d+\) (\S+?)::", log)


class Image:
    """One tag of an OCI layout, read as a container runtime stacks its layers."""

    def __init__(self, layout: Path, tag: str) -> None:
        self.layout, self.tag = layout, tag
        self.manifest = manifest_for_tag(layout, tag)
        self.config = layout_json(layout, self.manifest["config"]["digest"])

    @property
    def layers(self) -> list[dict[str, Any]]:
        return list(self.manifest["layers"])

    def members(self) -> dict[str, tarfile.TarInfo]:
        found: dict[str, tarfile.TarInfo] = {}
        for layer in self.layers:
            with tarfile.open(layout_blob(self.layout, layer["digest"])) as tar:
                found.update((m.name.rstrip("/"), m) for m in tar.getmembers())
        return found

    def read(self, path: str) -> bytes:
        for layer in reversed(self.layers):
            with tarfile.open(layout_blob(self.layout, layer["digest"])) as tar:
                try:
                    data = tar.extractfile(path)
                except KeyError:
                    continue
                if data is not None:
                    return data.read()
        raise KeyError(path)

    def run(self, *command: str, entrypoint: str | None = None) -> str:
        """``podman run`` of the image; its output. The copy Podman stores is removed
        after, unless another test still uses the same image (see Build.stored)."""
        image_id = self.manifest["config"]["digest"].removeprefix("sha256:")
        IMAGE_LOCKS.mkdir(exist_ok=True)
        options = ["--entrypoint", entrypoint] if entrypoint else []
        with (IMAGE_LOCKS / f"{image_id}.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_SH)
            try:
                done = subprocess.run(
                    ["podman", "run", "--rm", *options, f"oci:{self.layout}:{self.tag}", *command],
                    capture_output=True,
                    text=True,
                    check=False,
                )
            finally:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    pass
                else:
                    podman("rmi", "-f", image_id)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def attached(self, artifact_type: str) -> bytes:
        """The payload of what is attached to this image (its SBOM, its provenance)."""
        digest = next(
            m["digest"]
            for m in layout_index(self.layout)["manifests"]
            if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == self.tag
        )
        artifacts = self.layout / "artifacts"
        for entry in layout_index(artifacts)["manifests"]:
            manifest = layout_json(artifacts, entry["digest"])
            subject = manifest.get("subject", {}).get("digest")
            if subject == digest and manifest.get("artifactType") == artifact_type:
                return layout_blob(artifacts, manifest["layers"][0]["digest"]).read_bytes()
        raise KeyError(artifact_type)


def digest_of(layout: Path, tag: str) -> str:
    for entry in layout_index(layout)["manifests"]:
        if entry.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
            return str(entry["digest"])
    raise KeyError(tag)


def test_a_patch_changes_the_program_and_only_a_change_of_patches_builds_anew(bed: Bed) -> None:
    plain = bed.build(HELLO, f"oci:{bed.work}/plain:t")
    assert Image(bed.work / "plain", "t").run() == "Hello World!\n"

    files = {"patches/planet.patch": PLANET}
    sbom = bed.work / "patched.spdx.json"
    patched = bed.build(
        PATCHED, f"oci:{bed.work}/patched:t", files=files, extra=("--sbom", str(sbom))
    )
    # A partition of its own, which takes the unpatched build's packages no patch touches:
    # the patched package alone is compiled.
    assert compiled(patched.stderr) == ["app-misc/hello-1.0"]
    image = Image(bed.work / "patched", "t")
    assert image.run() == "Hello Planet!\n"

    sha = hashlib.sha256(PLANET).hexdigest()
    hello = next(p for p in json.loads(sbom.read_text())["packages"] if p["name"] == "hello")
    notes = {line for a in hello["annotations"] for line in a["comment"].splitlines()}
    assert "modified: user patches" in notes
    assert f"patch 001-planet.patch: patches/planet.patch sha256:{sha}" in notes
    envelope = json.loads(image.attached("application/vnd.dsse.envelope.v1+json"))
    statement = json.loads(base64.b64decode(envelope["payload"]))
    dependencies = statement["predicate"]["buildDefinition"]["resolvedDependencies"]
    assert {"sha256": sha} in [d.get("digest") for d in dependencies]

    index = (bed.work / "patched" / "index.json").stat().st_mtime_ns
    again = bed.build(PATCHED, f"oci:{bed.work}/patched:t", files=files)
    assert "staves: unchanged: every destination holds this build" in again.stderr
    assert again.stdout == patched.stdout
    assert (bed.work / "patched" / "index.json").stat().st_mtime_ns == index

    # Without the patch: the unpatched program from the unpatched partition, the very
    # image of before the patch.
    restored = bed.build(HELLO, f"oci:{bed.work}/restored:t")
    assert restored.stdout == plain.stdout
    assert Image(bed.work / "restored", "t").run() == "Hello World!\n"

    # Another patch: the patched package built anew, in a partition of its own again.
    moon = PLANET.replace(b"Planet", b"Moon")
    changed = bed.build(PATCHED, f"oci:{bed.work}/moon:t", files={"patches/planet.patch": moon})
    assert compiled(changed.stderr) == ["app-misc/hello-1.0"]
    assert Image(bed.work / "moon", "t").run() == "Hello Moon!\n"


def test_a_patch_that_does_not_apply_names_the_package_and_the_hunk(bed: Bed) -> None:
    stale = PLANET.replace(b'-\tsnprintf(line, sizeof line, "%s World!', b'-\tputs("%s Earth')
    failed = bed.build(
        PATCHED,
        f"oci:{bed.work}/stale:t",
        files={"patches/planet.patch": stale},
        expect_ok=False,
    )
    assert failed.returncode == 1
    assert failed.stderr.splitlines()[-1].startswith(
        "staves: error: app-misc/hello-1.0: user patch patches/planet.patch does not apply: "
        "hunk #1 at line 6 of hello.c FAILED"
    )
    assert not (bed.work / "stale").exists()


def build_id(elf: bytes) -> str:
    """The GNU build ID of a 64-bit little-endian ELF file, from its section headers."""
    (shoff,) = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3A)
    sections = [struct.unpack_from("<IIQQQQ", elf, shoff + i * shentsize) for i in range(shnum)]
    names = sections[shstrndx][4]
    for name, kind, _, _, offset, _ in sections:
        title = elf[names + name : elf.index(b"\0", names + name)]
        if kind == 7 and title == b".note.gnu.build-id":  # SHT_NOTE
            namesz, descsz, _ = struct.unpack_from("<III", elf, offset)
            start = offset + 12 + ((namesz + 3) & ~3)
            return elf[start : start + descsz].hex()
    raise AssertionError("no build ID")


@dataclass
class Debugged:
    first: subprocess.CompletedProcess[str]
    image: Image
    debug: Image
    work: Path


@pytest.fixture(scope="module")
def debugged(bed: Bed) -> Debugged:
    """A debug build (cold in its own partition) to a layout and a docker-archive."""
    first = bed.build(
        DEBUG,
        f"oci:{bed.work}/debugged:t",
        f"docker-archive:{bed.work}/debugged.tar:localhost/staves-test/debugged:t",
    )
    return Debugged(
        first, Image(bed.work / "debugged", "t"), Image(bed.work / "debugged", "t-debug"), bed.work
    )


def test_the_debug_image_is_the_images_layers_and_its_own(debugged: Debugged) -> None:
    image, debug = debugged.image, debugged.debug
    assert debug.layers[: len(image.layers)] == image.layers
    kinds = [layer["annotations"]["io.staves.layer"] for layer in debug.layers[len(image.layers) :]]
    assert kinds == ["debug", "debug-packages"]
    assert debug.manifest["annotations"]["io.staves.debug-of"] == digest_of(
        debugged.work / "debugged", "t"
    )
    assert debug.config["config"] == image.config["config"]
    assert debug.run() == image.run() == "Hello World!\n"
    # The debug packages: a shell to look around with.
    assert debug.run("-c", "echo $0 here", entrypoint="/usr/bin/dash") == "/usr/bin/dash here\n"
    assert "usr/bin/dash" not in image.members()
    with tarfile.open(debugged.work / "debugged-debug.tar") as tar:
        (entry,) = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert entry["RepoTags"] == ["localhost/staves-test/debugged:t-debug"]


def test_a_programs_build_id_resolves_to_its_debug_file_in_the_debug_image_alone(
    debugged: Debugged,
) -> None:
    image, debug = debugged.image, debugged.debug
    program = image.read("usr/bin/hello")
    assert b".gnu_debuglink" in program  # stripped, with a link to its debug file
    found = build_id(program)
    link = f"usr/lib/debug/.build-id/{found[:2]}/{found[2:]}.debug"
    members = debug.members()
    assert members[link].issym()
    target = os.path.normpath(os.path.join(os.path.dirname(link), members[link].linkname))
    assert target == "usr/lib/debug/usr/bin/hello.debug" and members[target].isfile()
    information = debug.read(target)
    assert b".debug_info" in information and build_id(information) == found
    assert debug.read("usr/src/debug/app-misc/hello-1.0/hello.c").startswith(b"#include")
    in_image = image.members()
    assert not [n for n in in_image if n.startswith(("usr/lib/debug", "usr/src/debug"))]

    contents = "var/db/pkg/app-misc/hello-1.0/CONTENTS"
    assert "/usr/lib/debug" not in image.read(contents).decode()
    assert f"sym /{link} -> " in debug.read(contents).decode()
    spdx = json.loads(debug.attached("application/spdx+json"))
    assert "dash" in {p["name"] for p in spdx["packages"]}
    in_image = json.loads(image.attached("application/spdx+json"))["packages"]
    assert "dash" not in {p["name"] for p in in_image}
    envelope = json.loads(debug.attached("application/vnd.dsse.envelope.v1+json"))
    statement = json.loads(base64.b64decode(envelope["payload"]))
    assert statement["subject"][0]["digest"]["sha256"] == digest_of(
        debugged.work / "debugged", "t-debug"
    ).removeprefix("sha256:")
    merged = statement["predicate"]["buildDefinition"]["internalParameters"]["merged"]
    assert "app-shells/dash-0.5.12" in {m["package"] for m in merged}


def test_a_warm_debug_rebuild_compiles_nothing_and_is_signed_like_the_image(
    bed: Bed, debugged: Debugged
) -> None:
    assert "app-misc/hello-1.0" in compiled(debugged.first.stderr)
    keys = bed.work / "keys"
    keys.mkdir()
    private, public = generate_keys(keys, PASSWORD)
    warm = bed.build(
        DEBUG,
        f"oci:{bed.work}/warm:t",
        extra=("--sign-key", str(private)),
        env={"COSIGN_PASSWORD": PASSWORD},
    )
    assert compiled(warm.stderr) == []
    again = Image(bed.work / "warm", "t-debug")
    assert again.config["rootfs"] == debugged.debug.config["rootfs"]
    for tag in ("t", "t-debug"):
        digest = digest_of(bed.work / "warm", tag)
        signed = read_tagged(bed.work / "warm", signature_tag(digest))
        assert signed.document()["critical"]["image"]["docker-manifest-digest"] == digest
        assert openssl_verifies(public, signed.signature, signed.payload, keys)
    noop = bed.build(DEBUG, f"oci:{bed.work}/warm:t")
    assert "holds this build and its debug image" in noop.stderr
