"""Images that run like a Gentoo system: the filesystem skeleton from the repository's
baselayout, accounts from acct-user/acct-group packages, locales LANG can name, what
INSTALL_MASK leaves out, and a service image a user would write."""

import json
import re
import time
import uuid
from pathlib import Path

import pytest
import requests

from tests.builder_fixtures import Build, Builder, builder, podman, test_images
from tests.loopback import free_port

pytestmark = [pytest.mark.builder, pytest.mark.podman]
__all__ = ["builder", "test_images"]  # fixtures used by name

HELLO = """
name = "localhost/staves-test/hello"
packages = ["app-misc/hello"]
command = ["/usr/bin/hello"]
"""
WEBD = """
name = "localhost/staves-test/webd"
packages = ["www-servers/webd", "app-alternatives/sh", "app-misc/idprobe"]
cmd = ["/usr/sbin/webd", "8080", "/usr/share/webd/index.html", "/var/log/webd/access.log"]
user = "webd:webd"
ports = [8080]
"""
WEBD_UID = 480  # ACCT_USER_ID of acct-user/webd in the test repository


def contents(build: Build, package: str) -> list[str]:
    """The paths Portage recorded in CONTENTS for CATEGORY/PN (of any version)."""
    names = [n for n in build.members() if n.startswith(f"var/db/pkg/{package}-")]
    entry = next(n for n in names if n.endswith("/CONTENTS"))
    return [line.split()[1] for line in build.read(entry).decode().splitlines()]


def test_empty_spec_gets_gentoos_skeleton_and_nobody_runs(builder: Builder) -> None:
    # The README's own example: user = "nobody:nobody" needs /etc/passwd in the image.
    build = builder.build(HELLO + 'user = "nobody:nobody"\n')
    members = build.members()
    for link, target in [("bin", "usr/bin"), ("sbin", "usr/sbin"), ("lib", "usr/lib")]:
        assert members[link].issym() and members[link].linkname == target, link
    assert members["tmp"].mode & 0o7777 == 0o1777
    assert members["etc/os-release"].linkname == "../usr/lib/os-release"
    assert "ID=gentoo" in build.read("usr/lib/os-release").decode().splitlines()
    passwd = build.read("etc/passwd").decode()
    assert re.search(r"^root:x:0:0:", passwd, re.M) and re.search(r"^nobody:x:65534:", passwd, re.M)
    assert re.search(r"^nobody:x:65534:", build.read("etc/group").decode(), re.M)
    assert build.run() == "Hello World!\n"


def test_user_the_image_lacks_is_one_error_before_any_output(builder: Builder) -> None:
    failed = builder.build(HELLO + 'user = "webd"\n', expect_ok=False)
    assert failed.proc.returncode == 2
    last = failed.log.strip().splitlines()[-1]
    assert "staves.toml: user: the image's /etc/passwd has no user 'webd'" in last
    assert "acct-user/NAME" in last and "Traceback" not in failed.log
    assert not failed.layout.exists()


@pytest.fixture(scope="module")
def webd(builder: Builder, tmp_path_factory: pytest.TempPathFactory) -> tuple[Build, Path]:
    """WEBD built once, with its SBOM written beside it (the image and the SBOM's path)."""
    sbom = tmp_path_factory.mktemp("webd") / "sbom.json"
    return builder.build(WEBD, "--sbom", str(sbom)), sbom


def test_service_image_serves_as_its_own_user(webd: tuple[Build, Path], tmp_path: Path) -> None:
    build, _ = webd
    members = build.members()
    # The package's own log directory, kept with its owner and mode (not deleted).
    log_dir = members["var/log/webd"]
    assert (log_dir.uid, log_dir.gid, log_dir.mode & 0o7777) == (WEBD_UID, WEBD_UID, 0o750)
    assert "/var/log/webd/.keep_www-servers_webd-0" in contents(build, "www-servers/webd")
    assert re.search(r"^webd:x:480:480:", build.read("etc/passwd").decode(), re.M)
    assert build.run("id") == "uid=480(webd) gid=480(webd)\n"
    script = tmp_path / "hello.sh"
    script.write_text('#!/bin/sh\necho "from sh: $(id)"\n')
    script.chmod(0o755)
    out = build.run("/srv/hello.sh", options=("-v", f"{script}:/srv/hello.sh:ro"))
    assert out == "from sh: uid=480(webd) gid=480(webd)\n"

    port, name = free_port(), f"staves-webd-{uuid.uuid4().hex[:8]}"
    with build.stored():
        started = podman("run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:8080", build.image)
        assert started.returncode == 0, started.stderr
        try:
            page = _get_when_up(f"http://127.0.0.1:{port}/")
            assert page == "<h1>webd works</h1>\n"
            # It could write its log: the directory is its user's.
            logged = podman(
                "exec", name, "/bin/sh", "-c", "read l </var/log/webd/access.log; echo $l"
            )
            assert logged.stdout.startswith("GET / HTTP/1.1"), logged.stderr
        finally:
            podman("rm", "-f", "-t", "0", name)


