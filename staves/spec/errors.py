"""Collecting every spec mistake before failing, each with its key path."""

import json
import re
from collections.abc import Iterator, Sequence

from staves.errors import EXIT_USAGE, StavesError

Path = tuple[str | int, ...]

# Reading stops at this many mistakes: the report stays a few lines, and a spec of a
# million mistakes costs no more than one of ten.
MAX_ERRORS = 10
# A message quotes the user's text only this far: a key or value may be megabytes.
_MAX_QUOTED = 60
_MAX_PROBLEM = 300
_MAX_DECIMAL_BITS = 1000

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def format_path(path: Path) -> str:
    """``('app-shells/bash', 'use', 0)`` → ``['app-shells/bash'].use[0]``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
            continue
        part = clip(part, _MAX_QUOTED)
        if _BARE_KEY.fullmatch(part):
            text += f".{part}" if text else part
        elif "'" in part or not part.isprintable():
            text += f"[{json.dumps(part)}]"
        else:
            text += f"['{part}']"
    return text


def show(value: object, limit: int = _MAX_QUOTED) -> str:
    """A one-line, length-limited rendering of a user's value for a message."""
    return clip(printable(_json_start(value, limit + 1)), limit)


def clip(text: str, limit: int) -> str:
    """``text``, cut to ``limit`` characters with an ellipsis if it is longer."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def printable(text: str) -> str:
    """``text`` with every non-printable character escaped, so it stays one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _json_start(value: object, size: int) -> str:
    """``value`` as JSON, or its first ``size`` characters or more: walking no further
    keeps a huge or deeply nested value cheap (and Python's stack shallow)."""
    pieces: list[str] = []
    length = 0
    for piece in _json_pieces(value, size):
        pieces.append(piece)
        length += len(piece)
        if length >= size:
            break
    return "".join(pieces)


def _json_pieces(value: object, size: int) -> Iterator[str]:
    if isinstance(value, dict):
        yield "{"
        for index, (key, item) in enumerate(value.items()):
            yield (", " if index else "") + _json_scalar(key, size) + ": "
            yield from _json_pieces(item, size)
        yield "}"
    elif isinstance(value, list):
        yield "["
        for index, item in enumerate(value):
            if index:
                yield ", "
            yield from _json_pieces(item, size)
        yield "]"
    else:
        yield _json_scalar(value, size)


def _json_scalar(value: object, size: int) -> str:
    if isinstance(value, str):
        value = value[:size]
    elif isinstance(value, int) and value.bit_length() > _MAX_DECIMAL_BITS:
        return hex(value)  # Python refuses to write such an integer in decimal
    return json.dumps(value, ensure_ascii=False, default=str)


class SpecErrors(StavesError):
    """All mistakes found in one spec; ``str()`` gives one line per mistake."""

    def __init__(self, errors: Sequence[StavesError], stopped: bool = False) -> None:
        first = errors[0]
        super().__init__(
            problem=first.problem,
            file=first.file,
            key=first.key,
            hint=first.hint,
            exit_code=EXIT_USAGE,
        )
        self.errors: tuple[StavesError, ...] = tuple(errors)
        self.stopped = stopped  # reading stopped at MAX_ERRORS; there are more

    def __str__(self) -> str:
        lines = [str(error) for error in self.errors]
        if self.stopped:
            more = StavesError(
                f"stopped after {len(self.errors)} mistakes", self.file, hint="fix these first"
            )
            lines.append(str(more))
        return "\n".join(lines)


class Collector:
    """Gathers spec errors for one file; :meth:`check` raises them together."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.errors: list[StavesError] = []

    def add(self, path: Path, problem: str, hint: str) -> None:
        if len(self.errors) == MAX_ERRORS:
            raise SpecErrors(self.errors, stopped=True)
        self.errors.append(
            StavesError(
                problem=clip(printable(problem), _MAX_PROBLEM),
                file=self.file,
                key=format_path(path) or None,
                hint=printable(hint),
                exit_code=EXIT_USAGE,
            )
        )

    def check(self) -> None:
        if self.errors:
            raise SpecErrors(self.errors)
