"""deploy/nginx.conf run by a real nginx as any user: the shipped file with its machine paths and ports replaced,
inside a main configuration that keeps pid, temporary files and logs in a folder of its own. Used by the local
topology (`python -m deploy.topology`) and by the tests of the shipped configuration."""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SHIPPED = Path(__file__).resolve().with_name("nginx.conf")
SERVER_NAME = "registry.example.gov.cn"

# What /etc/nginx/nginx.conf gives the files of conf.d/ on Debian, with every path a test's own.
MAIN = """
{user}
worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/error.log;
events {{ worker_connections 64; }}
http {{
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    access_log {work}/access.log;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    include {work}/pdr.conf;
}}
"""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def nginx_binary() -> str | None:
    """The nginx program, also where /usr/sbin is not on PATH; None when it is not installed."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and the server name, signed by its own key; the two PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SERVER_NAME)])
    now = datetime.now(UTC)
    names = [x509.DNSName(SERVER_NAME), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "registry.crt", folder / "registry.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@dataclass
class Rendered:
    """The shipped configuration made runnable here: the main file to give nginx, and where it listens."""

    main: Path
    work: Path
    port: int
    certificate: Path


def render(work: Path, *, upstream_port: int, store_root: Path) -> Rendered:
    """deploy/nginx.conf with only its machine-specific values replaced (each must be there, once)."""
    port = free_port()
    certificate, key = self_signed(work)
    replacements = {
        "listen 443 ssl http2;": f"listen 127.0.0.1:{port} ssl http2;",
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{upstream_port};",
        "/etc/nginx/tls/registry.crt": str(certificate),
        "/etc/nginx/tls/registry.key": str(key),
        "alias /srv/pdr/objects/objects/;": f"alias {store_root}/objects/;",
        "/var/cache/nginx/pdr-tiles": str(work / "tiles"),
    }
    text = SHIPPED.read_text()
    for shipped, here in replacements.items():
        assert text.count(shipped) == 1, f"deploy/nginx.conf should hold {shipped!r} once"
        text = text.replace(shipped, here)
    (work / "pdr.conf").write_text(text)
    # As root, nginx's workers would drop to nobody, who cannot read a test's private folder.
    user = "user root;" if os.geteuid() == 0 else ""
    main = work / "nginx.conf"
    main.write_text(MAIN.format(user=user, work=work))
    return Rendered(main=main, work=work, port=port, certificate=certificate)


def check(nginx: str, rendered: Rendered) -> subprocess.CompletedProcess[str]:
    """`nginx -t` on the rendered configuration."""
    command = [nginx, "-t", "-c", str(rendered.main), "-p", str(rendered.work), "-e", str(rendered.work / "error.log")]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def accepts(port: int) -> bool:
    """Whether something listens on 127.0.0.1:`port`."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


@contextmanager
def running(nginx: str, rendered: Rendered) -> Iterator[str]:
    """nginx on the rendered configuration until the block ends; yields its https base URL."""
    command = [nginx, "-c", str(rendered.main), "-p", str(rendered.work), "-e", str(rendered.work / "error.log")]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not accepts(rendered.port):
            error_log = (rendered.work / "error.log").read_text() if (rendered.work / "error.log").exists() else ""
            assert process.poll() is None, f"nginx exited with {process.returncode}: {error_log}"
            assert time.monotonic() < deadline, f"nginx did not listen: {error_log}"
            time.sleep(0.05)
        yield f"https://127.0.0.1:{rendered.port}"
    finally:
        process.terminate()
        process.wait(timeout=30)
