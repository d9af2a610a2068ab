"""The lines of a failed package's build log the user sees: the compiler's error up to
Portage's banner, then the phase that died and why; never the banner's advice."""

from staves.builder.failures import failure_excerpt

BUILD_LOG = """\
 \x1b[32;01m*\x1b[0m Package:    app-misc/broken-1.0:0
 * Repository: gentoo
>>> Unpacking source...
>>> Source unpacked in /var/tmp/portage/app-misc/broken-1.0/work
>>> Compiling source in /var/tmp/portage/app-misc/broken-1.0/work ...
gcc -O2 -pipe -o broken broken.c
broken.c:1:1: error: unknown type name 'this_is_not_c'
    1 | this_is_not_c x;
      | ^~~~~~~~~~~~~
broken.c:2:1: warning: data definition has no type
 * ERROR: app-misc/broken-1.0::gentoo failed (compile phase):
 *   broken.c does not compile
 *
 * Call stack:
 *     ebuild.sh, line  136:  Called src_compile
 *
 * If you need support, post the output of `emerge --info '=app-misc/broken-1.0::gentoo'`,
 * the complete build log and the output of `emerge -pqv '=app-misc/broken-1.0::gentoo'`.
 * The complete build log is located at '/var/tmp/portage/app-misc/broken-1.0/temp/build.log'.
"""


def test_the_compilers_error_then_the_phase_and_the_die_message() -> None:
    assert failure_excerpt(BUILD_LOG) == [
        "gcc -O2 -pipe -o broken broken.c",
        "broken.c:1:1: error: unknown type name 'this_is_not_c'",
        "    1 | this_is_not_c x;",
        "      | ^~~~~~~~~~~~~",
        "broken.c:2:1: warning: data definition has no type",
        "(the compile phase died: broken.c does not compile)",
    ]


def test_without_an_error_word_the_last_lines_and_a_long_stretch_is_cut() -> None:
    quiet = (
        "\n".join(f"step {n}" for n in range(30))
        + "\n * ERROR: a/b-1::r failed (install phase):\n *   x\n"
    )
    assert failure_excerpt(quiet) == [
        *(f"step {n}" for n in range(22, 30)),
        "(the install phase died: x)",
    ]
    loud = "\n".join(f"error {n}" for n in range(30))
    shown = failure_excerpt(loud, most=5)
    assert shown == ["error 0", "error 1", "error 2", "error 3", "error 29"]
