"""GLSA parsing and matching, checked against Portage's own glsa-check logic."""

import xml.dom.minidom

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from staves.gentoo.glsa import (
    RANGE_OPERATORS,
    Advisory,
    GlsaError,
    Installed,
    findings,
    parse_glsa,
)
from staves.gentoo.versions import parse_version, vercmp
from tests.portage_support import requires_portage

NUMBER = st.from_regex(r"\A(0|[1-9][0-9]{0,2}|0[0-9]{1,2})\Z")
SUFFIX = st.builds(
    lambda kind, n: f"_{kind}{n}",
    st.sampled_from(["alpha", "beta", "pre", "rc", "p"]),
    st.sampled_from(["", "0", "1", "2", "10"]),
)


@st.composite
def versions(draw: st.DrawFn, revision: bool = True) -> str:
    numbers = ".".join(draw(st.lists(NUMBER, min_size=1, max_size=4)))
    letter = draw(st.sampled_from(["", "a", "z"]))
    suffixes = "".join(draw(st.lists(SUFFIX, max_size=3)))
    rev = draw(st.sampled_from(["", "-r0", "-r1", "-r2", "-r10"])) if revision else ""
    return numbers + letter + suffixes + rev


def glsa_xml(ranges: list[tuple[str, str, str, str | None]], arch: str = "*") -> bytes:
    """A GLSA for app-misc/thing; ranges are (tag, range, version, slot)."""
    lines = []
    for tag, kind, version, slot in ranges:
        slotted = "" if slot is None else f' slot="{slot}"'
        lines.append(f'<{tag} range="{kind}"{slotted}>{version}</{tag}>')
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<!DOCTYPE glsa SYSTEM "http://www.gentoo.org/dtd/glsa.dtd">\n'
        '<glsa id="202611-99"><title>Thing: a flaw</title><synopsis>A flaw.</synopsis>'
        '<product type="ebuild">thing</product><announced>2026-11-01</announced>'
        '<revised count="1">2026-11-01</revised><bug>1</bug><access>remote</access>'
        f'<affected><package name="app-misc/thing" auto="yes" arch="{arch}">'
        + "".join(lines)
        + '</package></affected><impact type="high"><p>Bad.</p></impact></glsa>'
    ).encode()


def portage_says_affected(document: bytes, version: str, slot: str, arch: str) -> bool:
    """Portage's glsa-check decision (Glsa.isVulnerable) for one installed package."""
    from portage.dbapi.virtual import fakedbapi
    from portage.glsa import getMinUpgrade, makeAtom, match

    dom = xml.dom.minidom.parseString(document)
    (package,) = dom.getElementsByTagName("package")
    if package.getAttribute("arch") != "*" and arch not in package.getAttribute("arch").split():
        return False
    vulnerable = [makeAtom("app-misc/thing", v) for v in package.getElementsByTagName("vulnerable")]
    unaffected = [makeAtom("app-misc/thing", u) for u in package.getElementsByTagName("unaffected")]
    vardb, portdb = fakedbapi(), fakedbapi()
    vardb.cpv_inject(f"app-misc/thing-{version}", metadata={"SLOT": slot})
    return any(
        match(v, vardb) and getMinUpgrade(vulnerable, unaffected, portdb, vardb) is not None
        for v in vulnerable
    )


@requires_portage
@settings(max_examples=500, deadline=None)
@given(versions(), versions())
def test_versions_are_ordered_as_portage_orders_them(a: str, b: str) -> None:
    from portage.versions import vercmp as portage_vercmp

    theirs = portage_vercmp(a, b)
    assert theirs is not None
    assert vercmp(a, b) == (theirs > 0) - (theirs < 0)


@st.composite
def ranges(draw: st.DrawFn) -> tuple[str, str, str, str | None]:
    tag = draw(st.sampled_from(["vulnerable", "unaffected"]))
    kind = draw(st.sampled_from(sorted(RANGE_OPERATORS)))
    # The r* ranges name a revision; Portage compares revisions only then.
    version = draw(versions(revision=True))
    # Portage's glsa-check cannot read a slot on the r* ranges (pkgsplit of "…-r1:2"
    # fails); Staves reads one, and the oracle is asked only where it answers.
    slots = [None, "*"] if kind.startswith("r") else [None, "*", "0", "2", "2/2.1"]
    return tag, kind, version, draw(st.sampled_from(slots))


@requires_portage
@settings(max_examples=300, deadline=None)
@given(
    st.lists(ranges(), min_size=1, max_size=4),
    versions(),
    st.sampled_from(["0", "2", "2/2.1", "2/3"]),
    st.sampled_from(["*", "amd64", "x86 arm64"]),
)
def test_an_advisory_applies_where_portage_says_it_does(
    spec: list[tuple[str, str, str, str | None]], version: str, slot: str, arch: str
) -> None:
    document = glsa_xml(spec, arch)
    advisory = parse_glsa(document)
    ours = bool(findings([Installed("app-misc/thing", version, slot)], [advisory], "amd64"))
    assert ours == portage_says_affected(document, version, slot, "amd64")


def sample_advisory() -> Advisory:
    return parse_glsa(
        glsa_xml(
            [
                ("unaffected", "ge", "1.2", None),
                ("vulnerable", "lt", "1.2", None),
                ("unaffected", "rge", "1.0-r3", None),
            ]
        )
    )


def test_a_finding_names_the_advisory_package_and_ranges() -> None:
    advisory = sample_advisory()
    assert (advisory.id, advisory.title, advisory.severity) == (
        "202611-99",
        "Thing: a flaw",
        "high",
    )
    (found,) = findings([Installed("app-misc/thing", "1.0-r2", "0")], [advisory], "amd64")
    assert [str(r) for r in found.affected] == ["<1.2"]
    assert [str(r) for r in found.fixed] == [">=1.2", ">=~1.0-r3"]
    # The fixed revision, a later version, another package: not affected.
    assert not findings([Installed("app-misc/thing", "1.0-r3", "0")], [advisory], "amd64")
    assert not findings([Installed("app-misc/thing", "1.2", "0")], [advisory], "amd64")
    assert not findings([Installed("app-misc/other", "1.0", "0")], [advisory], "amd64")


def test_an_advisory_for_other_arches_does_not_apply() -> None:
    advisory = parse_glsa(glsa_xml([("vulnerable", "lt", "2", None)], arch="x86 arm64"))
    installed = [Installed("app-misc/thing", "1", "0")]
    assert not findings(installed, [advisory], "amd64")
    assert findings(installed, [advisory], "arm64")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (b"<glsa", "not XML"),
        (b"<advisory id='1'/>", "not a GLSA"),
        (glsa_xml([("vulnerable", "lower", "1", None)]), "range 'lower'"),
        (glsa_xml([("vulnerable", "lt", "1.x", None)]), "'1.x' is not a Gentoo version"),
    ],
)
def test_a_malformed_advisory_says_what_is_wrong(text: bytes, problem: str) -> None:
    with pytest.raises(GlsaError, match=problem):
        parse_glsa(text)


def test_versions_parse_as_pms_writes_them() -> None:
    version = parse_version("1.2.3b_rc4_p5-r6")
    assert (version.numbers, version.letter, version.revision) == (("1", "2", "3"), "b", 6)
    assert version.base == "1.2.3b_rc4_p5"
    assert vercmp("1.0_p1", "1.0") == 1 and vercmp("1.0_rc1", "1.0") == -1
