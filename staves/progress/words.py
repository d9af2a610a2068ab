"""How times and sizes are written in every line Staves prints while it works."""

import re

# What terminals take as colours and cursor moves; never in a plain line or a log.
ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]|\r")


def plain(text: str) -> str:
    """``text`` without escape sequences (Portage's colours, a compiler's, carriage returns)."""
    return ANSI.sub("", text)


def clock(seconds: float) -> str:
    """Time since the start: ``12.3s``, ``2m13s``, ``1h02m``."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def took(seconds: float | None) -> str:
    """How long something took: ``0.4 s``, ``2m13s``."""
    if seconds is None:
        return "?"
    return f"{seconds:.1f} s" if seconds < 60 else clock(seconds)


def size(count: float) -> str:
    """Bytes as ``512 B``, ``3.1 MB``: decimal units, as podman prints them."""
    for unit in ("B", "kB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} GB"


def counted(number: int, thing: str, things: str | None = None) -> str:
    """``1 package``, ``3 packages``."""
    return f"{number} {thing if number == 1 else things or thing + 's'}"