def _get_when_up(url: str) -> str:
    deadline = time.monotonic() + 30
    while True:
        try:
            return requests.get(url, timeout=5).text
        except requests.ConnectionError:
            assert time.monotonic() < deadline, f"nothing answered at {url}"
            time.sleep(0.2)


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ('{ name = "en_US.UTF-8" }', "en_US.UTF-8 UTF-8"),
        ('{ name = "de_DE@euro", charset = "ISO-8859-15" }', "de_DE@euro ISO-8859-15"),
        ('{ name = "C.UTF-8" }', "C.UTF-8 UTF-8"),
    ],
)
def test_locale_is_one_setlocale_accepts_through_lang(
    builder: Builder, locale: str, expected: str
) -> None:
    spec = f'name = "loc"\npackages = ["app-misc/localeprobe"]\nlocale = {locale}\n'
    build = builder.build(spec)
    name = expected.split()[0]
    assert f"LANG={name}" in build.config()["Env"]
    assert build.run("/usr/bin/localeprobe") == expected + "\n"


def test_install_mask_keeps_contents_true_and_can_keep_headers(builder: Builder) -> None:
    lean = builder.build(HELLO)
    assert not any(n.startswith("usr/include") for n in lean.members())
    assert not any(p.startswith("/usr/include") for p in contents(lean, "dev-libs/libgreet"))
    kept = builder.build(HELLO + 'install_mask = ["-/usr/include"]\n')
    assert "usr/include/greet.h" in kept.members()
    assert "/usr/include/greet.h" in contents(kept, "dev-libs/libgreet")


def test_sbom_file_list_matches_the_image(webd: tuple[Build, Path]) -> None:
    build, sbom_path = webd
    sbom = json.loads(sbom_path.read_text())
    listed = {f["fileName"].removeprefix("./") for f in sbom.get("files", [])}
    assert listed, "the SBOM lists no files"
    members = build.members()
    assert sorted(n for n in listed if n not in members) == []


def test_compiler_runtime_goes_beside_the_native_libc(builder: Builder) -> None:
    # amd64 multilib: the 64-bit libc is in lib64 (LIBDIR_amd64), the 32-bit one in lib.
    build = builder.build(HELLO + "stdlib = true\n")
    members = build.members()
    assert members["lib64"].issym() and members["lib64"].linkname == "usr/lib64"
    assert "usr/lib64/libc.so.6" in members
    for name in ("libgcc_s.so.1", "libstdc++.so.6"):
        assert f"usr/lib64/{name}" in members, name
        assert f"usr/lib/{name}" not in members, name
    # ld.so.cache was regenerated after the copy: it lists them.
    cache = build.read("etc/ld.so.cache")
    for name in (b"libgcc_s.so.1", b"libstdc++.so.6", b"libgreet.so.1"):
        assert name in cache, name
    assert build.run() == "Hello World!\n"


def test_what_the_roots_programs_need_is_copied_without_stdlib(builder: Builder) -> None:
    build = builder.build('name = "cxx"\npackages = ["app-misc/cxxhello"]\n')
    assert "usr/lib64/libstdc++.so.6" in build.members()
    assert build.run("/usr/bin/cxxhello") == "hello from C++\n"
    plain = builder.build('name = "c"\npackages = ["app-misc/localeprobe"]\n')
    assert "usr/lib64/libstdc++.so.6" not in plain.members()
    assert "usr/lib64/libgcc_s.so.1" in plain.members()  # glibc loads it itself
