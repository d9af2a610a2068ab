"""Following the builder's output: its two streams told apart by Podman's frames (records
on stdout, everything else on stderr; lines whole across frames; the run's end at the
``finished`` record), and a log stream that ends while the builder runs followed again,
from the start, with nothing already heard heard twice."""

import json
from collections.abc import Iterator
from typing import Any

import pytest

from staves.podman import builder_output
from staves.podman.builder_output import STDERR, STDOUT, run_to_end


class FakeBuilder:
    """A container whose log stream is cut short ``cuts`` times while it runs on: its
    frames, each cut after so many of them."""

    def __init__(
        self, frames: list[tuple[int, bytes]], cuts: list[int], running_after: bool = True
    ) -> None:
        self.frames = frames
        self.cuts = list(cuts)
        self.status = "created"
        self.running_after = running_after
        self.follows = 0

    def start(self) -> None:
        self.status = "running"

    def reload(self) -> None:
        if not self.running_after:
            self.status = "exited"

    def stream(self) -> Iterator[tuple[int, bytes]]:
        self.follows += 1
        end = self.cuts.pop(0) if self.cuts else len(self.frames)
        yield from self.frames[:end]


class Heard:
    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.lines: list[str] = []

    def record(self, record: dict[str, Any]) -> None:
        self.records.append(record)

    def output(self, line: str) -> None:
        self.lines.append(line)


def record_line(event: str, **fields: Any) -> bytes:
    return (json.dumps({"event": event, **fields}) + "\n").encode()


def rec(event: str, **fields: Any) -> tuple[int, bytes]:
    return STDOUT, record_line(event, **fields)


@pytest.fixture
def follow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(builder_output, "follow_logs", lambda container: container.stream())


@pytest.mark.usefixtures("follow")
def test_a_cut_stream_is_followed_again_and_nothing_is_heard_twice() -> None:
    frames = [
        (STDERR, b"first\nsec"),
        rec("phase", name="merge", state="start"),
        (STDERR, b"ond line\n"),
        (STDERR, b"third\n"),
        rec("finished", code=3),
    ]
    builder = FakeBuilder(frames, cuts=[1, 3])  # cut inside "second line", then after it
    heard = Heard()
    result = run_to_end(builder, heard)
    assert heard.lines == ["first", "second line", "third"]
    assert heard.records == [{"event": "phase", "name": "merge", "state": "start"}]
    assert result.exit_code == 3
    assert builder.follows == 3


@pytest.mark.usefixtures("follow")
def test_a_builder_gone_without_its_last_word_counts_as_killed() -> None:
    frames = [(STDERR, b"compiling\nhalf a li"), rec("failed", message="x failed; more")]
    builder = FakeBuilder(frames, cuts=[], running_after=False)
    heard = Heard()
    result = run_to_end(builder, heard)
    assert result.exit_code == 137 and result.failure == "x failed; more"
    assert heard.lines == ["compiling", "half a li"]
    assert builder.follows == 1


FAILED = "emerge failed for a/b-1; more"


def test_records_and_output_come_apart_whole_and_in_order() -> None:
    heard = Heard()
    snowman = "☃".encode()
    frames = [
        (STDERR, b">>> Emerging (1 of 1) a/b-1\n>>> Comp"),
        (STDOUT, record_line("phase", name="merge", state="start")[:10]),
        (STDERR, b"iling " + snowman[:1]),
        (STDOUT, record_line("phase", name="merge", state="start")[10:]),
        (STDERR, snowman[1:] + b"\n"),
        (STDOUT, b"not a record\n" + record_line("failed", message=FAILED)),
        (STDOUT, record_line("finished", code=1)),
        (STDERR, b"never read\n"),
    ]
    result = builder_output.follow(iter(frames), heard)
    assert result.exit_code == 1 and result.failure == FAILED
    assert heard.lines == [">>> Emerging (1 of 1) a/b-1", ">>> Compiling ☃", "not a record"]
    assert [r["event"] for r in heard.records] == ["phase", "failed"]


def test_an_emerge_line_that_looks_like_a_record_on_stderr_stays_output() -> None:
    heard = Heard()
    result = builder_output.follow(
        iter([(STDERR, record_line("finished", code=0)), rec("finished", code=0)]), heard
    )
    assert result.exit_code == 0 and heard.lines == ['{"event": "finished", "code": 0}']


def test_a_program_that_ends_without_finishing_was_killed() -> None:
    heard = Heard()
    result = builder_output.follow(iter([(STDERR, b"Killed")]), heard)
    assert result.exit_code == 137 and heard.lines == ["Killed"]
