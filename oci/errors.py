"""Errors raised by the oci package; each carries the thing it is about."""


class OciError(Exception):
    """Base error of the oci package: a one-line, user-presentable message."""


class InvalidReference(OciError):
    """A destination, transport or image reference that cannot be parsed."""


class InvalidContent(OciError):
    """Input content (a rootfs, a tar stream, a layout) that cannot be packed safely."""


def open_problem(exc: BaseException) -> str:
    """Why a file could not be opened or read as a tar, on one line.

    tarfile's "could not be opened" lists every compression it tried, one per line.
    """
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if first.startswith("file could not be opened successfully"):
        return "not a tar archive (plain, gzip, bzip2 or xz)"
    return first
