"""`pdr` as an operator runs it: the console command in a process of its own, with settings from the environment."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.env import TEST_SECRET
from tests.support.live import free_port

# The longest a command or a server's start may take on a busy 2-core machine before the test gives up on it.
START_SECONDS = 90


def pdr_env(database_url: str | None, folder: Path, **extra: str) -> dict[str, str]:
    """The environment of a `pdr` process on a database (None: the embedded default) with objects under `folder`.

    Nothing else of pdr's is inherited from the test run's own environment.
    """
    env = {name: value for name, value in os.environ.items() if not name.startswith("PDR_")}
    if database_url is not None:
        env["PDR_DATABASE_URL"] = database_url
        env["PDR_STORAGE_URL"] = (folder / "objects").as_uri()
    return {**env, "PDR_SECRET_KEY": TEST_SECRET, "PDR_SEARCH_WARM_UP": "false", **extra}


def run_pdr(env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run one `pdr` command to its end; its output and exit status."""
    return subprocess.run(
        [sys.executable, "-m", "catalog.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=START_SECONDS,
        check=False,
    )


@dataclass
class Served:
    """A running `pdr serve`: its base URL, and the file its stderr goes to (a pipe nobody reads could fill up)."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def stderr(self) -> str:
        """What the server (every process of it) has written to stderr so far."""
        return self.log_path.read_text()


def _wait_until_up(served: Served) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            raise AssertionError(f"pdr serve exited with {served.process.returncode}: {served.stderr}")
        try:
            httpx.get(served.url + "/healthz", timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("pdr serve did not answer /healthz")


def wait_for_line(served: Served, text: str, count: int) -> None:
    """Wait until the server's stderr holds `count` lines containing `text` (e.g. each worker's start)."""
    deadline = time.monotonic() + START_SECONDS
    while sum(text in line for line in served.stderr.splitlines()) < count:
        assert served.process.poll() is None, f"pdr serve exited: {served.stderr}"
        assert time.monotonic() < deadline, f"no {count} lines with {text!r}: {served.stderr}"
        time.sleep(0.1)


@contextmanager
def serving_pdr(env: dict[str, str], *args: str, cwd: Path) -> Iterator[Served]:
    """`pdr serve ARGS` on a free port until the block ends; then stopped (SIGTERM) and its stderr collected."""
    port = free_port()
    log_path = cwd / f"pdr-serve-{port}.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "catalog.cli", "serve", "--port", str(port), *args],
            env=env,
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
    served = Served(url=f"http://127.0.0.1:{port}", process=process, log_path=log_path)
    try:
        _wait_until_up(served)
        yield served
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server this test started, as systemd would (SIGTERM), killing it only if it does not go."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=START_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
