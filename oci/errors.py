"""Errors raised by the oci package; each carries the thing it is about."""


class OciError(Exception):
    """Base error of the oci package: a one-line, user-presentable message."""


class InvalidReference(OciError):
    """A destination, transport or image reference that cannot be parsed."""


class InvalidContent(OciError):
    """Input content (a rootfs, a tar stream, a layout) that cannot be packed safely."""
