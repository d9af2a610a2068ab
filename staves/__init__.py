"""Staves: daemonless container images built with Gentoo's Portage."""

__version__ = "0.1.0"
