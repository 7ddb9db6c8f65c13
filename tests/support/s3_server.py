"""An S3-compatible server on 127.0.0.1 (moto, in a child process): how to start one and address its buckets.

A plain module; the fixtures over it are in `tests/plugins/s3.py`. Each pytest process (each xdist worker) starts
its own server on a port the kernel picks, so parallel runs never share a port or a bucket.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

S3_ACCESS_KEY = "testing-access"
S3_SECRET_KEY = "testing-secret"
S3_REGION = "us-east-1"
S3_PREFIX = "pdr"

# moto runs in a child process so tracemalloc in the memory tests sees only the client side:
# the in-process server holds whole multipart objects in memory while completing them.
_SERVER = """
import sys
from moto.server import ThreadedMotoServer

server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()
server.stop()
"""


class ServerDidNotStart(RuntimeError):
    """The moto child process exited or printed no port; the message ends with its log."""


@contextmanager
def moto_server(log: Path) -> Iterator[str]:
    """Run a moto S3 server in a child process, logging to `log`; yield its host:port."""
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": S3_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": S3_SECRET_KEY,
        "AWS_DEFAULT_REGION": S3_REGION,
    }
    with log.open("wb") as log_file:
        server = subprocess.Popen(
            [sys.executable, "-c", _SERVER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log_file,
            env=env,
            text=True,
        )
    assert server.stdout is not None and server.stdin is not None
    port = server.stdout.readline().strip()
    if not port.isdigit():
        server.kill()
        server.wait()
        raise ServerDidNotStart(f"moto server did not start: {log.read_text()[-2000:]}")
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stdin.close()  # the child stops its server when stdin closes
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        server.stdout.close()


def s3_url(endpoint: str, bucket: str) -> str:
    """The store URL for a bucket on the test server."""
    return f"s3://{bucket}/{S3_PREFIX}?endpoint={endpoint}&secure=false"
