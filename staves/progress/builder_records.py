"""The in-builder program's records (``staves.builder.events``) as progress: its phases,
each package as it starts and is merged (``[3/12] dev-libs/libgreet-1.0  binary  0.4 s``),
a package that failed with the lines of its build log that say why."""

from typing import TYPE_CHECKING, Any

from staves.progress.ledger import Merge
from staves.progress.words import took

if TYPE_CHECKING:
    from staves.progress.reporter import Progress

# How a merge into a root other than the image's is marked.
WHERE = {"builder": "builder"}
# What the status says while a package is being obtained.
DOING = {"compiled": "compiling", "binary": "merging the binary package"}


def apply(progress: "Progress", record: dict[str, Any]) -> None:
    """Note and show one record; records of kinds this host does not know are ignored."""
    kind = record.get("event")
    if kind == "phase":
        _phase(progress, record)
    elif kind == "plan":
        _plan(progress, record)
    elif kind == "package":
        _package(progress, record)
    elif kind == "expect" and isinstance(merges := record.get("merges"), int):
        with progress.ledger.lock:
            progress.part.expected = merges
    elif kind == "note":
        progress.event(str(record.get("text", "")))
    elif kind == "runtime":
        with progress.ledger.lock:
            progress.part.added.update(str(cpv) for cpv in record.get("packages", []))


def _phase(progress: "Progress", record: dict[str, Any]) -> None:
    name = str(record.get("name", "?"))
    if record.get("state") == "start":
        progress.status(f"builder: {name}")
    elif isinstance(seconds := record.get("seconds"), int | float):
        progress.ledger.add_phase(progress.key, f"builder {name}", float(seconds))


def _plan(progress: "Progress", record: dict[str, Any]) -> None:
    """What a calculation will merge into the image: the packages to count to."""
    with progress.ledger.lock:
        for merge in record.get("merges", []):
            if isinstance(merge, dict) and merge.get("into") == "image":
                progress.part.planned.setdefault(str(merge.get("cpv")), str(merge.get("how")))


def _package(progress: "Progress", record: dict[str, Any]) -> None:
    cpv, how = str(record.get("cpv", "?")), str(record.get("how", "?"))
    into, state = str(record.get("into", "image")), record.get("state")
    part = progress.part
    with progress.ledger.lock:
        merge = part.merges.get((into, cpv))
        if merge is None or state == "start":
            merge = Merge(cpv, how, into, use=tuple(record.get("use") or ()))
            part.merges[(into, cpv)] = merge
            if into == "image":
                part.started += 1
                part.planned.setdefault(cpv, how)
        if state != "start" and isinstance(seconds := record.get("seconds"), int | float):
            merge.seconds = float(seconds)
        images = [k for k in part.merges if k[0] == "image"]
        number = images.index((into, cpv)) + 1 if into == "image" else 0
        total = max(len(part.planned), part.started, part.expected)
    where = f"[{number}/{total}]" if into == "image" else f"{WHERE.get(into, into)}:"
    if into == "other":
        where = f"into {record.get('root') or 'another root'}"
    if state == "start":
        progress.status(f"{where} {cpv}  {DOING.get(how, how)}")
    elif state == "done":
        progress.event(f"{where} {cpv}  {how}  {took(merge.seconds)}")
        progress.status(None)
    elif state == "failed":
        progress.event(f"{where} {cpv}  failed after {took(merge.seconds)}")
        progress.status(None)
        excerpt = [f"    {line}" for line in record.get("excerpt") or []]
        log = record.get("log")
        excerpt += [f"    (in the builder: {log})"] if log and not excerpt else []
        progress.failure([f"{cpv}: the end of its build log:", *excerpt])
