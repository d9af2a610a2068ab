"""Gentoo LICENSE → SPDX expressions, checked with the license-expression parser spdx-tools uses."""

import pytest
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
