"""The builder's two output streams, followed live through Podman's logs endpoint to the end
of its build: stdout carries the in-builder program's records (JSON, one a line:
``staves.builder.events``), stderr everything else — emerge, the phases it runs, the
program's own words. The run ends at the program's ``finished`` record.

Podman multiplexes them in frames (a byte for the stream, three of padding, the length, the
payload): the streams are told apart by the frame, never by what a line says. A log stream
can end while the builder runs on (Podman's service under load ended it after a few seconds
at times): it is followed again, from the start, the lines already heard skipped.
"""

import codecs
import json
import logging
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from podman.errors import APIError, PodmanError

log = logging.getLogger(__name__)

STDOUT, STDERR = 1, 2
# The program's last record, with its exit code; it then waits for the host to read the
# root out and remove it.
FINISHED = "finished"
# A record saying what failed, in words the host puts into its one-line error.
FAILED = "failed"
# How many times a stream that ended while the builder runs is followed again.
FOLLOW_ATTEMPTS = 5


class BuilderListener(Protocol):
    """Who the builder's streams are told to (``staves.progress.Progress``)."""

    def record(self, record: dict[str, Any]) -> None: ...

    def output(self, line: str) -> None: ...


@dataclass(frozen=True)
class RunResult:
    exit_code: int
    failure: str | None = None  # what the program said failed, in its last failure record


def parse_record(line: str) -> dict[str, Any] | None:
    """A record of the program, or None for a line that is not one."""
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) and isinstance(record.get("event"), str) else None


@dataclass
class Heard:
    """What the listener has been told so far, over every follow of the streams."""

    listener: BuilderListener
    lines: dict[int, int] = field(default_factory=lambda: {STDOUT: 0, STDERR: 0})
    failure: str | None = None
    rest: dict[int, str] = field(default_factory=dict)  # the last follow's partial lines

    def follow(self, chunks: Iterator[tuple[int, bytes]]) -> RunResult | None:
        """One follow from the start: each line not heard yet to the listener; the result
        at ``finished``, None when the stream ends before it."""
        decoders = {s: codecs.getincrementaldecoder("utf-8")("replace") for s in self.lines}
        partial, count = dict.fromkeys(self.lines, ""), dict.fromkeys(self.lines, 0)
        for stream, data in chunks:
            stream = STDOUT if stream == STDOUT else STDERR
            *complete, partial[stream] = (partial[stream] + decoders[stream].decode(data)).split(
                "\n"
            )
            for line in complete:
                count[stream] += 1
                if count[stream] <= self.lines[stream]:
                    continue  # heard in an earlier follow
                self.lines[stream] = count[stream]
                if (result := self._line(stream, line)) is not None:
                    return result
        self.rest = partial
        return None

    def _line(self, stream: int, line: str) -> RunResult | None:
        record = parse_record(line) if stream == STDOUT else None
        if record is None:
            self.listener.output(line)
        elif record["event"] == FINISHED:
            code = record.get("code")
            return RunResult(code if isinstance(code, int) else 1, self.failure)
        else:
            if record["event"] == FAILED:
                self.failure = str(record.get("message") or "") or self.failure
            self.listener.record(record)
        return None

    def gone(self) -> RunResult:
        """The program ended without finishing: killed, or out of memory."""
        for rest in self.rest.values():
            if rest:
                self.listener.output(rest)
        return RunResult(137, self.failure)


def run_to_end(container: Any, listener: BuilderListener) -> RunResult:
    """Start ``container`` and follow its streams until the program's ``finished`` record
    (it then waits for the root to be read out): its exit code and what it said failed."""
    container.start()
    heard = Heard(listener)
    for _ in range(FOLLOW_ATTEMPTS):
        if (result := heard.follow(follow_logs(container))) is not None:
            return result
        if not _running(container):
            break
        log.debug("the builder's log stream ended while it runs; following it again")
    return heard.gone()


def follow(chunks: Iterator[tuple[int, bytes]], listener: BuilderListener) -> RunResult:
    """Each complete line of each stream to ``listener``; the result at ``finished``."""
    heard = Heard(listener)
    return heard.follow(chunks) or heard.gone()


def follow_logs(container: Any) -> Iterator[tuple[int, bytes]]:
    """(stream, payload) of each frame of the builder's output from its start, as it comes.
    No read timeout: a package may compile for longer than any timeout without a word, and
    the lease ends the builder if staves goes."""
    response = container.client.get(
        f"/containers/{container.id}/logs",
        params={"follow": True, "stdout": True, "stderr": True},
        stream=True,
        timeout=(30, None),
    )
    response.raise_for_status()
    try:
        while len(header := _read(response.raw, 8)) == 8:
            stream, length = struct.unpack(">BxxxL", header)
            if payload := _read(response.raw, length):
                yield stream, payload
    finally:
        response.close()


def _read(raw: Any, count: int) -> bytes:
    """``count`` bytes, fewer only at the end of the stream."""
    data = b""
    while len(data) < count:
        more = raw.read(count - len(data))
        if not more:
            break
        data += more
    return data


def _running(container: Any) -> bool:
    try:
        container.reload()
    except (APIError, PodmanError, OSError):
        return False  # gone (removed with --rm), or the service with it
    return getattr(container, "status", None) == "running"
