"""``staves diff`` and ``staves inspect --format html`` on real builds of the test repository:
two images that differ in one package version (app-misc/motd 1.0 → 1.1) and one USE flag
(app-misc/hello's ``shout``), the page checked in headless Chromium."""

import json
import posixpath
import re
import tarfile
from pathlib import Path

import pytest

from tests.browser import chromium, load
from tests.builder_fixtures import Build, Builder, builder, test_images
from tests.conftest import PROJECT
from tests.helpers import layout_blob, layout_index, layout_json, staves
from tests.vdb_samples import VDB

pytestmark = [pytest.mark.builder, pytest.mark.podman]
__all__ = ["builder", "test_images"]  # fixtures used by name

ARTIFACTS = PROJECT / "test-artifacts"
SPEC_A = """
name = "localhost/staves-test/motd"
packages = ["=app-misc/motd-1.0", "app-misc/hello"]
layers = 8
"""
SPEC_B = """
name = "localhost/staves-test/motd"
packages = ["=app-misc/motd-1.1", "app-misc/hello"]
layers = 8

['app-misc/hello']
use = ["shout"]
"""


@pytest.fixture(scope="module")
def builds(builder: Builder) -> tuple[Build, Build]:
    return builder.build(SPEC_A), builder.build(SPEC_B)


def source(build: Build) -> str:
    return f"oci:{build.layout}:t"


def diff_json(a: Build, b: Build) -> tuple[int, dict]:
    proc = staves("diff", source(a), source(b), "--format", "json")
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def test_diff_names_exactly_the_version_and_the_use_flag_that_changed(
    builds: tuple[Build, Build],
) -> None:
    a, b = builds
    status, diff = diff_json(a, b)
    assert status == 1
    assert diff["added"] == [] and diff["removed"] == []
    changed = {
        c["name"]: {f["field"]: (f["old"], f["new"]) for f in c["changes"]} for c in diff["changed"]
    }
    assert set(changed) == {"app-misc/motd", "app-misc/hello"}
    assert changed["app-misc/motd"]["version"] == ("1.0", "1.1")
    assert set(changed["app-misc/motd"]) <= {"version", "size"}  # 1.1 says more
    assert changed["app-misc/hello"]["use"] == ([], ["shout"])
    assert changed["app-misc/hello"]["use_disabled"] == (["shout"], [])
    assert set(changed["app-misc/hello"]) <= {"use", "use_disabled", "size"}
    text = staves("diff", source(a), source(b)).stdout
    assert "~ app-misc/motd: version 1.0 -> 1.1" in text
    assert "~ app-misc/hello: use (none) -> shout; use_disabled shout -> (none)" in text


def test_layers_of_unchanged_packages_are_shared(builds: tuple[Build, Build]) -> None:
    a, b = builds
    _, diff = diff_json(a, b)
    shared = {
        re.sub(r"-[0-9][^/]*$", "", p) for layer in diff["shared_layers"] for p in layer["packages"]
    }
    assert {"dev-libs/libgreet", "sys-libs/glibc"} <= shared
    only_b = {p for layer in diff["layers_only_b"] for p in layer["packages"]}
    assert {"app-misc/motd-1.1", "app-misc/hello-1.0"} <= only_b


def test_an_image_compared_with_itself_is_the_same(builds: tuple[Build, Build]) -> None:
    a, _ = builds
    proc = staves("diff", source(a), source(a))
    assert proc.returncode == 0, proc.stderr
    assert "same image" in proc.stdout
    proc = staves("diff", source(a), f"oci:{a.layout.parent}/missing")
    assert proc.returncode == 2
    assert proc.stderr.startswith("staves: error: reading oci:")
    assert proc.stderr.count("\n") == 1  # one line


