"""Gentoo LICENSE expressions as SPDX license expressions.

Gentoo writes ``LGPL-2.1+ || ( MIT GPL-2 ) ssl? ( openssl )``: names side by side all
apply (AND), ``|| ( … )`` offers a choice (OR), and ``flag? ( … )`` / ``!flag? ( … )``
apply when the package was built with / without ``flag``. Gentoo license names that have
an SPDX identifier are translated; the others become ``LicenseRef-Gentoo-NAME``.
"""

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

# Gentoo license name → SPDX expression (an id, or "id WITH exception"): the fallback for
# repositories without metadata/license-mapping.conf (see staves.gentoo.license_mapping).
GENTOO_TO_SPDX = {
    "AGPL-3": "AGPL-3.0-only",
    "AGPL-3+": "AGPL-3.0-or-later",
    "Apache-1.1": "Apache-1.1",
    "Apache-2.0": "Apache-2.0",
    "Apache-2.0-with-LLVM-exceptions": "Apache-2.0 WITH LLVM-exception",
    "Artistic": "Artistic-1.0-Perl",
    "Artistic-2": "Artistic-2.0",
    "BSD": "BSD-3-Clause",
    "BSD-1": "BSD-1-Clause",
    "BSD-2": "BSD-2-Clause",
    "BSD-4": "BSD-4-Clause",
    "BSL-1.1": "BSL-1.0",
    "Boost-1.0": "BSL-1.0",
    "BZIP2": "bzip2-1.0.6",
    "CC0-1.0": "CC0-1.0",
    "CC-BY-3.0": "CC-BY-3.0",
    "CC-BY-4.0": "CC-BY-4.0",
    "CC-BY-SA-3.0": "CC-BY-SA-3.0",
    "CC-BY-SA-4.0": "CC-BY-SA-4.0",
    "curl": "curl",
    "EPL-1.0": "EPL-1.0",
    "EPL-2.0": "EPL-2.0",
    "FDL-1.1": "GFDL-1.1-only",
    "FDL-1.1+": "GFDL-1.1-or-later",
    "FDL-1.2": "GFDL-1.2-only",
    "FDL-1.2+": "GFDL-1.2-or-later",
    "FDL-1.3": "GFDL-1.3-only",
    "FDL-1.3+": "GFDL-1.3-or-later",
    "FTL": "FTL",
    "GPL-1": "GPL-1.0-only",
    "GPL-1+": "GPL-1.0-or-later",
    "GPL-2": "GPL-2.0-only",
    "GPL-2+": "GPL-2.0-or-later",
    "GPL-2-with-font-exception": "GPL-2.0-only WITH Font-exception-2.0",
    "GPL-3": "GPL-3.0-only",
    "GPL-3+": "GPL-3.0-or-later",
    "GPL-3-with-autoconf-exception": "GPL-3.0-only WITH Autoconf-exception-3.0",
    "HPND": "HPND",
    "icu": "ICU",
    "ISC": "ISC",
    "LGPL-2": "LGPL-2.0-only",
    "LGPL-2+": "LGPL-2.0-or-later",
    "LGPL-2.1": "LGPL-2.1-only",
    "LGPL-2.1+": "LGPL-2.1-or-later",
    "LGPL-3": "LGPL-3.0-only",
    "LGPL-3+": "LGPL-3.0-or-later",
    "libpng": "Libpng",
    "libpng2": "libpng-2.0",
    "libtiff": "libtiff",
    "MIT": "MIT",
    "MIT-0": "MIT-0",
    "MPL-1.0": "MPL-1.0",
    "MPL-1.1": "MPL-1.1",
    "MPL-2.0": "MPL-2.0",
    "NCSA": "NCSA",
    "UoI-NCSA": "NCSA",
    "OFL-1.1": "OFL-1.1",
    "openssl": "OpenSSL",
    "OpenSSL": "OpenSSL",
    "PHP-3.01": "PHP-3.01",
    "PSF-2": "PSF-2.0",
    "Ruby": "Ruby",
    "Sleepycat": "Sleepycat",
    "SSLeay": "SSLeay-standalone",
    "Unicode-3.0": "Unicode-3.0",
    "unicode": "Unicode-DFS-2016",
    "Unicode-DFS-2016": "Unicode-DFS-2016",
    "Unlicense": "Unlicense",
    "Vim": "Vim",
    "W3C": "W3C",
    "WTFPL-2": "WTFPL",
    "X11": "X11",
    "ZLIB": "Zlib",
    "ZPL": "ZPL-2.1",
    "0BSD": "0BSD",
}
NOASSERTION = "NOASSERTION"
REF_PREFIX = "LicenseRef-Gentoo-"

