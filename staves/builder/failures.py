"""What went wrong in a failed emerge, named from Portage's own words: the package whose
build log is newest, and for a fetch, the file that could not be downloaded or verified;
for a user patch, which hunks did not apply."""

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
    """Name the failing package (and file, for a fetch) and show the end of its build log."""
    log = newest_build_log(tmpdir)
    if log is None:
        fail("emerge failed; see its output above")
        return code
    package = f"{log.parents[2].name}/{log.parents[1].name}"
    text = log.read_text(errors="replace")
    problem = fetch_problem(text) or patch_problem(text)
    what = f"{package}: {problem}" if problem else f"emerge failed for {package}"
    fail(f"{what}; the end of its build log:")
    for line in text.splitlines()[-30:]:
        print(f"    {line}", flush=True)
    return code
