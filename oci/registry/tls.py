"""TLS for one registry: system CAs plus podman's cert-dir (``*.crt``, ``*.cert``/``*.key``)."""

import ipaddress
import logging
import ssl
from pathlib import Path
from typing import Any

from requests.adapters import HTTPAdapter

from oci.errors import OciError

log = logging.getLogger(__name__)

# Upload bodies are sent in blocks this big (urllib3's default is 16 KiB).
SEND_BLOCK = 1 << 20


def ssl_context(tls_verify: bool, cert_dir: Path | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    if not tls_verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if cert_dir is not None:
        _load_cert_dir(ctx, cert_dir)
    return ctx


def _load_cert_dir(ctx: ssl.SSLContext, cert_dir: Path) -> None:
    if not cert_dir.is_dir():
        raise OciError(f"--cert-dir {cert_dir}: not a directory")
    try:
        for ca in sorted(cert_dir.glob("*.crt")):
            ctx.load_verify_locations(cafile=ca)
            log.debug("trusting CA %s", ca)
        for cert in sorted(cert_dir.glob("*.cert")):
            key = cert.with_suffix(".key")
            if not key.exists():
                raise OciError(f"--cert-dir {cert_dir}: {cert.name} has no {key.name}")
            ctx.load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as err:
        raise OciError(f"--cert-dir {cert_dir}: cannot load certificates: {err}") from None


def is_loopback(registry: str) -> bool:
    """``localhost``, 127.0.0.0/8 or ::1, with or without a port."""
    if registry.startswith("["):
        host = registry[1:].partition("]")[0]
    else:
        host = registry.rsplit(":", 1)[0] if registry.count(":") == 1 else registry
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ContextAdapter(HTTPAdapter):
    """An adapter that uses our SSL context (not certifi's) and large send blocks."""

    def __init__(self, context: ssl.SSLContext, pool_size: int) -> None:
        self._context = context
        super().__init__(pool_connections=4, pool_maxsize=pool_size)

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        pool_kwargs.update(ssl_context=self._context, blocksize=SEND_BLOCK)
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)

    def build_connection_pool_key_attributes(
        self, request: Any, verify: Any, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        host_params, _ = super().build_connection_pool_key_attributes(request, verify, cert)
        return host_params, {"ssl_context": self._context}

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        """Verification is the context's business."""
