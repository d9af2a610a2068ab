"""The Gentoo repository's own SPDX mapping, ``metadata/license-mapping.conf``, inverted.

The file maps SPDX ids to Gentoo license names, one ``SPDX = Gentoo`` line each under
``[spdx-to-ebuild]`` (keys ``ID[+] [WITH EXCEPTION]``, values LICENSE terms). The SBOM
needs the other direction. Several SPDX ids often name one Gentoo license (``GPL-2.0``,
``GPL-2.0-only`` → ``GPL-2``); the SBOM takes the current SPDX form over the deprecated
ones (a bare GNU id, ``+``, an exception folded into the id), then the shortest, then the
first in the file. Values with more than one license cannot be inverted and are skipped.
Pure.
"""

import configparser
import re
from collections.abc import Mapping

MAPPING_FILE = "metadata/license-mapping.conf"
SECTION = "spdx-to-ebuild"

# SPDX ids the SPDX license list deprecated: bare GNU ids (GPL-2.0 instead of GPL-2.0-only
# or -or-later), the "+" suffix and exceptions folded into the id (GPL-2.0-with-…).
_DEPRECATED = re.compile(r"^(?:A?L?GPL|GFDL)-\d\.\d$|\+$|-with-", re.IGNORECASE)
_SINGLE_LICENSE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9+_.-]*$")


class LicenseMappingError(ValueError):
    """A license-mapping.conf that is not the INI file Gentoo keeps."""


def parse_license_mapping(text: str) -> list[tuple[str, str]]:
    """The ``(SPDX, Gentoo)`` pairs of ``[spdx-to-ebuild]``, in the file's order."""
    parser = configparser.ConfigParser(
        delimiters=("=",), comment_prefixes=("#",), interpolation=None, strict=False
    )
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # SPDX ids keep their case
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        raise LicenseMappingError(" ".join(str(exc).split())) from None
    if not parser.has_section(SECTION):
        raise LicenseMappingError(f"it has no [{SECTION}] section")
    return [(" ".join(k.split()), " ".join(v.split())) for k, v in parser.items(SECTION)]


def _preference(spdx: str, position: int) -> tuple[int, int, int]:
    license_id = spdx.split(" WITH ", 1)[0]
    return (bool(_DEPRECATED.search(license_id)), len(spdx), position)


def gentoo_to_spdx_table(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Gentoo license name → the SPDX expression the SBOM writes for it."""
    best: dict[str, tuple[tuple[int, int, int], str]] = {}
    for position, (spdx, gentoo) in enumerate(pairs):
        if not _SINGLE_LICENSE.match(gentoo) or not spdx:
            continue
        rank = _preference(spdx, position)
        if gentoo not in best or rank < best[gentoo][0]:
            best[gentoo] = (rank, spdx)
    return {gentoo: spdx for gentoo, (_, spdx) in sorted(best.items())}


def table_from_file(text: str) -> Mapping[str, str]:
    """The inverted table of a license-mapping.conf's text."""
    return gentoo_to_spdx_table(parse_license_mapping(text))
