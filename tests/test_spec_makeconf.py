"""make.conf quoting: values read back unchanged by Portage's rules."""

import pytest
from hypothesis import example, given, settings

from staves.spec import render_portage
from staves.spec.makeconf import Unwritable, assignment, quote, references
from tests.makeconf_reader import expected_reading, read_make_conf
from tests.portage_support import portage_getconfig, requires_portage
from tests.spec_text import spec_of
from tests.strategies import make_conf_values


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
        ("-DX=\\$HOME", '"-DX=\\\\$HOME"'),
        ("\\${HOME}", '"\\\\${HOME}"'),
        ("it's \\$HOME", '"it\'s $HOME"'),
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
    ],
)
def test_unwritable_values(value: str, reason: str) -> None:
    with pytest.raises(Unwritable, match=reason.replace("$", r"\$").replace("{", r"\{")):
        quote(value)


def test_references_are_listed_in_order() -> None:
    assert references("${A} $B ${C}x $ \\$D \\${E}") == ("A", "B", "C")


@given(make_conf_values)
@example('it\'s "quoted" ${X}')
@example("'${X}")
@example("\\'$X")
@example("\\\"'")
@example("$")
@example("\\")
@example("\\$HOME")
@example("\\\\$X '\\$Y' \\${Z:-1}")
def test_round_trip_through_the_test_reader(value: str) -> None:
    if not writable(value):
        return
    assert read_make_conf(assignment("V", value) + "\n") == {"V": expected_reading(value, {})}


@given(make_conf_values)
def test_references_expand_to_earlier_values(value: str) -> None:
    if not writable(value):
        return
    known = {name: f"<{name}>" for name in references(value)}
    text = assignment("V", value) + "\n"
    assert read_make_conf(text, known)["V"] == expected_reading(value, known)


@requires_portage
@settings(deadline=None)
@given(make_conf_values)
@example('it\'s "quoted" ${X}')
@example("a\\\"b\\\\$c'd")
@example("-DX=\\$HOME")
@example("\\\\$X '\\$Y' \\${Z:-1}")
def test_round_trip_through_portage(value: str) -> None:
    if not writable(value):
        return
    known = {name: f"<{name}>" for name in references(value)}
    got = portage_getconfig(assignment("V", value) + "\n", known)
    assert got == {"V": expected_reading(value, known)}


@requires_portage
def test_escaped_dollar_reaches_portage_unexpanded() -> None:
    spec = spec_of("[env]\nCFLAGS = '-DX=\\$HOME ${HOME}'\n")
    text = render_portage(spec).append["/etc/portage/make.conf"]
    assert portage_getconfig(text, {"HOME": "/root"})["CFLAGS"] == "-DX=$HOME /root"
    assert read_make_conf(text, {"HOME": "/root"})["CFLAGS"] == "-DX=$HOME /root"
