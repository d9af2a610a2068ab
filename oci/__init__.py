"""OCI image format and distribution: layers, config, manifests, writers, registry client.

This package knows nothing of the distribution it packs, of Podman or the command line.
"""
