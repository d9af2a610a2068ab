"""The builder's output followed live to the end of its build: the lines shown as they
come, its exit code read from the in-builder program's last word."""

import logging
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from podman.api import stream_frames
from podman.errors import APIError, PodmanError

from staves.builder.protocol import FINISHED_MARK

log = logging.getLogger(__name__)

_TAIL_LINES = 60
# A log stream can end while the builder runs on (Podman's service under load ended it
# after a few seconds at times): it is followed again this many times, the lines already
# shown skipped, before the builder counts as gone.
_FOLLOW_ATTEMPTS = 5


@dataclass(frozen=True)
class RunResult:
    exit_code: int
    tail: tuple[str, ...]  # the last lines of output, to explain a failure


def run_to_end(container: Any, output: TextIO) -> RunResult:
    """Start ``container``, stream its output live until the script says it has finished
    (it then waits for the root to be exported); return its exit code and last lines."""
    container.start()
    tail: deque[str] = deque(maxlen=_TAIL_LINES)
    shown = 0  # complete lines written so far, over every follow
    partial = ""
    for _ in range(_FOLLOW_ATTEMPTS):
        partial, count = "", 0
        for chunk in follow_logs(container):
            text = chunk.decode(errors="replace") if isinstance(chunk, bytes) else str(chunk)
            *complete, partial = (partial + text).split("\n")
            for line in complete:
                count += 1
                if count <= shown:
                    continue  # shown by an earlier follow
                shown = count
                if line.startswith(FINISHED_MARK):
                    return RunResult(_exit_code(line), tuple(tail))
                output.write(line + "\n")
                tail.append(line)
            output.flush()
        if not _running(container):
            break
        log.debug("the builder's log stream ended while it runs; following it again")
    if partial:
        output.write(partial)
        tail.append(partial)
    # The script ended without finishing: killed, or out of memory.
    return RunResult(137, tuple(tail))


def follow_logs(container: Any) -> Iterator[bytes]:
    """The builder's output from its start, as it comes. No read timeout: a package may
    compile for longer than any timeout without a word, and the lease ends the builder if
    staves goes."""
    response = container.client.get(
        f"/containers/{container.id}/logs",
        params={"follow": True, "stdout": True, "stderr": True},
        stream=True,
        timeout=(30, None),
    )
    response.raise_for_status()
    try:
        yield from stream_frames(response)
    finally:
        response.close()


def _running(container: Any) -> bool:
    try:
        container.reload()
    except (APIError, PodmanError, OSError):
        return False  # gone (removed with --rm), or the service with it
    return getattr(container, "status", None) == "running"


def _exit_code(line: str) -> int:
    code = line.removeprefix(FINISHED_MARK).strip()
    return int(code) if code.lstrip("-").isdigit() else 1
