"""The atom grammar, on examples and against Portage where it is importable."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from staves.spec.atom import AtomError, parse_atom
from staves.spec.read_packages import atom_problem
from tests.portage_support import requires_portage
from tests.strategies import atoms

VALID = [
    ("app-shells/bash", {"cp": "app-shells/bash"}),
    ("=dev-libs/foo-1.2", {"operator": "=", "version": "1.2"}),
    (">=dev-libs/foo-1.2.3a_rc4_p2-r5", {"operator": ">=", "version": "1.2.3a_rc4_p2-r5"}),
    ("<dev-libs/foo-2", {"operator": "<"}),
    ("~dev-libs/foo-1.0", {"operator": "~", "version": "1.0"}),
    ("=dev-libs/foo-1*", {"wildcard": True}),
    ("dev-libs/foo:3", {"slot": "3"}),
    ("dev-libs/foo:3/4.1", {"slot": "3", "subslot": "4.1"}),
    ("dev-libs/foo::gentoo", {"repo": "gentoo"}),
    ("=dev-libs/foo-bar-1-r1:2::my_repo", {"package": "foo-bar", "version": "1-r1"}),
    ("dev-libs/foo-bar-1-x", {"package": "foo-bar-1-x"}),
    (
        "dev-libs/foo[ssl,-nls,gui?,!doc=,x(+)]",
        {"use_deps": ("ssl", "-nls", "gui?", "!doc=", "x(+)")},
    ),
    ("!!dev-libs/foo", {"blocker": "!!"}),
    ("dev-libs/foo:=", {"slot_operator": "="}),
]

INVALID = [
    "bash",
    "dev-libs/foo-1",
    "=dev-libs/foo",
    ">=dev-libs/foo-1*",
    "~dev-libs/foo-1-r1",
    "dev-libs/-foo",
    "dev-libs/+foo",
    ".dev/foo",
    "dev-libs/foo.bar",
    "=dev-libs/foo-1.a",
    "dev-libs/foo:",
    "dev-libs/foo:-1",
    "dev-libs/foo::-bad",
    "dev-libs/foo::bad-1",
    "dev-libs/foo[bar,]",
    "dev-libs/é",
    "dev-libs/foo bar",
    "",
]


@pytest.mark.parametrize(("text", "expected"), VALID)
def test_valid_atoms_parse(text: str, expected: dict[str, object]) -> None:
    atom = parse_atom(text)
    assert str(atom) == text
    for attribute, value in expected.items():
        assert getattr(atom, attribute) == value


@pytest.mark.parametrize("text", INVALID)
def test_invalid_atoms_raise(text: str) -> None:
    with pytest.raises(AtomError):
        parse_atom(text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("!dev-libs/foo", "blocker"),
        ("dev-libs/foo[x]", "USE dependencies"),
        ("dev-libs/foo:=", "slot operator"),
        ("dev-libs/foo:*", "slot operator"),
    ],
)
def test_staves_refuses_atom_forms_it_cannot_use(text: str, reason: str) -> None:
    assert reason in (atom_problem(text) or "")


@given(atoms())
def test_generated_atoms_are_accepted(text: str) -> None:
    assert atom_problem(text) is None


@requires_portage
@given(atoms())
def test_generated_atoms_agree_with_portage(text: str) -> None:
    from portage.dep import Atom

    ours, theirs = parse_atom(text), Atom(text)
    assert ours.cp == theirs.cp
    assert ours.version == theirs.version
    assert ours.slot == theirs.slot
    assert ours.subslot == theirs.sub_slot
    assert ours.repo == theirs.repo


@requires_portage
@given(st.text(alphabet="ab1-_.+:/=<>~*![],?@()", max_size=20))
def test_whatever_we_accept_portage_accepts(text: str) -> None:
    from portage.dep import Atom
    from portage.exception import InvalidAtom

    try:
        ours = parse_atom(text)
    except AtomError:
        return
    try:
        theirs = Atom(text)
    except InvalidAtom:
        pytest.fail(f"we accept {text!r}, Portage does not")
    assert ours.cp == theirs.cp
    assert ours.version == theirs.version
