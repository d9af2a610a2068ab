"""Containers removed while the build goes on: a finished builder's removal (its runtime
and network torn down, its layer unmounted: a tenth of a second or more) runs beside the
writing of the outputs, and the client of its service waits for it before it closes."""

import threading
from collections.abc import Callable

_lock = threading.Lock()
_removing: list[threading.Thread] = []


def remove_meanwhile(remove: Callable[[], None], name: str) -> None:
    """Run ``remove`` in a thread of its own, waited for by ``wait_for_removals``."""
    thread = threading.Thread(target=remove, name=f"remove-{name}")
    with _lock:
        _removing.append(thread)
    thread.start()


def wait_for_removals() -> None:
    """Wait until every removal started so far has ended."""
    with _lock:
        threads = list(_removing)
        _removing.clear()
    for thread in threads:
        thread.join()
