"""The builder's two output streams, followed live through Podman's logs endpoint: stdout
carries the in-builder program's records (JSON, one a line: ``staves.builder.events``),
stderr everything else — emerge, the phases it runs, the program's own words.

Podman multiplexes them in frames (a byte for the stream, three of padding, the length, the
payload): the streams are told apart by the frame, never by what a line says.
"""

import codecs
import json
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

STDOUT, STDERR = 1, 2
# The program's last record, with its exit code; it then waits for the host to read the
# root out and remove it.
FINISHED = "finished"
# A record saying what failed, in words the host puts into its one-line error.
FAILED = "failed"


class BuilderListener(Protocol):
    """Who the builder's stream is told to (``staves.progress.Progress``)."""

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


def run_to_end(container: Any, listener: BuilderListener) -> RunResult:
    """Start ``container`` and follow its streams until the program's ``finished`` record
    (it then waits for the root to be read out): its exit code and what it said failed."""
    container.start()
    return follow(frames(container), listener)


def follow(chunks: Iterator[tuple[int, bytes]], listener: BuilderListener) -> RunResult:
    """Each complete line of each stream to ``listener``; the result at ``finished``."""
    decoders = {s: codecs.getincrementaldecoder("utf-8")("replace") for s in (STDOUT, STDERR)}
    partial = {STDOUT: "", STDERR: ""}
    failure = None
    for stream, data in chunks:
        stream = STDOUT if stream == STDOUT else STDERR
        *lines, partial[stream] = (partial[stream] + decoders[stream].decode(data)).split("\n")
        for line in lines:
            record = parse_record(line) if stream == STDOUT else None
            if record is None:
                listener.output(line)
            elif record["event"] == FINISHED:
                code = record.get("code")
                return RunResult(code if isinstance(code, int) else 1, failure)
            else:
                if record["event"] == FAILED:
                    failure = str(record.get("message") or "") or failure
                listener.record(record)
    for rest in partial.values():
        if rest:
            listener.output(rest)
    # The program ended without finishing: killed, or out of memory.
    return RunResult(137, failure)


def frames(container: Any) -> Iterator[tuple[int, bytes]]:
    """(stream, payload) of each frame of the builder's output as it comes. No read timeout:
    a package may compile for longer than any timeout without a word, and the lease ends
    the builder if staves goes."""
    response = container.client.get(
        f"/containers/{container.id}/logs",
        params={"follow": True, "stdout": True, "stderr": True},
        stream=True,
        timeout=(30, None),
    )
    response.raise_for_status()
    try:
        while header := _read(response.raw, 8):
            if len(header) < 8:
                return
            stream, length = struct.unpack(">BxxxL", header)
            payload = _read(response.raw, length)
            if payload:
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
