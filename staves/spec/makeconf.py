"""Writing values so that Portage's make.conf reader gives them back unchanged.

Portage reads make.conf (and ``/etc/portage/env/*``) in two passes: a POSIX
shlex pass (double quotes; ``\\"`` and ``\\\\`` escapes) and then
``varexpand``, which expands ``${NAME}``/``$NAME``, removes the backslash of
``\\$`` and ``\\\\``, and stops expanding between single quotes.  The encoder
below mirrors that second pass so every value round-trips, and refuses the two
things no quoting can express.
"""

import re

from staves.spec.names import control_character

REFERENCE = re.compile(
    r"\$\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)\}|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
)


class Unwritable(ValueError):
    """The value cannot be written to make.conf; ``str(error)`` says why."""


def references(value: str) -> tuple[str, ...]:
    """Names of the variables ``value`` refers to, in order."""
    return tuple(m["braced"] or m["bare"] for m in REFERENCE.finditer(value))


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
    in_single = in_double = False
    pos = 0
    while pos < len(value):
        char = value[pos]
        ref = REFERENCE.match(value, pos)
        if char == "$" and value.startswith("${", pos) and ref is None:
            raise Unwritable("'${' must start a reference written ${NAME}")
        if in_single:
            if ref:
                raise Unwritable(
                    f"make.conf does not expand {ref.group()} after an unpaired single quote"
                )
            in_single = char != "'"
            out.append(char)
            pos += 1
            continue
        if ref:
            out.append(ref.group())
            pos = ref.end()
            continue
        if char == "'":
            in_single = not in_double
            out.append(char)
        elif char == '"':
            in_double = not in_double
            out.append(char)
        elif char == "$":
            out.append("\\$")
        elif char == "\\":
            following = value[pos + 1 : pos + 2]
            if REFERENCE.match(value, pos + 1):
                raise Unwritable("make.conf cannot expand a reference right after a backslash")
            out.append("\\\\")
            if following in ("'", '"', "$"):
                # varexpand copies the character after an escaped backslash as is.
                out.append(following)
                pos += 1
        else:
            out.append(char)
        pos += 1
    return "".join(out)
