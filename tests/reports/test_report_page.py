"""``staves inspect --format html``: the treemap's geometry, and the page in a real browser."""

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import example, given
from hypothesis import strategies as st

from oci.layout import write_layout
from staves.cli import main
from staves.commands.report_output import emit
from staves.reports.html import CSP, render_inspect_html
from staves.reports.treemap import Rect, squarify
from staves.sources.listing import read_image_contents
from tests.browser import chromium, load
from tests.conftest import PROJECT
from tests.sources.test_artifact_inspect import attach_sbom, make_image
from tests.sources.test_listing import LayerTars, layer
from tests.vdb_samples import GLIBC, HELLO, LIBGREET

ARTIFACTS = PROJECT / "test-artifacts"


@given(st.lists(st.integers(min_value=1, max_value=10**9), min_size=1, max_size=60))
@example([23936099, 1])  # a sliver box once rounded past the bottom edge
def test_treemap_boxes_fill_the_area_in_proportion_without_overlap(weights: list[int]) -> None:
    weights.sort(reverse=True)
    area = Rect(0, 0, 1200, 640)
    rects = squarify(weights, area)
    total = sum(weights)
    for weight, r in zip(weights, rects, strict=True):
        assert r.w * r.h == pytest.approx(weight / total * area.w * area.h, rel=1e-6, abs=1e-6)
        assert r.x >= -1e-6 and r.x + r.w <= area.w + 1e-6
        assert r.y >= -1e-6 and r.y + r.h <= area.h + 1e-6
    for i, p in enumerate(rects):
        for q in rects[i + 1 :]:
            overlap_w = min(p.x + p.w, q.x + q.w) - max(p.x, q.x)
            overlap_h = min(p.y + p.h, q.y + q.h) - max(p.y, q.y)
            assert overlap_w <= 1e-6 or overlap_h <= 1e-6


class Outside(HTMLParser):
    """Every element that could load something: external scripts, styles, images, fonts."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[tuple[str, str]] = []
        self.csp: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        for name in ("src", "href", "srcset", "action", "poster", "data"):
            if found.get(name):
                self.loads.append((tag, name))
        if tag == "link":
            self.loads.append((tag, "link"))
        if found.get("http-equiv") == "Content-Security-Policy":
            self.csp.append(found.get("content") or "")


def write_page(tmp_path: Path) -> Path:
    _, packages, packed, image = make_image(tmp_path, layers=4)
    layout = tmp_path / "layout"
    write_layout(image, layout, "v1")
    attach_sbom(image, packages, packed, layout)
    page = tmp_path / "report.html"
    result = CliRunner().invoke(
        main, ["inspect", f"oci:{layout}:v1", "--format", "html", "-o", str(page)]
    )
    assert result.exit_code == 0, result.output
    return page


def test_the_page_loads_nothing_and_forbids_loading(tmp_path: Path) -> None:
    text = write_page(tmp_path).read_text()
    parser = Outside()
    parser.feed(text)
    assert parser.loads == []
    assert parser.csp == [CSP]
    assert CSP.startswith("default-src 'none';")
    assert "@import" not in text and "url(" not in text and "@font-face" not in text


def test_a_page_that_cannot_be_written_leaves_the_old_one(tmp_path: Path) -> None:
    page = write_page(tmp_path)
    before = page.read_bytes()
    result = CliRunner().invoke(
        main, ["inspect", "oci:/nonexistent", "--format", "html", "-o", str(page)]
    )
    assert result.exit_code == 1 and "not an OCI layout" in result.output
    assert page.read_bytes() == before
    target = tmp_path / "dir"
    target.mkdir()
    layout = f"oci:{tmp_path / 'layout'}:v1"
    result = CliRunner().invoke(main, ["inspect", layout, "--format", "html", "-o", str(target)])
    assert result.exit_code == 2 and "is a directory" in result.output
    assert list(tmp_path.glob(".*.tmp")) == []


def boxes(browser) -> dict[str, int]:
    found = browser.evaluate(
        "JSON.stringify(Array.from(document.querySelectorAll('#treemap rect.pkg'))"
        ".filter(r => r.dataset.package).map(r => [r.dataset.package, +r.dataset.bytes]))"
    )
    pairs = json.loads(found)
    assert len(pairs) == len({key for key, _ in pairs}), "one box per package"
    return dict(pairs)


@pytest.mark.browser
def test_the_page_in_chromium(tmp_path: Path) -> None:
    page = write_page(tmp_path)
    with chromium() as browser:
        load(browser, page)
        assert browser.evaluate("performance.getEntriesByType('resource').length") == 0
        assert boxes(browser) == {
            p.key: sum(len(d) for d in p.files.values()) for p in (GLIBC, LIBGREET, HELLO)
        }
        # Clicking a box shows the package: version, USE, license and its files.
        browser.evaluate(
            "document.querySelector('rect.pkg[data-package=\"app-misc/hello-1.0-r1\"]')"
            ".dispatchEvent(new MouseEvent('click'))"
        )
        details = browser.evaluate("document.getElementById('details').innerText")
        assert "app-misc/hello 1.0-r1" in details
        assert "USE: ssl -test" in details
        assert "(MIT OR GPL-2.0-or-later) AND OpenSSL" in details
        assert "/usr/share/hello/a file with spaces.txt" in details
        browser.screenshot(ARTIFACTS / "inspect-sample.png")
        log = browser.log()
    assert log.console_errors == []
    assert log.requests == [page.resolve().as_uri()]


@pytest.mark.browser
def test_odd_file_names_stay_file_names(tmp_path: Path) -> None:
    hostile = "usr/share/</script><script>document.title='owned'</script>.txt"
    not_utf8 = "usr/share/caf\udce9"  # the byte 0xE9 alone, as tarfile reads it
    layers = LayerTars(layer((hostile, "file", b"x" * 5000), (not_utf8, "file", b"y" * 4000)))
    page = tmp_path / "odd.html"
    emit(render_inspect_html("odd", read_image_contents(layers)), page)
    with chromium() as browser:
        load(browser, page)
        assert browser.evaluate("document.title") == "odd: staves image report"
        cells = browser.evaluate(
            "Array.from(document.querySelectorAll('table.files td:first-child'))"
            ".map(td => td.textContent)"
        )
        log = browser.log()
    assert cells == ["/" + hostile, "/usr/share/caf\ufffd"]
    assert log.console_errors == []
