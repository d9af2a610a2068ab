"""Following the builder's output: a log stream that ends while the builder runs is
followed again, from the start, and nothing already heard is heard twice."""

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


def rec(event: str, **fields: Any) -> tuple[int, bytes]:
    return STDOUT, (json.dumps({"event": event, **fields}) + "\n").encode()


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
