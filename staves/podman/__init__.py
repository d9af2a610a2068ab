"""The Podman edge: the API service, the builder container and what it may reach, local storage.

The only group that talks to Podman.
"""
