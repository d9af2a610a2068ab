"""The repository's license-mapping.conf, inverted for the SBOM, and the built-in fallback."""

import pytest

from staves.gentoo.license_mapping import (
    LicenseMappingError,
    gentoo_to_spdx_table,
    parse_license_mapping,
    table_from_file,
)
from staves.gentoo.licenses import gentoo_to_spdx

# Lines shaped like Gentoo's metadata/license-mapping.conf: several SPDX ids per license.
MAPPING = """\
# Mapping of SPDX-2.0 licenses to Gentoo repository licenses.
[spdx-to-ebuild]
Apache-2.0 WITH LLVM-exception = Apache-2.0-with-LLVM-exceptions
BSD-2-Clause = BSD-2
BSD-2-Clause-Views = BSD-2
GFDL-1.2 = FDL-1.2
GFDL-1.2-invariants-only = FDL-1.2
GFDL-1.2-only = FDL-1.2
GPL-2.0 = GPL-2
GPL-2.0+ = GPL-2+
GPL-2.0-only = GPL-2
GPL-2.0-or-later = GPL-2+
GPL-2.0-with-classpath-exception = GPL-2-with-classpath-exception
GPL-2.0-only WITH Classpath-exception-2.0 = GPL-2-with-classpath-exception
FSFAP = FSFAP
Multi-Thing = MIT BSD
"""


def test_the_mapping_is_inverted_preferring_current_spdx_ids() -> None:
    table = table_from_file(MAPPING)
    assert table == {
        "Apache-2.0-with-LLVM-exceptions": "Apache-2.0 WITH LLVM-exception",
        "BSD-2": "BSD-2-Clause",
        "FDL-1.2": "GFDL-1.2-only",
        "FSFAP": "FSFAP",
        "GPL-2": "GPL-2.0-only",
        "GPL-2+": "GPL-2.0-or-later",
        "GPL-2-with-classpath-exception": "GPL-2.0-only WITH Classpath-exception-2.0",
    }  # "MIT BSD" names two licenses: no single SPDX id stands for it


def test_the_sbom_uses_the_mapping_and_falls_back_to_the_built_in_table() -> None:
    table = table_from_file(MAPPING)
    assert gentoo_to_spdx("FSFAP GPL-2", table=table).expression == "FSFAP AND GPL-2.0-only"
    built_in = gentoo_to_spdx("FSFAP GPL-2")
    assert built_in.expression == "LicenseRef-Gentoo-FSFAP AND GPL-2.0-only"
    assert built_in.refs == {"LicenseRef-Gentoo-FSFAP": "FSFAP"}
    # A license the repository's mapping lacks is a LicenseRef, whatever the built-in says.
    assert gentoo_to_spdx("MIT", table=table).expression == "LicenseRef-Gentoo-MIT"


def test_keys_keep_their_case_and_order() -> None:
    pairs = parse_license_mapping("[spdx-to-ebuild]\nbzip2-1.0.6 = BZIP2\nICU = icu\n")
    assert pairs == [("bzip2-1.0.6", "BZIP2"), ("ICU", "icu")]
    assert gentoo_to_spdx_table(pairs) == {"BZIP2": "bzip2-1.0.6", "icu": "ICU"}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("MIT = MIT\n", "no section headers|File contains no section headers"),
        ("[other]\nMIT = MIT\n", "no \\[spdx-to-ebuild\\] section"),
    ],
)
def test_a_file_that_is_not_the_mapping_says_so(text: str, problem: str) -> None:
    with pytest.raises(LicenseMappingError, match=problem):
        parse_license_mapping(text)
