"""The live view through a real pseudo-terminal, read back by a terminal emulator: lines
printed above it stay whole and in order however long and many they are, and nothing of
the view itself (spinner, statuses, bars) is left when the command ends."""

import sys
import textwrap

from staves.progress.screens import PlainScreen
from tests.terminal import run_in_terminal

DRIVER = textwrap.dedent(
    """
    import sys, time
    from staves.progress.live import LiveScreen
    screen = LiveScreen(sys.stderr, verbose=True)
    for n in range(300):
        screen.status(None, f"[{n % 7}/7] app-misc/package-{n} compiling " + "x" * (n % 90))
        screen.status("linux/arm64", f"pulling a blob {n}")
        screen.transfer("push", "pushing to r.io/app", n * 1000, 300_000)
        if n % 10 == 0:
            screen.event(n / 10, None, f"event {n}")
        screen.output(None, f"output {n} " + "y" * (n % 150))
        if n % 50 == 0:
            time.sleep(0.2)  # let it redraw in between
    screen.status(None, None)
    screen.close()
    print("the end", file=sys.stderr)
    """
)


def test_the_live_view_leaves_every_printed_line_whole_and_nothing_of_itself() -> None:
    seen = run_in_terminal([sys.executable, "-c", DRIVER], columns=80, rows=24, timeout=120)
    assert seen.code == 0, seen.raw[-2000:]
    text = "\n".join(seen.lines)
    assert not any(seen.spinner_in(line) for line in seen.lines)
    assert "compiling" not in text and "pulling a blob" not in text and "pushing to" not in text
    events = [line.strip() for line in seen.lines if "event " in line]
    assert events == [f"{n / 10:.1f}s  event {n}" for n in range(0, 300, 10)]
    outputs = [line for line in seen.lines if line.startswith("output ")]
    assert [int(line.split()[1]) for line in outputs] == list(range(300))
    for number, line in enumerate(seen.lines):  # wrapped at the width, never cut or overwritten
        if line.startswith("output "):
            n = int(line.split()[1])
            whole = f"output {n} " + "y" * (n % 150)
            rows = [whole[at : at + 80].rstrip() for at in range(0, len(whole), 80)]
            assert seen.lines[number : number + len(rows)] == rows
    assert seen.lines[-1] == "the end"


def test_plain_lines_carry_the_time_and_no_escape_codes() -> None:
    import io

    out = io.StringIO()
    screen = PlainScreen(out)
    screen.event(3.25, None, "\x1b[1mwrote\x1b[0m oci:x")
    screen.event(133, "linux/arm64", "done")
    screen.status(None, "never shown")
    assert out.getvalue() == "   3.2s  wrote oci:x\n  2m13s  [linux/arm64] done\n"
