"""The in-builder program's records drawn as progress: numbered package lines, the image
root's packages by how they were obtained, the total, a failed package's excerpt."""

import io
import re
from typing import Any

from staves.gentoo.vdb import InstalledPackage
from staves.progress.builder_records import apply
from staves.progress.reporter import Progress, summary
from staves.progress.screens import PlainScreen, QuietScreen


def plain(verbose: bool = False) -> tuple[Progress, io.StringIO]:
    out = io.StringIO()
    return Progress(PlainScreen(out, verbose)).on("linux/amd64", several=False), out


def said(out: io.StringIO) -> list[str]:
    """The lines without their elapsed time."""
    return [re.sub(r"^ *[0-9.hms]+s  ", "", line) for line in out.getvalue().splitlines()]


def package(state: str, cpv: str, how: str = "binary", into: str = "image", **more: Any) -> dict:
    return {"event": "package", "state": state, "cpv": cpv, "how": how, "into": into, **more}


def installed(cpv: str, use: tuple[str, ...] = ()) -> InstalledPackage:
    category, pf = cpv.split("/")
    pn, pvr = pf.rsplit("-", 1)
    return InstalledPackage(category, pf, pn, pvr, pvr, use=use)


def test_packages_are_counted_against_the_look_ahead_and_timed() -> None:
    progress, out = plain()
    merges = [
        {"cpv": "sys-libs/glibc-2.36", "how": "binary", "into": "image"},
        {"cpv": "app-misc/hello-1.0", "how": "compiled", "into": "image"},
        {"cpv": "dev-util/gentool-1.0", "how": "compiled", "into": "builder"},
    ]
    apply(progress, {"event": "plan", "pretend": True, "merges": merges})
    apply(progress, package("start", "sys-libs/glibc-2.36"))
    apply(progress, package("done", "sys-libs/glibc-2.36", seconds=0.42))
    apply(progress, package("start", "dev-util/gentool-1.0", "compiled", "builder"))
    apply(progress, package("done", "dev-util/gentool-1.0", "compiled", "builder", seconds=3))
    apply(progress, package("start", "app-misc/hello-1.0", "compiled"))
    apply(progress, package("done", "app-misc/hello-1.0", "compiled", seconds=133))
    assert said(out) == [
        "[1/2] sys-libs/glibc-2.36  binary  0.4 s",
        "builder: dev-util/gentool-1.0  compiled  3.0 s",
        "[2/2] app-misc/hello-1.0  compiled  2m13s",
    ]


def test_without_a_look_ahead_the_count_is_what_the_last_build_merged() -> None:
    progress, out = plain()
    apply(progress, {"event": "expect", "merges": 3})
    apply(
        progress, {"event": "plan", "pretend": False, "merges": [{"cpv": "a/b-1", "into": "image"}]}
    )
    apply(progress, package("start", "a/b-1"))
    apply(progress, package("done", "a/b-1", seconds=1))
    assert said(out) == ["[1/3] a/b-1  binary  1.0 s"]


def test_the_root_names_what_was_not_merged_and_the_summary_counts_each_kind() -> None:
    progress, out = plain()
    apply(progress, package("start", "app-misc/hello-1.0", "compiled"))
    apply(progress, package("done", "app-misc/hello-1.0", "compiled", seconds=2))
    apply(progress, {"event": "runtime", "packages": ["sys-devel/gcc-12.2.0"]})
    progress.root_ready(
        [
            installed("app-misc/hello-1.0", ("shout",)),
            installed("sys-libs/glibc-2.36"),
            installed("sys-devel/gcc-12.2.0"),
        ]
    )
    progress.packed(1, 3, 4_000_000)
    assert said(out)[1:] == [
        "image root ready: 3 packages; unchanged: sys-libs/glibc-2.36; "
        "from the builder: sys-devel/gcc-12.2.0",
        "layers: 1 of 3 repacked (4.0 MB)",
    ]
    part = progress.part
    assert next((p.cpv, p.how, p.use) for p in part.packages or ()) == (
        "app-misc/hello-1.0",
        "compiled",
        ("shout",),
    )
    text = summary(progress.ledger)
    assert text.startswith("done in ")
    assert text.endswith(": 1 compiled, 1 unchanged, 1 from the builder; 1 of 3 layers repacked")


def test_a_failed_package_shows_its_excerpt_even_when_quiet() -> None:
    out = io.StringIO()
    progress = Progress(QuietScreen(out)).on("linux/amd64", several=False)
    apply(progress, package("start", "app-misc/broken-1.0", "compiled"))
    excerpt = ["broken.c:1:1: error: unknown type name 'x'", "(the compile phase died: oops)"]
    apply(
        progress, package("failed", "app-misc/broken-1.0", "compiled", seconds=1, excerpt=excerpt)
    )
    assert out.getvalue().splitlines() == [
        "app-misc/broken-1.0: the end of its build log:",
        "    broken.c:1:1: error: unknown type name 'x'",
        "    (the compile phase died: oops)",
    ]


def test_several_platforms_mark_their_lines_and_unknown_records_are_ignored() -> None:
    out = io.StringIO()
    arm = Progress(PlainScreen(out)).on("linux/arm64", several=True)
    apply(arm, {"event": "from-a-newer-program", "x": 1})
    apply(arm, {"event": "note", "text": "the image no longer needs a/b-1: building afresh"})
    arm.output("not shown without -v")
    assert said(out) == ["[linux/arm64] the image no longer needs a/b-1: building afresh"]


def test_verbose_shows_the_builders_output_without_escape_codes() -> None:
    progress, out = plain(verbose=True)
    progress.output("\x1b[32;01m * \x1b[39;49;00mChecking\r")
    assert out.getvalue() == " * Checking\n"
