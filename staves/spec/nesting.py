"""How deeply a TOML text nests, measured before tomllib reads it.

tomllib recurses once per level of arrays and inline tables, so a few hundred levels
overflow Python's stack, and it takes time quadratic in the parts of a dotted key or
table header. A spec needs a handful of levels; texts beyond these limits are refused
before tomllib sees them.
"""

import re
from dataclasses import dataclass

MAX_NESTING = 32  # arrays and inline tables within each other
MAX_KEY_PARTS = 32  # parts of one dotted key or table header

# Strings and comments are skipped whole, so brackets and dots in them do not count;
# an unterminated one runs to the end of its line (or text), where tomllib will object.
_TOKEN = re.compile(
    r'"""(?:[^\\]|\\.)*?(?:"""""|""""|"""|\Z)'
    r"|'''.*?(?:'''''|''''|'''|\Z)"
    r'|"(?:[^"\\\n]|\\.)*"?'
    r"|'[^'\n]*'?"
    r"|#[^\n]*"
    r"|(?P<open>[\[{])|(?P<close>[\]}])|(?P<dot>\.)|(?P<separator>[=,\n])",
    re.DOTALL,
)


@dataclass(frozen=True)
class TooDeep:
    """Where a text goes past one of the limits, and which."""

    line: int
    problem: str


def nesting_problem(text: str) -> TooDeep | None:
    """The first place ``text`` nests deeper than the limits, if it does.

    A key's parts are the dots between two separators (``=``, ``,``, brackets, line
    ends): a value has at most one dot there (``1.5``), a key ``a.b.c`` two.
    """
    depth = dots = 0
    for token in _TOKEN.finditer(text):
        kind = token.lastgroup
        if kind == "dot":
            dots += 1
            if dots >= MAX_KEY_PARTS:
                return _at(text, token, f"a key has more than {MAX_KEY_PARTS} dotted parts")
            continue
        if kind is not None:
            dots = 0
        if kind == "open":
            depth += 1
            if depth > MAX_NESTING:
                return _at(text, token, f"arrays and inline tables nest over {MAX_NESTING} deep")
        elif kind == "close":
            depth = max(depth - 1, 0)
    return None


def _at(text: str, token: re.Match[str], problem: str) -> TooDeep:
    return TooDeep(line=text.count("\n", 0, token.start()) + 1, problem=problem)
