"""Collecting every spec mistake before failing, each with its key path."""

import json
import re
from collections.abc import Iterable, Sequence

from staves.errors import EXIT_USAGE, StavesError

Path = tuple[str | int, ...]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def format_path(path: Path) -> str:
    """``('app-shells/bash', 'use', 0)`` → ``['app-shells/bash'].use[0]``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _BARE_KEY.fullmatch(part):
            text += f".{part}" if text else part
        elif "'" in part or not part.isprintable():
            text += f"[{json.dumps(part)}]"
        else:
            text += f"['{part}']"
    return text


def show(value: object, limit: int = 60) -> str:
    """A one-line, length-limited rendering of a user's value for a message."""
    text = printable(json.dumps(value, ensure_ascii=False, default=str))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def printable(text: str) -> str:
    """``text`` with every non-printable character escaped, so it stays one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class SpecErrors(StavesError):
    """All mistakes found in one spec; ``str()`` gives one line per mistake."""

    def __init__(self, errors: Sequence[StavesError]) -> None:
        first = errors[0]
        super().__init__(
            problem=first.problem,
            file=first.file,
            key=first.key,
            hint=first.hint,
            exit_code=EXIT_USAGE,
        )
        self.errors: tuple[StavesError, ...] = tuple(errors)

    def __str__(self) -> str:
        return "\n".join(str(error) for error in self.errors)


class Collector:
    """Gathers spec errors for one file; :meth:`check` raises them together."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.errors: list[StavesError] = []

    def add(self, path: Path, problem: str, hint: str) -> None:
        self.errors.append(
            StavesError(
                problem=printable(problem),
                file=self.file,
                key=format_path(path) or None,
                hint=printable(hint),
                exit_code=EXIT_USAGE,
            )
        )

    def extend(self, errors: Iterable[StavesError]) -> None:
        self.errors.extend(errors)

    def check(self) -> None:
        if self.errors:
            raise SpecErrors(self.errors)
