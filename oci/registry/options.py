"""What a registry command was told: credentials, TLS, retries, parallelism."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from oci.registry.auth import Credentials, HelperRunner

DEFAULT_CERT_ROOTS = (Path("/etc/containers/certs.d"), Path("/etc/docker/certs.d"))
ENV_KEYS = ("HOME", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "REGISTRY_AUTH_FILE")


@dataclass(frozen=True)
class RegistryOptions:
    """Podman's ``--creds``, ``--authfile``, ``--tls-verify``, ``--cert-dir`` and tuning.

    ``env`` holds the environment variables auth lookup reads (see ``registry_env``);
    ``chunk_size`` switches uploads from one PUT to PATCHes of that many bytes.
    ``timeout`` is the silence a request waits out (to connect, between two reads), and
    how long a failing step keeps retrying: at most ``retries`` more attempts, none
    starting later than ``timeout`` seconds after its first failure.
    """

    creds: Credentials | None = None
    authfile: Path | None = None
    tls_verify: bool = True
    cert_dir: Path | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    cert_roots: tuple[Path, ...] = DEFAULT_CERT_ROOTS
    proxies: Mapping[str, str] = field(default_factory=dict)
    retries: int = 5
    backoff: float = 0.5
    max_backoff: float = 10.0
    timeout: float = 60.0
    parallel: int = 4
    chunk_size: int | None = None
    user_agent: str = "staves"
    run_helper: HelperRunner | None = field(default=None, compare=False)

    def __repr__(self) -> str:
        return f"RegistryOptions(tls_verify={self.tls_verify}, cert_dir={self.cert_dir})"


def registry_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The part of an environment that credential lookup reads."""
    return {k: environ[k] for k in ENV_KEYS if environ.get(k)}


def cert_dir_for(options: RegistryOptions, registry: str) -> Path | None:
    """``--cert-dir``, else the first ``certs.d/HOST[:PORT]`` that exists, as podman."""
    if options.cert_dir is not None:
        return options.cert_dir
    roots = list(options.cert_roots)
    config_home = options.env.get("XDG_CONFIG_HOME") or (
        f"{options.env['HOME']}/.config" if options.env.get("HOME") else None
    )
    if config_home:
        roots.insert(0, Path(config_home) / "containers/certs.d")
    return next((root / registry for root in roots if (root / registry).is_dir()), None)