def _final_tree(layout: Path) -> tuple[dict[str, int], dict[str, str], dict[str, str]]:
    """Regular files (path → size), symlinks (path → target) and CONTENTS texts
    (CATEGORY/PF → text) of the image's final tree, read with tarfile."""
    index = layout_index(layout)
    image = next(m for m in index["manifests"] if "artifactType" not in m)
    files: dict[str, int] = {}
    links: dict[str, str] = {}
    contents: dict[str, str] = {}
    for layer in layout_json(layout, image["digest"])["layers"]:
        with tarfile.open(layout_blob(layout, layer["digest"])) as tar:
            for member in tar:
                name = posixpath.normpath(member.name).lstrip("/")
                assert ".wh." not in name  # none in a Staves image; this reader would need them
                files.pop(name, None)
                links.pop(name, None)
                if member.issym():
                    links[name] = member.linkname
                elif member.isreg():
                    files[name] = member.size
                    parts = name.split("/")
                    if name.startswith(VDB + "/") and parts[-1] == "CONTENTS":
                        data = tar.extractfile(member)
                        assert data is not None
                        contents["/".join(parts[3:5])] = data.read().decode()
    return files, links, contents


def _resolve(path: str, links: dict[str, str]) -> str:
    """``path`` with the directory symlinks above it followed, as the kernel would."""
    parts = path.strip("/").split("/")
    done: list[str] = []
    hops = 0
    for part in parts[:-1]:
        head = "/".join([*done, part])
        if head not in links:
            done.append(part)
            continue
        hops += 1
        assert hops < 40, f"symlink loop at {head}"
        target = links[head]
        joined = (
            target if target.startswith("/") else posixpath.join(posixpath.dirname(head), target)
        )
        done = [p for p in posixpath.normpath("/" + joined).split("/") if p]
    return "/".join([*done, parts[-1]])


def expected_package_bytes(layout: Path) -> dict[str, int]:
    """Bytes of each package's files in the image: CONTENTS ``obj`` lines, found in the
    final tree. Packages without a byte there get no box."""
    files, links, contents = _final_tree(layout)
    out = {}
    for key, text in contents.items():
        paths = {
            _resolve(line.split(" ")[1], links)
            for line in text.splitlines()
            if line.startswith("obj ")
        }
        total = sum(files.get(p, 0) for p in paths)
        if total:
            out[key] = total
    return out


def boxes(browser) -> dict[str, int]:
    found = json.loads(
        browser.evaluate(
            "JSON.stringify(Array.from(document.querySelectorAll('#treemap rect.pkg'))"
            ".filter(r => r.dataset.package).map(r => [r.dataset.package, +r.dataset.bytes]))"
        )
    )
    assert len(found) == len({key for key, _ in found}), "one box per package"
    return dict(found)


@pytest.mark.browser
def test_the_report_page_in_chromium(builds: tuple[Build, Build], tmp_path: Path) -> None:
    a, b = builds
    page = tmp_path / "report.html"
    proc = staves("inspect", source(b), "--format", "html", "-o", page)
    assert proc.returncode == 0, proc.stderr
    diff_page = tmp_path / "diff.html"
    proc = staves("diff", source(a), source(b), "--format", "html", "-o", diff_page)
    assert proc.returncode == 1, proc.stderr
    expected = expected_package_bytes(b.layout)
    assert "app-misc/motd-1.1" in expected and "sys-libs/glibc-2.36-r1" in expected
    with chromium() as browser:
        load(browser, page)
        assert browser.evaluate("performance.getEntriesByType('resource').length") == 0
        assert boxes(browser) == expected
        largest = browser.evaluate("document.querySelector('table.files td').textContent")
        assert largest.startswith("/usr/lib")  # the C library, the biggest file here
        browser.screenshot(ARTIFACTS / "inspect-report.png")
        page_log = browser.log()

        load(browser, diff_page)
        status = json.loads(
            browser.evaluate(
                "JSON.stringify(Object.fromEntries(Object.entries(JSON.parse("
                "document.getElementById('data').textContent).packages)"
                ".filter(([k, p]) => p.status).map(([k, p]) => [k, p.status])))"
            )
        )
        assert status == {"app-misc/motd-1.1": "changed", "app-misc/hello-1.0": "changed"}
        assert boxes(browser) == expected
        browser.screenshot(ARTIFACTS / "diff-report.png")
        diff_log = browser.log()
    for log, shown in ((page_log, page), (diff_log, diff_page)):
        assert log.console_errors == []
        assert log.requests == [shown.resolve().as_uri()]
