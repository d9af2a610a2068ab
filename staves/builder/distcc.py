"""distcc helpers: distcc in the builder, Gentoo's handbook settings in both roots'
make.conf (FEATURES=distcc, DISTCC_HOSTS, MAKEOPTS over every slot), and each helper
checked before anything compiles: it must make the builder's objects byte for byte
(another compiler version makes other binary packages), else the build stops."""

import os
import re
import shutil
import subprocess
from pathlib import Path

from .builder_tools import install_builder_tool
from .console import fail, say
from .places import BUILDER_PORTAGE, PORTAGE_TMPDIR, append_text, image_portage_dir, make_conf_path
from .session import Session

# The package that installs distcc, when helpers are named (a stage3 has none).
DISTCC_PACKAGE = "sys-devel/distcc"
# A translation unit for asking each helper to compile: the object it sends back carries
# its compiler's identification (.comment), and must equal the builder's own, byte for byte.
DISTCC_PROBE = "int staves_distcc_probe(int x) { return x * 3 + 1; }\n"
_COMPILER_ID = re.compile(rb"GCC: \([^\x00]*|clang version [^\x00]*")


def set_up_distcc(plan: dict, session: Session, binpkg_options: list[str]) -> int:
    """With helpers: distcc into the builder, its settings into both roots' make.conf as
    Gentoo's handbook has them, and each helper checked; 0 when the build may go on."""
    distcc = plan["distcc"]
    if not distcc:
        return 0
    activity = "compiling on distcc helpers"
    if code := install_builder_tool("distcc", DISTCC_PACKAGE, activity, binpkg_options):
        return code
    settings = (
        "\n# --- added by staves: distcc helpers ---\n"
        'FEATURES="${FEATURES} distcc"\n'
        # The host validated both: names, digits and ,lzo; nothing to quote.
        f'DISTCC_HOSTS="{distcc["hosts"]}"\n'
        f'MAKEOPTS="{distcc["makeopts"]}"\n'
    )
    for portage_dir in (Path(BUILDER_PORTAGE), image_portage_dir()):
        append_text(make_conf_path(portage_dir), settings)
    session.reload()
    say(f"distcc: DISTCC_HOSTS={distcc['hosts']!r} MAKEOPTS={distcc['makeopts']!r}")
    return check_helpers(distcc["helpers"], probe_compiler(session))


def probe_compiler(session: Session) -> str:
    """The C compiler ebuilds call: CC as Portage has it, else CHOST-gcc, else gcc."""
    found = session.variables(["CHOST", "CC"])
    if found.get("CC"):
        return found["CC"]
    chost = found.get("CHOST", "")
    return f"{chost}-gcc" if chost and shutil.which(f"{chost}-gcc") else "gcc"


def compiler_id(obj: bytes) -> str:
    found = _COMPILER_ID.search(obj)
    return found.group().decode(errors="replace") if found else "an unknown compiler"


def check_helpers(helpers: list[str], compiler: str, work_dir: str = PORTAGE_TMPDIR) -> int:
    """Compile the probe here and on each helper alone (no fallback to this machine):
    fail when a helper's object differs; warn when one cannot compile it (distcc then
    compiles its share here)."""
    work = Path(work_dir) / ".staves-distcc-probe"
    (work / "state").mkdir(parents=True, exist_ok=True)  # distcc's DISTCC_DIR
    (work / "probe.c").write_text(DISTCC_PROBE, encoding="utf-8")
    argv = [compiler, "-O2", "-c", "probe.c"]
    local = subprocess.run([*argv, "-o", "local.o"], cwd=work, capture_output=True, check=False)
    if local.returncode != 0:
        say(f"distcc: {compiler} cannot compile the probe here; the helpers go unchecked")
        return 0
    mine = (work / "local.o").read_bytes()
    for helper in helpers:
        env = {**os.environ, "DISTCC_HOSTS": helper, "DISTCC_FALLBACK": "0"}
        env["DISTCC_DIR"] = str(work / "state")
        remote = subprocess.run(
            ["distcc", *argv, "-o", "remote.o"],
            cwd=work,
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if remote.returncode != 0:
            said = " ".join(remote.stderr.split())[-300:] or f"exit code {remote.returncode}"
            say(
                f"warning: distcc helper {helper} did not compile the probe ({said}); "
                "what it would compile is compiled here"
            )
            continue
        theirs = (work / "remote.o").read_bytes()
        if theirs != mine:
            helper_id, builder_id = compiler_id(theirs), compiler_id(mine)
            how = (
                f"compiles with {helper_id}, the builder with {builder_id}"
                if helper_id != builder_id
                else f"compiles otherwise than the builder, both with {builder_id}"
            )
            fail(
                f"distcc helper {helper} {how}; give every helper the builder's compiler, "
                "or leave it out (--distcc, [distcc] hosts)"
            )
            return 1
        say(f"distcc: helper {helper} compiles as the builder does ({compiler_id(mine)})")
    shutil.rmtree(work, ignore_errors=True)
    return 0
