"""Gentoo package atoms, per the Package Manager Specification (PMS 8.3) as Portage reads it.

Only the grammar lives here: no Portage, no files, no configuration. Where Portage
accepts more than PMS, this follows Portage (it is what reads the atoms); each such
place says so.
"""

import re
from dataclasses import dataclass

_CATEGORY = r"[A-Za-z0-9_][A-Za-z0-9+_.-]*"
_PACKAGE = r"[A-Za-z0-9_][A-Za-z0-9+_-]*"
_VERSION = r"[0-9]+(?:\.[0-9]+)*[a-z]?(?:_(?:alpha|beta|pre|rc|p)[0-9]*)*(?:-r[0-9]+)?"
_SLOT = r"[A-Za-z0-9_][A-Za-z0-9+_.-]*"
# PMS 3.1.5 also wants a repository name to be a valid package name (so not ending
# like "-1"); Portage, in atoms and repos.conf alike, does not.
_REPO = r"[A-Za-z0-9_][A-Za-z0-9_-]*"
_USE = r"[A-Za-z0-9][A-Za-z0-9+_@-]*"

VERSION_RE = re.compile(_VERSION)
_ENDS_LIKE_VERSION = re.compile(rf"-{_VERSION}$")
_OPERATORS = ("<=", ">=", "<", ">", "=", "~")

_BODY = re.compile(
    rf"(?P<category>{_CATEGORY})/(?P<rest>[^:\[]*)"
    rf"(?::(?P<slotpart>[^:\[]*))?"
    rf"(?:::(?P<repo>[^\[]*))?"
    rf"(?:\[(?P<use>.*)\])?"
)
_SLOT_PART = re.compile(rf"(?P<slot>{_SLOT})(?:/(?P<subslot>{_SLOT}))?(?P<op>=)?|(?P<bare>[*=])")
_USE_DEP = re.compile(rf"!?{_USE}(?:\([+-]\))?[?=]|-?{_USE}(?:\([+-]\))?")


class AtomError(ValueError):
    """The text is not an atom; ``str(error)`` says why, in a few words."""


@dataclass(frozen=True)
class Atom:
    """A parsed package dependency atom such as ``>=dev-libs/foo-1.2:3::gentoo``."""

    text: str
    category: str
    package: str
    operator: str | None = None
    version: str | None = None
    wildcard: bool = False
    slot: str | None = None
    subslot: str | None = None
    slot_operator: str | None = None
    repo: str | None = None
    use_deps: tuple[str, ...] = ()
    blocker: str | None = None

    @property
    def cp(self) -> str:
        """``category/package`` without version, slot or repository."""
        return f"{self.category}/{self.package}"

    def __str__(self) -> str:
        return self.text


def is_package_name(name: str) -> bool:
    """PMS 3.1.2: no hyphen-then-version suffix, no leading hyphen or plus."""
    return re.fullmatch(_PACKAGE, name) is not None and _ENDS_LIKE_VERSION.search(name) is None


def is_repository_name(name: str) -> bool:
    """PMS 3.1.5 as Portage reads it: letters, digits, ``_`` and ``-``, not first ``-``."""
    return re.fullmatch(_REPO, name) is not None


def parse_atom(text: str) -> Atom:
    """Parse ``text`` as a dependency atom or raise :class:`AtomError`."""
    rest = text
    blocker = None
    for mark in ("!!", "!"):
        if rest.startswith(mark):
            blocker, rest = mark, rest[len(mark) :]
            break
    operator = next((op for op in _OPERATORS if rest.startswith(op)), None)
    if operator:
        rest = rest[len(operator) :]
    body = _BODY.fullmatch(rest)
    if body is None:
        if "/" not in rest:
            raise AtomError("no category (an atom looks like category/package)")
        raise AtomError("malformed category")
    name, version, wildcard = _name_and_version(body["rest"], operator)
    slot = subslot = slot_op = None
    if body["slotpart"] is not None:
        slot, subslot, slot_op = _slot(body["slotpart"])
    repo = body["repo"]
    if repo is not None and not is_repository_name(repo):
        raise AtomError(f"bad repository name {_quoted(repo)}")
    use_deps: tuple[str, ...] = ()
    if body["use"] is not None:
        use_deps = tuple(body["use"].split(","))
        for dep in use_deps:
            if _USE_DEP.fullmatch(dep) is None:
                raise AtomError(f"bad USE dependency {_quoted(dep)}")
    return Atom(
        text=text,
        category=body["category"],
        package=name,
        operator=operator,
        version=version,
        wildcard=wildcard,
        slot=slot,
        subslot=subslot,
        slot_operator=slot_op,
        repo=repo,
        use_deps=use_deps,
        blocker=blocker,
    )


def _name_and_version(rest: str, operator: str | None) -> tuple[str, str | None, bool]:
    wildcard = rest.endswith("*")
    if wildcard:
        if operator != "=":
            raise AtomError("a trailing * needs the = operator")
        rest = rest[:-1]
    if operator is None:
        if not is_package_name(rest):
            raise AtomError(_bad_name(rest))
        return rest, None, False
    match = _ENDS_LIKE_VERSION.search(rest)
    if match is None:
        raise AtomError(f"operator {operator} needs a version, e.g. {operator}cat/pkg-1.0")
    # A revision is allowed after ~ too: PMS 8.3.1 has ~ ignore revisions, and Portage
    # accepts ~cat/pkg-1-r2 as matching any revision of 1.
    name, version = rest[: match.start()], match.group()[1:]
    if not is_package_name(name):
        raise AtomError(_bad_name(name))
    return name, version, wildcard


def _bad_name(name: str) -> str:
    if _ENDS_LIKE_VERSION.search(name):
        return "a version needs an operator such as = or >="
    return f"bad package name {_quoted(name)}"


def _slot(part: str) -> tuple[str | None, str | None, str | None]:
    match = _SLOT_PART.fullmatch(part)
    if match is None:
        raise AtomError(f"bad slot {_quoted(part)}")
    if match["bare"]:
        return None, None, match["bare"]
    return match["slot"], match["subslot"], match["op"]


def _quoted(part: str, limit: int = 40) -> str:
    """A part of the atom for the message, cut short; the whole atom is quoted beside it."""
    return repr(part if len(part) <= limit else part[: limit - 1] + "…")
