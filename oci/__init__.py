"""OCI image format and distribution: layers, config, manifests, writers, registry client.

This package knows nothing about Gentoo, Podman or the command line.
"""
