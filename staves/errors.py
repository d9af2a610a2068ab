"""The one user-facing error type of Staves.

Library code raises it; only the CLI turns it into a message and an exit code.
"""

from dataclasses import dataclass

EXIT_FAILURE = 1
EXIT_USAGE = 2


@dataclass
class StavesError(Exception):
    """A mistake the user can fix, with where it is and what is accepted.

    Rendered as ``FILE: KEY: PROBLEM; HINT`` on one line.
    """

    problem: str
    file: str | None = None
    key: str | None = None
    hint: str | None = None
    exit_code: int = EXIT_FAILURE

    def __str__(self) -> str:
        parts = [p for p in (self.file, self.key) if p]
        text = ": ".join([*parts, self.problem])
        return f"{text}; {self.hint}" if self.hint else text


def error_line(exc: Exception) -> str:
    """The one line a failure is said with: spec errors start with the file they are about,
    others say who speaks."""
    located = isinstance(exc, StavesError) and exc.file
    return str(exc) if located else f"staves: error: {exc}"
