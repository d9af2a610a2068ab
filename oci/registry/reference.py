"""Image references as podman reads them: ``docker://[HOST[:PORT]/]REPO[:TAG][@DIGEST]``."""

import re
from dataclasses import dataclass

from oci.digest import check_digest
from oci.errors import InvalidReference

TRANSPORT = "docker://"
DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
DEFAULT_TAG = "latest"

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_NAME_RE = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
_TAG_RE = re.compile(r"^[\w][\w.-]{0,127}$")
_HOST_RE = re.compile(r"^(?:[a-zA-Z0-9.-]+|\[[0-9a-fA-F:]+\])(?::[0-9]+)?$")
_MAX_NAME = 255


@dataclass(frozen=True)
class Reference:
    """A parsed, normalized reference; ``registry`` is ``docker.io`` for Docker Hub."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def api_host(self) -> str:
        """The host (and port) the distribution API is served from."""
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    @property
    def name(self) -> str:
        return f"{self.registry}/{self.repository}"

    @property
    def manifest_ref(self) -> str:
        """What goes after ``/manifests/``: the tag, else the digest."""
        return self.tag or self.digest or DEFAULT_TAG

    def __str__(self) -> str:
        text = self.name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def is_registry_reference(text: str) -> bool:
    return text.startswith(TRANSPORT)


def _split_domain(name: str) -> tuple[str, str]:
    """A first component is a host if it has a dot, a colon, capitals or is localhost."""
    first, sep, rest = name.partition("/")
    is_host = any(c in first for c in ".:") or first == "localhost" or first.lower() != first
    if sep and is_host:
        return first, rest
    return DOCKER_HUB, name


def _normalize_domain(domain: str, remainder: str) -> tuple[str, str]:
    if domain == "index.docker.io":
        domain = DOCKER_HUB
    if domain == DOCKER_HUB and "/" not in remainder:
        remainder = f"library/{remainder}"
    return domain, remainder


def _split_tag_digest(text: str) -> tuple[str, str | None, str | None]:
    name, _, digest = text.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    tag = None
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
    return name, tag, digest or None


def _bad(text: str, why: str) -> InvalidReference:
    return InvalidReference(
        f"{TRANSPORT}{text}: {why}; expected docker://[HOST[:PORT]/]REPO[:TAG][@DIGEST]"
    )


def _validate(text: str, ref: Reference) -> None:
    if not _HOST_RE.match(ref.registry):
        raise _bad(text, f"registry {ref.registry!r} is not a host[:port]")
    if not _NAME_RE.match(ref.repository):
        raise _bad(text, f"repository {ref.repository!r} must be lowercase [a-z0-9._-/]")
    if len(ref.name) > _MAX_NAME:
        raise _bad(text, f"name is longer than {_MAX_NAME} characters")
    if ref.tag is not None and not _TAG_RE.match(ref.tag):
        raise _bad(text, f"tag {ref.tag!r} is not valid")
    if ref.digest is not None:
        try:
            check_digest(ref.digest)
        except InvalidReference as err:
            raise _bad(text, str(err)) from None


def parse_reference(text: str, default_tag: str | None = DEFAULT_TAG) -> Reference:
    """Parse ``docker://…`` (the transport prefix is optional) as podman does.

    Short names go to Docker Hub (``library/`` for one-part names); without tag or
    digest the tag is ``default_tag``.
    """
    body = text.removeprefix(TRANSPORT)
    if not body or body.startswith("/"):
        raise _bad(body, "the reference is empty or starts with '/'")
    name, tag, digest = _split_tag_digest(body)
    domain, remainder = _normalize_domain(*_split_domain(name))
    if tag is None and digest is None:
        tag = default_tag
    ref = Reference(domain, remainder, tag, digest)
    _validate(body, ref)
    return ref
