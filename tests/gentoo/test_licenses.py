"""Gentoo LICENSE → SPDX expressions, checked with the license-expression parser spdx-tools uses."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from license_expression import get_spdx_licensing

from staves.gentoo.licenses import LicenseSyntaxError, gentoo_to_spdx


@pytest.mark.parametrize(
    ("gentoo", "use", "spdx"),
    [
        ("GPL-2", (), "GPL-2.0-only"),
        ("GPL-2+", (), "GPL-2.0-or-later"),
        ("LGPL-2.1+ MIT", (), "LGPL-2.1-or-later AND MIT"),
        ("|| ( MIT GPL-2+ )", (), "MIT OR GPL-2.0-or-later"),
        ("BSD || ( MIT Apache-2.0 )", (), "BSD-3-Clause AND (MIT OR Apache-2.0)"),
        ("ZLIB ssl? ( openssl )", ("ssl",), "Zlib AND OpenSSL"),
        ("ZLIB ssl? ( openssl )", (), "Zlib"),
        ("ZLIB !ssl? ( GPL-3 )", (), "Zlib AND GPL-3.0-only"),
        ("|| ( ( MIT ISC ) GPL-2 )", (), "(MIT AND ISC) OR GPL-2.0-only"),
        ("MIT MIT", (), "MIT"),
        ("( MIT ISC ) ( MIT ISC )", (), "MIT AND ISC"),
        ("", (), "NOASSERTION"),
        ("doc? ( FDL-1.3 )", (), "NOASSERTION"),
        ("Apache-2.0-with-LLVM-exceptions", (), "Apache-2.0 WITH LLVM-exception"),
        ("inner-net", (), "LicenseRef-Gentoo-inner-net"),
        ("all-rights_reserved+", (), "LicenseRef-Gentoo-all-rights-reserved-"),
    ],
)
def test_translation(gentoo: str, use: tuple[str, ...], spdx: str) -> None:
    assert gentoo_to_spdx(gentoo, use).expression == spdx


def test_unmapped_names_are_listed_as_refs() -> None:
    result = gentoo_to_spdx("LGPL-2.1+ inner-net rc", ())
    assert result.refs == {"LicenseRef-Gentoo-inner-net": "inner-net", "LicenseRef-Gentoo-rc": "rc"}


@pytest.mark.parametrize("text", ["|| MIT", "( MIT", "MIT )", "ssl? MIT"])
def test_syntax_errors(text: str) -> None:
    with pytest.raises(LicenseSyntaxError):
        gentoo_to_spdx(text)


def test_every_result_parses_as_spdx() -> None:
    licensing = get_spdx_licensing()
    for text in ["LGPL-2.1+ BSD HPND ISC inner-net rc PCRE", "|| ( MIT ( GPL-2 BSD-2 ) ) ZLIB"]:
        expression = gentoo_to_spdx(text).expression
        parsed = (
            licensing.parse(expression, validate=True, strict=True)
            if "LicenseRef" not in expression
            else licensing.parse(expression)
        )
        assert parsed is not None


def test_every_mapped_name_is_a_known_spdx_expression() -> None:
    from staves.gentoo.licenses import GENTOO_TO_SPDX

    licensing = get_spdx_licensing()
    for gentoo, spdx in GENTOO_TO_SPDX.items():
        errors = licensing.validate(spdx).errors
        assert not errors, (gentoo, spdx, errors)


def _license_texts() -> st.SearchStrategy[str]:
    """Gentoo LICENSE values: mapped and unmapped names, all-of and any-of groups, USE
    conditionals, nested."""
    from staves.gentoo.licenses import GENTOO_TO_SPDX

    name = st.sampled_from([*sorted(GENTOO_TO_SPDX), "inner-net", "rc", "all-rights_reserved+"])

    def grouped(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        items = st.lists(inner, min_size=1, max_size=3).map(" ".join)
        head = st.sampled_from(["", "|| ", "ssl? ", "!doc? "])
        return st.tuples(head, items).map(lambda t: f"{t[0]}( {t[1]} )")

    item = st.recursive(name, grouped, max_leaves=8)
    return st.lists(item, min_size=1, max_size=4).map(" ".join)


@settings(max_examples=200, deadline=None)
@given(_license_texts(), st.sampled_from([(), ("ssl",), ("doc", "ssl")]))
def test_expressions_are_as_spdx_tools_writes_them(text: str, use: tuple[str, ...]) -> None:
    """The SBOM writes each expression as it comes: it must be the form spdx-tools' parser
    and writer give it back (its case, its parentheses), so that a reader that parses and
    writes the document again gets the same bytes."""
    from spdx_tools.common.spdx_licensing import spdx_licensing

    expression = gentoo_to_spdx(text, use).expression
    if expression != "NOASSERTION":
        assert str(spdx_licensing.parse(expression)) == expression
