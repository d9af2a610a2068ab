"""A small make.conf reader for tests, following Portage's rules.

Portage reads ``NAME="value"`` with POSIX shell double-quote rules (``\\"`` and
``\\\\`` escapes), then expands ``${NAME}``/``$NAME`` (``\\$`` is a literal
dollar, ``\\\\`` a backslash; nothing expands between single quotes).
``expand`` maps names to values; unknown references are kept as ``${NAME}``.
"""

import re

_ASSIGNMENT = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"\n')
_NAME = re.compile(r"[A-Za-z0-9_]+")
# What a spec value means: \$ a literal dollar, ${NAME} and $NAME references.
_SPEC_TOKEN = re.compile(r"\\\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def expected_reading(value: str, known: dict[str, str]) -> str:
    """What make.conf should give for spec ``value``: ``\\$`` a ``$``, references to
    ``known`` names expanded, others kept as ``${NAME}`` (as :func:`read_make_conf` does)."""

    def replace(match: re.Match[str]) -> str:
        name = match[1] or match[2]
        return "$" if name is None else known.get(name, "${" + name + "}")

    return _SPEC_TOKEN.sub(replace, value)


def read_make_conf(text: str, expand: dict[str, str] | None = None) -> dict[str, str]:
    """Variables assigned in ``text``, in order, each expanded with the earlier ones."""
    known = dict(expand or {})
    result: dict[str, str] = {}
    for line in text.splitlines(keepends=True):
        if not line.strip() or line.startswith("#"):
            continue
        match = _ASSIGNMENT.fullmatch(line)
        assert match, f"not an assignment: {line!r}"
        value = _expand(_unquote(match[2]), known)
        result[match[1]] = known[match[1]] = value
    return result


def _unquote(quoted: str) -> str:
    """Shell double-quote rules as shlex applies them: only \\" and \\\\ are escapes."""
    return re.sub(r'\\(["\\])|\\', lambda m: m[1] or "\\", quoted)


def _expand(text: str, known: dict[str, str]) -> str:
    out: list[str] = []
    single = double = False
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char == "'" and not double:
            single = not single
        elif char == '"' and not single:
            double = not double
        if single or char in "'\"" or char not in "\\$":
            out.append(char)
            pos += 1
            continue
        if char == "\\":
            following = text[pos + 1 : pos + 2]
            if following == "$":
                out.append("$")
            elif following == "\\":
                out.append("\\")
                after = text[pos + 2 : pos + 3]
                if after in ("'", '"', "$"):
                    out.append(after)
                    pos += 1
            else:
                out.append(char + following)
            pos += 2
            continue
        braced = text.startswith("${", pos)
        name = _NAME.match(text, pos + (2 if braced else 1))
        assert name, f"bad substitution at {text[pos:]!r}"
        end = name.end() + (1 if braced else 0)
        assert not braced or text[name.end()] == "}"
        out.append(known.get(name.group(), "${" + name.group() + "}"))
        pos = end
    return "".join(out)
