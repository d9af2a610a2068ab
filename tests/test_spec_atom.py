"""The atom grammar, on examples and against Portage where it is importable."""

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from staves.gentoo.atom import AtomError, parse_atom
from staves.spec.read_packages import atom_problem
from tests.portage_support import requires_portage
from tests.spec_text import spec_of
from tests.strategies import atom_candidates, atoms

VALID = [
    ("app-shells/bash", {"cp": "app-shells/bash"}),
    ("=dev-libs/foo-1.2", {"operator": "=", "version": "1.2"}),
    (">=dev-libs/foo-1.2.3a_rc4_p2-r5", {"operator": ">=", "version": "1.2.3a_rc4_p2-r5"}),
    ("<dev-libs/foo-2", {"operator": "<"}),
    ("~dev-libs/foo-1.0", {"operator": "~", "version": "1.0"}),
    ("~app-misc/foo-1.2.3_rc1-r2", {"operator": "~", "version": "1.2.3_rc1-r2"}),
    ("=dev-libs/foo-1*", {"wildcard": True}),
    ("dev-libs/foo:3", {"slot": "3"}),
    ("dev-libs/foo:3/4.1", {"slot": "3", "subslot": "4.1"}),
    ("dev-libs/foo::gentoo", {"repo": "gentoo"}),
    ("dev-libs/foo::overlay-2", {"repo": "overlay-2"}),
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
    "~dev-libs/foo-1*",
    "dev-libs/-foo",
    "dev-libs/+foo",
    ".dev/foo",
    "dev-libs/foo.bar",
    "=dev-libs/foo-1.a",
    "dev-libs/foo:",
    "dev-libs/foo:-1",
    "dev-libs/foo::-bad",
    "dev-libs/foo::bad.1",
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
@settings(deadline=None)  # the first example imports Portage
@given(atoms())
def test_generated_atoms_agree_with_portage(text: str) -> None:
    from portage.dep import Atom

    ours, theirs = parse_atom(text), Atom(text)
    assert ours.cp == theirs.cp
    assert ours.version == theirs.version
    assert ours.slot == theirs.slot
    assert ours.subslot == theirs.sub_slot
    assert ours.repo == theirs.repo


REFUSED_FORMS = ("blocker", "USE dependencies", "slot operator")


def portage_verdict(text: str) -> str:
    """Portage's verdict: valid, invalid, or the form Staves refuses in an atom it accepts."""
    from portage.dep import Atom, isvalidatom

    # EAPI None is Portage's newest grammar; build ids (=cat/pkg-1-7) and extended
    # wildcards (*/pkg) stay off, as isvalidatom has them by default.
    if not isvalidatom(text, allow_blockers=True, allow_repo=True):
        return "invalid"
    atom = Atom(text, allow_repo=True)
    if atom.blocker:
        return "blocker"
    if atom.use:
        return "USE dependencies"
    if atom.slot_operator:
        return "slot operator"
    return "valid"


def staves_verdict(text: str) -> str:
    """The same verdict from the message Staves gives for ``text`` in ``packages``."""
    problem = atom_problem(text)
    if problem is None:
        return "valid"
    if problem.startswith("is not a package atom"):
        return "invalid"
    return next(form for form in REFUSED_FORMS if form in problem)


@requires_portage
@settings(max_examples=500, deadline=None)
@given(st.one_of(atom_candidates(), st.text(alphabet="ab1-_.+:/=<>~*![],?@()", max_size=20)))
@example("~app-misc/foo-1.2.3_rc1-r2")
@example("dev-libs/foo::bad-1")
@example("!!dev-libs/foo[ssl,-ssl]")
def test_staves_accepts_what_portage_accepts(text: str) -> None:
    # Staves need not say why Portage refuses an atom (a blocker with conflicting
    # USE dependencies is refused as a blocker), only that it refuses it.
    ours, theirs = staves_verdict(text), portage_verdict(text)
    if theirs == "invalid":
        assert ours != "valid", f"Staves accepts {text!r}, Portage does not"
    else:
        assert ours == theirs, f"Portage: {theirs}, Staves: {ours} for {text!r}"


def test_tilde_takes_a_revision_in_a_spec() -> None:
    spec = spec_of(base='name = "x"\npackages = ["~app-misc/foo-1.2.3_rc1-r2"]\n')
    assert spec.packages == ("~app-misc/foo-1.2.3_rc1-r2",)
