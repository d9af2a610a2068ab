"""Writing values so that Portage's make.conf reader gives them back unchanged.

Portage reads make.conf (and ``/etc/portage/env/*``) in two passes: a POSIX
shlex pass (double quotes; ``\\"`` and ``\\\\`` escapes) and then
``varexpand``, which expands ``${NAME}``/``$NAME``, removes the backslash of
``\\$`` and ``\\\\``, and stops expanding between single quotes.  The encoder
below mirrors that second pass so every value round-trips, and refuses what no
quoting can express: control characters, ``${`` starting no ``${NAME}``, and a
reference after an unpaired single quote.

In a value, ``${NAME}`` and ``$NAME`` are references for make.conf to expand and
``\\$`` is a literal ``$``, as in make.conf; every other character stands for
itself.
"""

import re

from staves.spec.names import control_character

REFERENCE = re.compile(
    r"\$\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)\}|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
)
ESCAPED_DOLLAR = "\\$"
_DOLLAR_OR_REFERENCE = re.compile(re.escape(ESCAPED_DOLLAR) + "|" + REFERENCE.pattern)


class Unwritable(ValueError):
    """The value cannot be written to make.conf; ``str(error)`` says why."""


def references(value: str) -> tuple[str, ...]:
    """Names of the variables ``value`` refers to, in order (not those after ``\\$``)."""
    matches = _DOLLAR_OR_REFERENCE.finditer(value)
    return tuple(m["braced"] or m["bare"] for m in matches if m.group() != ESCAPED_DOLLAR)


def quote(value: str) -> str:
    """``value`` as a double-quoted make.conf word; ``${NAME}`` stays a reference."""
    if char := control_character(value):
        raise Unwritable(f"contains the control character {char}")
    expanded = _escape_for_varexpand(value)
    return '"' + expanded.replace("\\", "\\\\").replace('"', '\\"') + '"'


def assignment(name: str, value: str) -> str:
    """One ``NAME="value"`` line, without newline."""
    return f"{name}={quote(value)}"


def _escape_for_varexpand(value: str) -> str:
    out: list[str] = []
    single = double = False
    pos = 0
    while pos < len(value):
        if value.startswith("${", pos) and REFERENCE.match(value, pos) is None:
            raise Unwritable("'${' must start a reference written ${NAME} (\\${ for a literal ${)")
        text, used = _in_single_quotes(value, pos) if single else _outside(value, pos)
        if used == 1:
            single, double = _quotes_after(value[pos], single, double)
        out.append(text)
        pos += used
    return "".join(out)


def _in_single_quotes(value: str, pos: int) -> tuple[str, int]:
    """Between single quotes varexpand copies every character and expands nothing."""
    if value.startswith(ESCAPED_DOLLAR, pos):
        return "$", 2
    if ref := REFERENCE.match(value, pos):
        raise Unwritable(f"make.conf does not expand {ref.group()} after an unpaired single quote")
    return value[pos], 1


def _outside(value: str, pos: int) -> tuple[str, int]:
    """What varexpand must see for the piece of ``value`` at ``pos``, and its length."""
    if value.startswith(ESCAPED_DOLLAR, pos):
        return ESCAPED_DOLLAR, 2
    if ref := REFERENCE.match(value, pos):
        return ref.group(), ref.end() - pos
    char = value[pos]
    if char == "$":
        return ESCAPED_DOLLAR, 1
    if char == "\\":
        following = value[pos + 1 : pos + 2]
        # varexpand copies a quote after an escaped backslash as is, not as a quote.
        return ("\\\\" + following, 2) if following in ("'", '"') else ("\\\\", 1)
    return char, 1


def _quotes_after(char: str, single: bool, double: bool) -> tuple[bool, bool]:
    """varexpand's quoting state after ``char``: a quote only counts outside the other."""
    if char == "'" and not double:
        return not single, double
    if char == '"' and not single:
        return single, not double
    return single, double
