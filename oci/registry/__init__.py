"""A client of the OCI distribution API: push images straight to a registry."""

from oci.registry.auth import CredentialError, Credentials, parse_creds
from oci.registry.errors import AuthenticationError, DigestMismatch, RegistryError
from oci.registry.locations import BlobLocations
from oci.registry.options import RegistryOptions, registry_env
from oci.registry.progress import Progress, ProgressCallback, PushResult
from oci.registry.push import push_image
from oci.registry.reference import Reference, is_registry_reference, parse_reference

__all__ = [
    "AuthenticationError",
    "BlobLocations",
    "CredentialError",
    "Credentials",
    "DigestMismatch",
    "Progress",
    "ProgressCallback",
    "PushResult",
    "Reference",
    "RegistryError",
    "RegistryOptions",
    "is_registry_reference",
    "parse_creds",
    "parse_reference",
    "push_image",
    "registry_env",
]
