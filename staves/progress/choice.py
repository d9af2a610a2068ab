"""How the user asked a command to show its progress (``--progress``, ``-q``, ``-v``): set by
the command line's global options, before or after the command's name."""

from dataclasses import dataclass

# buildx's words: auto is tty on a terminal, plain elsewhere.
MODES = ("auto", "tty", "plain", "quiet")


@dataclass
class Choice:
    progress: str = "auto"
    quiet: bool = False  # -q, whatever --progress says
    verbose: bool = False  # the builder's own output (emerge's) streamed too

    @property
    def mode(self) -> str:
        return "quiet" if self.quiet else self.progress


CHOICE = Choice()


def reset() -> None:
    """As if nothing was asked (each command line starts so)."""
    CHOICE.progress, CHOICE.quiet, CHOICE.verbose = "auto", False, False
