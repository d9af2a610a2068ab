"""scripts/bench-build's distcc cases: a cold build of app-misc/manyunits on a runner of
one job, alone and with one distcc helper (Debian's distccd on loopback, one job), and on a
runner of two jobs for scale: the helper lends the second core of this machine to the
first runner, as a helper machine lends its own.

Imported by scripts/bench-build (which puts scripts/ on sys.path).
"""

import os
import re
import socket
import subprocess
import time
import uuid
from pathlib import Path

from benchlib import BUILDER, PORTAGE, Result, fail, remove_volume, staves_build

# app-misc/manyunits: sixteen units and a main, each compiled on its own by make.
DISTCC_SPEC = """
name = "localhost/staves-bench/manyunits"
packages = ["app-misc/manyunits"]
command = ["/usr/bin/manyunits"]
"""
# A small image of the same partition, built first: the builder's distcc and the image's
# base packages are then cached, and the timed builds compile app-misc/manyunits alone.
WARM_UP_SPEC = """
name = "localhost/staves-bench/motd"
packages = ["app-misc/motd"]
"""
UNITS = 17
# distccd's log line for each unit it compiled ("COMPILE_OK ... unit03.c").
_COMPILE_OK = re.compile(r"COMPILE_OK .* (\S+\.c)$", re.M)
# Staves' own check of each helper (the builder's compiler, byte for byte), not a unit.
PROBE = "probe.c"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_distccd(port: int, log: Path) -> subprocess.Popen[bytes]:
    """distccd on loopback, one job, logging to ``log`` (it drops root for its own user,
    so it logs to a file opened here); returned once it accepts connections."""
    with log.open("wb") as out:
        daemon = subprocess.Popen(
            ["distccd", "--daemon", "--no-detach", "--listen", "127.0.0.1", "--port", str(port),
             "--allow", "127.0.0.1", "--jobs", "1", "--log-stderr", "--log-level", "info"],
            stderr=out,
        )  # fmt: skip
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return daemon
        except OSError:
            time.sleep(0.05)
    daemon.kill()
    fail(f"distccd did not listen on {port}")
    raise AssertionError  # fail() exits


def distcc_cases(work: Path, env: dict[str, str]) -> list[Result]:
    """The three cold builds, each on a cache volume of its own warmed with a small image
    first; the helper's log says how many units it compiled."""
    work.mkdir(parents=True)
    port = free_port()
    log = work / "distccd.log"
    daemon = start_distccd(port, log)
    cases = (
        ("cold, 1 job", ("--jobs", "1", "--no-distcc")),
        ("cold, 1 job + helper", ("--jobs", "1", "--network", "host",
                                  "--distcc", f"127.0.0.1:{port}/1")),
        ("cold, 2 jobs", ("--jobs", "2", "--no-distcc")),
    )  # fmt: skip
    volumes = [f"staves-bench-distcc-{uuid.uuid4().hex[:8]}" for _ in cases]
    results = []
    try:
        for number, ((label, extra), volume) in enumerate(zip(cases, volumes, strict=True)):
            case = work / f"case-{number}"
            staves_build("warm-up", WARM_UP_SPEC, volume, case / "w", oci(case / "wo"), env, *extra)
            results.append(
                staves_build(label, DISTCC_SPEC, volume, case / "b", oci(case / "o"), env, *extra)
            )
    finally:
        daemon.terminate()
        daemon.wait()
        for volume in volumes:
            remove_volume(volume)
    units = [name for name in _COMPILE_OK.findall(log.read_text(errors="replace")) if name != PROBE]
    print(f"distcc: the helper compiled {len(units)} of the {UNITS} units of app-misc/manyunits")
    return results


def oci(layout: Path) -> str:
    return f"oci:{layout}:bench"


def print_distcc(helped: list[Result]) -> None:
    print(f"builder: {BUILDER}, snapshot: {PORTAGE}")
    alone = helped[0].seconds
    for r in helped:
        print(f"{r.label:26} {r.seconds:6.1f} s  {alone / r.seconds:5.2f}x speed-up  "
              f"{len(r.compiled):2} compiled: {' '.join(r.compiled)}")  # fmt: skip


def distcc(work: Path) -> None:
    env = {**os.environ, "STAVES_LAYER_CACHE": f"{work}/layer-cache"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    print_distcc(distcc_cases(work, env))
