"""Gentoo package versions and their order (PMS 3.2 and 3.3), as Portage compares them.

A version is ``1.2.3b_rc4_p5-r6``: dotted numbers, an optional letter, suffixes
(``_alpha`` < ``_beta`` < ``_pre`` < ``_rc`` < none < ``_p``, each with an optional
number) and an optional revision. Pure: no Portage needed.
"""

import re
from dataclasses import dataclass

SUFFIX_ORDER = {"alpha": 0, "beta": 1, "pre": 2, "rc": 3, "p": 5}
_NO_SUFFIX = 4  # between _rc and _p
_VERSION = re.compile(
    r"^(?P<numbers>\d+(?:\.\d+)*)(?P<letter>[a-z]?)"
    r"(?P<suffixes>(?:_(?:alpha|beta|pre|rc|p)\d*)*)(?:-r(?P<revision>\d+))?$",
    re.ASCII,
)
_SUFFIX = re.compile(r"_(alpha|beta|pre|rc|p)(\d*)", re.ASCII)


class VersionError(ValueError):
    """Not a Gentoo version."""


@dataclass(frozen=True)
class Version:
    """A parsed version; :func:`compare` orders two (``1.0-r0`` is ``1.0``)."""

    text: str
    numbers: tuple[str, ...]
    letter: str
    suffixes: tuple[tuple[int, int], ...]  # (order, number)
    revision: int

    @property
    def base(self) -> str:
        """The version without its revision: ``1.2-r3`` → ``1.2``."""
        return self.text.split("-r", 1)[0]


def parse_version(text: str) -> Version:
    match = _VERSION.match(text)
    if match is None:
        raise VersionError(f"{text!r} is not a Gentoo version")
    suffixes = tuple(
        (SUFFIX_ORDER[kind], int(number or 0))
        for kind, number in _SUFFIX.findall(match["suffixes"])
    )
    return Version(
        text,
        tuple(match["numbers"].split(".")),
        match["letter"],
        suffixes,
        int(match["revision"] or 0),
    )


def _sign(a: int | str, b: int | str) -> int:
    return (a > b) - (a < b)  # type: ignore[operator]


def _compare_numbers(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    # The first component is a number; later ones with a leading zero compare as
    # decimal fractions would (trailing zeros dropped, then as strings).
    if order := _sign(int(a[0]), int(b[0])):
        return order
    for left, right in zip(a[1:], b[1:], strict=False):
        if left.startswith("0") or right.startswith("0"):
            order = _sign(left.rstrip("0"), right.rstrip("0"))
        else:
            order = _sign(int(left), int(right))
        if order:
            return order
    return _sign(len(a), len(b))


def _compare_suffixes(a: tuple[tuple[int, int], ...], b: tuple[tuple[int, int], ...]) -> int:
    for i in range(max(len(a), len(b))):
        left = a[i] if i < len(a) else (_NO_SUFFIX, 0)
        right = b[i] if i < len(b) else (_NO_SUFFIX, 0)
        if order := _sign(left, right):
            return order
    return 0


def compare(a: Version, b: Version) -> int:
    """-1, 0 or 1 as ``a`` is older than, the same as or newer than ``b`` (PMS 3.3)."""
    return (
        _compare_numbers(a.numbers, b.numbers)
        or _sign(a.letter, b.letter)
        or _compare_suffixes(a.suffixes, b.suffixes)
        or _sign(a.revision, b.revision)
    )


def vercmp(a: str, b: str) -> int:
    """:func:`compare` of two version strings."""
    return compare(parse_version(a), parse_version(b))
