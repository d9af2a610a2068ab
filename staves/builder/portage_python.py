"""Run on the Python that runs Portage.

The program drives Portage in its own process (``session``), so it must run on the
interpreter Portage is installed for. A stage3's ``python3`` is one of them; where it is
not (a Portage in a virtual environment, or a python3 outside its PYTHON_TARGETS), the
interpreter named by ``emerge``'s own ``#!`` line is, and the program starts again on it.
"""

import importlib.util
import os
import shutil
import sys

# Set once the program has started again, so that it never loops.
REEXEC_MARK = "STAVES_BUILDER_REEXEC"


def has_portage() -> bool:
    return importlib.util.find_spec("portage") is not None


def emerge_interpreter() -> str | None:
    """The interpreter of the ``emerge`` script on PATH (None for a wrapper binary such as
    python-exec, which picks an interpreter that has Portage by itself)."""
    emerge = shutil.which("emerge")
    if emerge is None:
        return None
    try:
        with open(os.path.realpath(emerge), "rb") as script:
            first = script.readline(256)
    except OSError:
        return None
    if not first.startswith(b"#!"):
        return None
    words = first[2:].decode(errors="replace").split()
    if not words:
        return None
    if os.path.basename(words[0]) == "env" and len(words) > 1:
        return shutil.which(words[1])
    return words[0]


def run_on_portage_python(argv: list[str]) -> None:
    """Start the program again on Portage's interpreter when this one lacks Portage; as PID 1
    the process stays PID 1."""
    if os.environ.pop(REEXEC_MARK, None) or has_portage():
        return  # the mark goes: Portage saves the environment into every package
    interpreter = emerge_interpreter()
    if interpreter is None or not os.access(interpreter, os.X_OK):
        return  # the session says what is missing
    os.environ[REEXEC_MARK] = "1"
    sys.stdout.flush()
    os.execv(interpreter, [interpreter, *argv])
