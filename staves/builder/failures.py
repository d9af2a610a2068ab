"""What went wrong in a failed emerge, named from Portage's own words: the package whose
build log is newest, for a fetch the file that could not be downloaded or verified, for a
user patch which hunks did not apply, and the lines of a build log that say why (the
compiler's error, not Portage's banner after it)."""

import glob
import os
import re
from pathlib import Path

from .console import fail
from .places import PORTAGE_TMPDIR
from .user_patches import patch_problem

_COLOUR = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_VERIFY_FAILED = re.compile(r"!!! Fetched file: (.+) VERIFY FAILED!")
_NOT_DOWNLOADED = re.compile(r"!!! Couldn't download '(.+)'\. Aborting\.")
_REASON = re.compile(r"!!! Reason: (.+)")
_DIGEST_FAILED = "!!! Digest verification failed:"
# Portage asks each mirror for its layout.conf first; a mirror without one is no failure.
_MIRROR_LAYOUT = ".layout.conf."


# Portage's banner after a phase died: " * ERROR: cat/pkg-1.0::repo failed (compile phase):".
_DIED = re.compile(r"^ \* ERROR: \S+ failed \((\w+) phase\):")
# What a compiler, linker, make or a shell says when it gives up.
_ERROR_WORDS = re.compile(
    r"\berror\b|\bError \d+|undefined reference|No such file|not found|fatal|\*\*\*",
    re.IGNORECASE,
)
EXCERPT_LINES = 12


def failure_excerpt(log_text: str, most: int = EXCERPT_LINES) -> list[str]:
    """The lines of a build log that say why it failed: from the first line of the last
    stretch that names an error up to Portage's banner, then the phase and die message;
    the last lines before the banner where none names one."""
    lines = [_COLOUR.sub("", line).rstrip() for line in log_text.splitlines()]
    died = max((n for n, line in enumerate(lines) if _DIED.match(line)), default=None)
    before = [line for line in lines[:died] if line.strip()][-40:]
    # Portage's own " * " lines before the banner (QA notices, einfo) say nothing of why.
    output = [line for line in before if not line.startswith((" * ", ">>> "))] or before
    first = next((n for n, line in enumerate(output) if _ERROR_WORDS.search(line)), None)
    shown = output[max(first - 1, 0) :] if first is not None else output[-8:]
    if len(shown) > most:
        shown = shown[: most - 1] + shown[-1:]
    if died is not None:
        match = _DIED.match(lines[died])
        reason = lines[died + 1].strip(" *") if died + 1 < len(lines) else ""
        phase = match[1] if match else "a"
        shown.append(f"(the {phase} phase died{': ' + reason if reason else ''})")
    return shown


def newest_build_log(tmpdir: str = PORTAGE_TMPDIR) -> Path | None:
    logs = glob.glob(f"{tmpdir}/*/*/temp/build.log")
    return Path(max(logs, key=os.path.getmtime)) if logs else None


def fetch_problem(log_text: str) -> str | None:
    """Which file failed to download or to match the Manifest, from Portage's messages."""
    lines = [_COLOUR.sub("", line).strip() for line in log_text.splitlines()]
    mismatched: dict[str, str] = {}  # file -> why it did not match
    for number, line in enumerate(lines):
        if match := _VERIFY_FAILED.fullmatch(line):
            mismatched[match[1]] = _reason(lines[number + 1 : number + 3])
        elif line == _DIGEST_FAILED and number + 1 < len(lines):
            name = os.path.basename(lines[number + 1].removeprefix("!!! "))
            return f"{name} does not match the Manifest ({_reason(lines[number + 2 :])})"
    for line in lines:
        match = _NOT_DOWNLOADED.fullmatch(line)
        if match and not match[1].startswith(_MIRROR_LAYOUT):
            name = match[1]
            if name in mismatched:
                return f"{name} does not match the Manifest ({mismatched[name]})"
            return f"{name} could not be downloaded (check the mirrors and the network)"
    return None


def _reason(lines: list[str]) -> str:
    for line in lines[:2]:
        if match := _REASON.fullmatch(line):
            return match[1].replace(";", ",")
    return "see the log above"


def report_failure(code: int, tmpdir: str = PORTAGE_TMPDIR) -> int:
    """Name the failing package (and file, for a fetch); the lines of its build log that
    say why went to the host as the package failed (``merge_events``)."""
    log = newest_build_log(tmpdir)
    if log is None:
        fail("emerge failed; see its output in the build's log")
        return code
    package = f"{log.parents[2].name}/{log.parents[1].name}"
    text = log.read_text(errors="replace")
    problem = fetch_problem(text) or patch_problem(text)
    fail(f"{package}: {problem}" if problem else f"emerge failed for {package}")
    return code
