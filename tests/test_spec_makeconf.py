"""make.conf quoting: values read back unchanged by Portage's rules."""

import pytest
from hypothesis import example, given, settings

from staves.spec.makeconf import REFERENCE, Unwritable, assignment, quote, references
from tests.makeconf_reader import read_make_conf
from tests.portage_support import portage_getconfig, requires_portage
from tests.strategies import make_conf_values


def expected(value: str, known: dict[str, str]) -> str:
    """``value`` with references to ``known`` names expanded, others kept as ${NAME}."""

    def replace(match: object) -> str:
        name = match["braced"] or match["bare"]  # type: ignore[index]
        return known.get(name, "${" + name + "}")

    return REFERENCE.sub(replace, value)


def writable(value: str) -> bool:
    try:
        quote(value)
    except Unwritable:
        return False
    return True


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("plain", '"plain"'),
        ("${FEATURES} -ipc-sandbox", '"${FEATURES} -ipc-sandbox"'),
        ("$HOME", '"$HOME"'),
        ("cost $5", '"cost \\\\$5"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("a\\b", '"a\\\\\\\\b"'),
        ("", '""'),
    ],
)
def test_quote_examples(value: str, written: str) -> None:
    assert quote(value) == written


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("two\nlines", "control character"),
        ("tab\there", "control character"),
        ("${FOO:-x}", "reference written ${NAME}"),
        ("${", "reference written ${NAME}"),
        ("it's ${HOME}", "single quote"),
        ("\\${HOME}", "backslash"),
    ],
)
def test_unwritable_values(value: str, reason: str) -> None:
    with pytest.raises(Unwritable, match=reason.replace("$", r"\$").replace("{", r"\{")):
        quote(value)


def test_references_are_listed_in_order() -> None:
    assert references("${A} $B ${C}x $") == ("A", "B", "C")


@given(make_conf_values)
@example('it\'s "quoted" ${X}')
@example("'${X}")
@example("\\'$X")
@example("\\\"'")
@example("$")
@example("\\")
def test_round_trip_through_the_test_reader(value: str) -> None:
    if not writable(value):
        return
    assert read_make_conf(assignment("V", value) + "\n") == {"V": expected(value, {})}


@given(make_conf_values)
def test_references_expand_to_earlier_values(value: str) -> None:
    if not writable(value):
        return
    known = {name: f"<{name}>" for name in references(value)}
    text = assignment("V", value) + "\n"
    assert read_make_conf(text, known)["V"] == expected(value, known)


@requires_portage
@settings(deadline=None)
@given(make_conf_values)
@example('it\'s "quoted" ${X}')
@example("a\\\"b\\\\$c'd")
def test_round_trip_through_portage(value: str) -> None:
    if not writable(value):
        return
    known = {name: f"<{name}>" for name in references(value)}
    got = portage_getconfig(assignment("V", value) + "\n", known)
    assert got == {"V": expected(value, known)}
