"""The program's output and its subprocesses: every command it runs is said first (in the
build's log), and a failure is one record the host turns into its error."""

import shlex
import subprocess
import sys

from .events import record
from .protocol import FAILURE_MARK


def say(message: str) -> None:
    print(f">>> staves: {message}", file=sys.stderr, flush=True)


def fail(message: str) -> None:
    """The record the host names the failure from (up to its first semicolon), and the
    same words in the log."""
    print(f"{FAILURE_MARK}{message}", file=sys.stderr, flush=True)
    record("failed", message=message)


def run(argv: list[str], env: dict[str, str] | None = None) -> int:
    say("running " + " ".join(shlex.quote(a) for a in argv))
    return subprocess.run(argv, check=False, env=env).returncode


def capture(argv: list[str]) -> str:
    """A command's stdout, stripped; empty when it fails or is missing."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
    except OSError:
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""
