"""Failures of commands whose exit status says something else (diff: the images differ;
audit: an advisory applies): every failure becomes one line with their trouble status."""

from collections.abc import Iterator
from contextlib import contextmanager

from oci.errors import OciError
from staves.errors import StavesError


@contextmanager
def troubles(context: str, exit_code: int) -> Iterator[None]:
    """Any StavesError, OciError or OSError inside as one line with ``exit_code``, the
    others prefixed by ``context``."""
    try:
        yield
    except StavesError as exc:
        exc.exit_code = exit_code
        raise
    except (OciError, OSError) as exc:
        where = f"{exc.filename}: " if isinstance(exc, OSError) and exc.filename else ""
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise StavesError(f"{context}{where}{detail}", exit_code=exit_code) from exc
