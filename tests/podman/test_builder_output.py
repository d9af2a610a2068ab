"""Following the builder's output: a log stream that ends while the builder runs."""

import io
from collections.abc import Iterator

import pytest

from staves.builder.protocol import FINISHED_MARK
from staves.podman import builder_output
from staves.podman.builder_output import run_to_end


class FakeBuilder:
    """A container whose log stream is cut short ``cuts`` times while it runs on."""

    def __init__(self, log: str, cuts: list[int], running_after: bool = True) -> None:
        self.log = log.encode()
        self.cuts = list(cuts)  # where each follow's stream ends, in bytes
        self.status = "created"
        self.running_after = running_after
        self.follows = 0

    def start(self) -> None:
        self.status = "running"

    def reload(self) -> None:
        if not self.running_after:
            self.status = "exited"

    def stream(self) -> Iterator[bytes]:
        self.follows += 1
        end = self.cuts.pop(0) if self.cuts else len(self.log)
        # In small pieces, as frames come, split mid-line.
        for start in range(0, end, 3):
            yield self.log[start : min(start + 3, end)]


@pytest.fixture
def follow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(builder_output, "follow_logs", lambda container: container.stream())


@pytest.mark.usefixtures("follow")
def test_a_cut_stream_is_followed_again_and_no_line_is_shown_twice() -> None:
    log = f"first\nsecond line\nthird\n{FINISHED_MARK}3\n"
    builder = FakeBuilder(log, cuts=[8, 20])  # cut inside "second line", then after it
    shown = io.StringIO()
    result = run_to_end(builder, shown)
    assert shown.getvalue() == "first\nsecond line\nthird\n"
    assert result.exit_code == 3
    assert builder.follows == 3


@pytest.mark.usefixtures("follow")
def test_a_builder_gone_without_its_last_word_counts_as_killed() -> None:
    builder = FakeBuilder("compiling\nhalf a li", cuts=[], running_after=False)
    shown = io.StringIO()
    result = run_to_end(builder, shown)
    assert result.exit_code == 137
    assert result.tail == ("compiling", "half a li")
    assert builder.follows == 1
