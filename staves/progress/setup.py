"""A command's progress as the user asked for it: the screen for ``--progress`` on stderr,
and for a build its log file (``--log-file``, else one per build under the XDG state
directory, the last ``KEPT_LOGS`` of them kept)."""

import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TextIO

from staves.progress.choice import CHOICE, Choice
from staves.progress.live import LiveScreen
from staves.progress.reporter import Progress
from staves.progress.screens import LogScreen, PlainScreen, QuietScreen, Screen, Screens

KEPT_LOGS = 50


def terminal_screen(out: TextIO, choice: Choice, environ: Mapping[str, str]) -> Screen:
    """The screen ``--progress`` names: ``auto`` is the live view on a terminal (not a dumb
    one), plain lines elsewhere."""
    mode = choice.mode
    if mode == "quiet":
        return QuietScreen(out)
    live = mode == "tty" or (
        mode == "auto" and out.isatty() and environ.get("TERM", "") not in ("", "dumb")
    )
    if live:
        return LiveScreen(out, choice.verbose, force=mode == "tty")
    return PlainScreen(out, choice.verbose)


def logs_directory(environ: Mapping[str, str]) -> Path | None:
    """``$XDG_STATE_HOME/staves/logs``, else ``~/.local/state/staves/logs``."""
    base = environ.get("XDG_STATE_HOME") or (
        f"{environ['HOME']}/.local/state" if environ.get("HOME") else None
    )
    return Path(base) / "staves" / "logs" if base else None


def default_log_path(environ: Mapping[str, str], name: str, now: datetime) -> Path | None:
    """A new log file for a build of image ``name``, the oldest beyond ``KEPT_LOGS`` gone."""
    directory = logs_directory(environ)
    if directory is None:
        return None
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.") or "image"
    directory.mkdir(parents=True, exist_ok=True)
    old = sorted(directory.glob("build-*.log"))
    for stale in old[: max(0, len(old) - KEPT_LOGS + 1)]:
        stale.unlink(missing_ok=True)
    stamp = now.strftime("%Y%m%dT%H%M%S.%f")
    return directory / f"build-{stamp}-{safe[-60:]}.log"


def command_progress(out: TextIO, environ: Mapping[str, str], log: Path | None = None) -> Progress:
    """The command's progress on ``out`` (stderr) as asked, and into ``log`` when given."""
    screen = terminal_screen(out, CHOICE, environ)
    if log is None:
        return Progress(screen)
    log.parent.mkdir(parents=True, exist_ok=True)
    kept = LogScreen(log.open("w", encoding="utf-8"))
    return Progress(Screens(screen, kept), log_path=log, log=kept)
