"""Dependency specifications (PMS 8.2) as Portage records them: ``RDEPEND`` and ``SRC_URI``.

Both are token lists with groups: ``flag? ( … )`` and ``!flag? ( … )`` apply when the
package was built with (without) the flag, ``|| ( … )`` is any one of its members, and
SRC_URI's ``URI -> NAME`` saves a download under another name. The package database
keeps RDEPEND with the USE conditionals already evaluated; the SRC_URI of the saved build
environment is as the ebuild wrote it. Pure: no Portage.
"""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from staves.gentoo.atom import AtomError, parse_atom


@dataclass(frozen=True)
class AnyOf:
    """``|| ( … )``: one of the members is enough."""

    members: tuple["Node", ...]


Node = str | AnyOf


def _reduced(tokens: Sequence[str], start: int, use: frozenset[str]) -> tuple[list[Node], int]:
    """The nodes from ``start`` up to the matching ``)`` (or the end), conditionals
    evaluated; and where reading stopped."""
    out: list[Node] = []
    i = start
    while i < len(tokens):
        token = tokens[i]
        if token == ")":
            return out, i + 1
        if token == "||" and i + 1 < len(tokens) and tokens[i + 1] == "(":
            members, i = _reduced(tokens, i + 2, use)
            out.append(AnyOf(tuple(members)))
            continue
        if token.endswith("?") and i + 1 < len(tokens) and tokens[i + 1] == "(":
            members, i = _reduced(tokens, i + 2, use)
            flag = token[:-1]
            wanted = flag[1:] not in use if flag.startswith("!") else flag in use
            if wanted:
                out.extend(members)
            continue
        if token == "(":
            members, i = _reduced(tokens, i + 1, use)
            out.extend(members)
            continue
        out.append(token)
        i += 1
    return out, i


def reduce_use(text: str, use: Iterable[str] = ()) -> list[Node]:
    """The tokens of ``text`` with ``flag?`` groups kept or dropped as ``use`` says,
    plain groups flattened and ``|| ( … )`` kept as AnyOf."""
    nodes, _ = _reduced(text.split(), 0, frozenset(use))
    return nodes


def fetch_map(src_uri: str, use: Iterable[str] = ()) -> dict[str, list[str]]:
    """Distfile name → the URIs it is fetched from, in SRC_URI's order (as Portage's
    ``getFetchMap``)."""
    found: dict[str, list[str]] = {}
    tokens = [t for t in _flatten(reduce_use(src_uri, use))]
    i = 0
    while i < len(tokens):
        uri = tokens[i]
        if i + 2 < len(tokens) and tokens[i + 1] == "->":
            name, i = tokens[i + 2], i + 3
        else:
            name, i = uri.rstrip("/").rsplit("/", 1)[-1], i + 1
        if "://" in uri:
            found.setdefault(name, []).append(uri)
        else:
            found.setdefault(name, [])  # a bare name: only from the mirrors
    return found


def _flatten(nodes: Iterable[Node]) -> Iterator[str]:
    for node in nodes:
        if isinstance(node, AnyOf):
            yield from _flatten(node.members)
        else:
            yield node


def runtime_names(rdepend: str, installed: Iterable[str], use: Iterable[str] = ()) -> list[str]:
    """The ``CATEGORY/PN`` that ``rdepend`` names and ``installed`` (CATEGORY/PN) holds:
    blockers left out, of an any-of group the first member installed."""
    have = set(installed)
    out: list[str] = []

    def visit(nodes: Iterable[Node]) -> None:
        for node in nodes:
            if isinstance(node, AnyOf):
                chosen = next((m for m in node.members if _satisfied(m, have)), None)
                if chosen is not None:
                    visit([chosen])
                continue
            cp = _cp(node)
            if cp is not None and cp in have and cp not in out:
                out.append(cp)

    visit(reduce_use(rdepend, use))
    return out


def _satisfied(node: Node, have: set[str]) -> bool:
    if isinstance(node, AnyOf):
        return any(_satisfied(m, have) for m in node.members)
    return _cp(node) in have


def _cp(token: str) -> str | None:
    if token.startswith("!"):
        return None  # a blocker names what must not be installed
    try:
        return parse_atom(token).cp
    except AtomError:
        return None
