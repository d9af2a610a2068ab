"""Portage knowledge: the installed-package database, layers by package, licenses, the SBOM.

Pure: no Podman, no HTTP.
"""
