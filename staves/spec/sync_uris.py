"""Which ``sync-uri`` each sync type takes, as Portage's sync modules pass it on.

A repository's ``uri`` becomes an argument of ``git clone``, ``hg clone``, ``svn co``,
``cvs -d`` or ``rsync``. Portage quotes it for the shell, but a value starting with ``-``
is still an option to the tool (``--upload-pack=…`` runs a command), and so is an ssh host
starting with ``-`` (``ssh://-oProxyCommand=…``). Only the URL kinds each tool and
Portage's module take are accepted, so neither can happen.
"""

import re
from urllib.parse import urlsplit

# Schemes per sync type; "/" also allows an absolute local path (Portage strips file://
# for git and mercurial and hands the path on).
SCHEMES: dict[str, tuple[str, ...]] = {
    "git": ("https", "http", "git", "ssh", "git+ssh", "ssh+git", "file", "/", "scp"),
    "mercurial": ("https", "http", "ssh", "file", "/"),
    "svn": ("https", "http", "svn", "svn+ssh", "file"),
    "rsync": ("rsync", "ssh", "file"),
    "webrsync": ("https", "http", "ftp", "rsync"),
    "zipfile": ("https", "http", "ftp", "file"),
    "cvs": ("cvsroot",),
}
_FORMS = {
    "/": "an absolute path",
    "scp": "USER@HOST:PATH",
    "cvsroot": ":pserver:USER@HOST:/PATH (a CVSROOT)",
}
# git's scp-like syntax: no "://", a host without "/" before the first ":".
_SCP = re.compile(r"(?:[A-Za-z0-9_][A-Za-z0-9._~+-]*@)?[A-Za-z0-9][A-Za-z0-9.-]*:[^:].*")
_CVSROOT = re.compile(r":(?:pserver|ext|gserver|kserver|server|local|fork):[^-\s].*")


def accepted(sync_type: str) -> str:
    """The URL kinds ``sync_type`` takes, in words."""
    kinds = [_FORMS.get(s, f"{s}://") for s in SCHEMES.get(sync_type, ())]
    return f"a {sync_type} URI: " + ", ".join(kinds) if kinds else "a URI"


def _url_problem(uri: str, schemes: tuple[str, ...]) -> str | None:
    parts = urlsplit(uri)
    if parts.scheme not in schemes:
        return "is not a URL of a kind this sync type takes"
    if parts.scheme != "file" and not parts.hostname:
        return "names no host"
    for piece in (parts.hostname, parts.username):
        if piece and piece.startswith("-"):
            return "has a host or user starting with '-' (ssh would take it for an option)"
    if parts.scheme == "file" and not parts.path.startswith("/"):
        return "is not file:///ABSOLUTE/PATH"
    return None


def sync_uri_problem(sync_type: str, uri: str) -> str | None:
    """Why ``uri`` cannot be the sync-uri of a repository of ``sync_type``, if it cannot."""
    if uri.startswith("-"):
        return "starts with '-' (the sync tool would take it for an option)"
    schemes = SCHEMES.get(sync_type, ())
    if "://" in uri:
        return _url_problem(uri, schemes)
    if "/" in schemes and uri.startswith("/"):
        return None
    if "scp" in schemes and _SCP.fullmatch(uri):
        return None
    if "cvsroot" in schemes and _CVSROOT.fullmatch(uri):
        return None
    return "is not a URL of a kind this sync type takes"


def uses_ssh(uri: str) -> bool:
    """Whether syncing from ``uri`` goes through ssh (and so needs an agent)."""
    scheme = uri.split("://", 1)[0] if "://" in uri else None
    if scheme is not None:
        return "ssh" in scheme.split("+")
    return bool(_SCP.fullmatch(uri)) or uri.startswith(":ext:")