_CONDITION = re.compile(r"^(!?)([A-Za-z0-9][A-Za-z0-9+_@-]*)\?$")


class LicenseSyntaxError(ValueError):
    pass


@dataclass(frozen=True)
class _Node:
    op: str  # "AND", "OR" or "" for a single license
    items: tuple["_Node", ...] = ()
    name: str = ""


def _parse(
    tokens: list[str], pos: int, use: Collection[str], closing: bool
) -> tuple[list[_Node], int]:
    """Terms up to the matching ')' (when ``closing``) or the end; USE conditions resolved."""
    items: list[_Node] = []
    while pos < len(tokens):
        token = tokens[pos]
        if token == ")":
            if not closing:
                raise LicenseSyntaxError("unbalanced ')'")
            return items, pos + 1
        if token == "||" or _CONDITION.match(token):
            if pos + 1 >= len(tokens) or tokens[pos + 1] != "(":
                raise LicenseSyntaxError(f"{token!r} must be followed by '('")
            inner, pos = _parse(tokens, pos + 2, use, True)
            if token == "||":
                if inner:
                    items.append(_Node("OR", tuple(inner)))
                continue
            match = _CONDITION.match(token)
            assert match is not None
            negated, flag = match[1] == "!", match[2]
            if (flag in use) != negated:
                items.extend(inner)
            continue
        if token == "(":
            inner, pos = _parse(tokens, pos + 1, use, True)
            items.append(_Node("AND", tuple(inner)))
            continue
        items.append(_Node("", name=token))
        pos += 1
    if closing:
        raise LicenseSyntaxError("missing ')'")
    return items, pos


def license_ref(name: str) -> str:
    """The LicenseRef for a Gentoo license without an SPDX id."""
    return REF_PREFIX + re.sub(r"[^A-Za-z0-9.-]", "-", name)


@dataclass(frozen=True)
class SpdxLicense:
    expression: str  # an SPDX license expression, or NOASSERTION
    refs: dict[str, str]  # LicenseRef id → the Gentoo license name it stands for


def _render(node: _Node, refs: dict[str, str], top: bool, table: Mapping[str, str]) -> str:
    if not node.op:
        spdx = table.get(node.name)
        if spdx is None:
            spdx = license_ref(node.name)
            refs[spdx] = node.name
        return spdx
    parts: list[str] = []
    for item in node.items:
        text = _render(item, refs, False, table)
        if text not in parts:
            parts.append(text)
    if len(parts) == 1:  # its items all read the same: the group is that one item
        return _render(node.items[0], refs, top, table)
    joined = f" {node.op} ".join(parts)
    return joined if top else f"({joined})"


def _simplify(node: _Node) -> _Node | None:
    if not node.op:
        return node
    items = tuple(s for s in (_simplify(i) for i in node.items) if s is not None)
    if not items:
        return None
    if len(items) == 1:
        return items[0]
    return _Node(node.op, items)


def gentoo_to_spdx(
    license_text: str, use: Collection[str] = (), table: Mapping[str, str] | None = None
) -> SpdxLicense:
    """The SPDX expression for a Gentoo LICENSE value, given the package's enabled USE;
    names are looked up in ``table`` (the repository's mapping), else the built-in one."""
    tokens = license_text.split()
    items, _ = _parse(tokens, 0, frozenset(use), False)
    node = _simplify(_Node("AND", tuple(items)))
    if node is None:
        return SpdxLicense(NOASSERTION, {})
    refs: dict[str, str] = {}
    return SpdxLicense(_render(node, refs, True, GENTOO_TO_SPDX if table is None else table), refs)
