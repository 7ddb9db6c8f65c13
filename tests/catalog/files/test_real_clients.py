"""Downloads as wget and curl make them: `--spider` and `-I` check without downloading, and `-c` resumes a
partial file with a range, named by Content-Disposition."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlmodel import select

from catalog.exchange.models import DownloadRecord
from storage.db import session_scope
from tests.support.exchange import PAYLOAD, World, content_url
from tests.support.live import serving
from tests.support.waiting import settled


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (apt-get install {name})")
    return path


def _records(engine: Engine) -> list[tuple[int, bool]]:
    """(bytes sent, complete) of every download on record."""
    with session_scope(engine) as session:
        return [(r.bytes_sent, r.complete) for r in session.exec(select(DownloadRecord)).all()]


def _run(*command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=60, check=False)


def test_wget_spider_then_resume(app: FastAPI, world: World, engine: Engine, tmp_path: Path) -> None:
    wget = _tool("wget")
    with serving(app) as base_url:
        url = base_url + content_url(world, world.open_dataset, world.open_file)
        spider = _run(wget, "--spider", "--server-response", url, cwd=tmp_path)
        assert spider.returncode == 0, spider.stderr
        assert _records(engine) == []  # checking is not downloading
        # A download that broke off after 4,000 bytes, under the name the server gives.
        (tmp_path / "data.bin").write_bytes(PAYLOAD[:4000])
        resumed = _run(wget, "-c", "--content-disposition", url, cwd=tmp_path)
        assert resumed.returncode == 0, resumed.stderr
    assert (tmp_path / "data.bin").read_bytes() == PAYLOAD
    assert "206" in resumed.stderr
    expected = [(len(PAYLOAD) - 4000, True)]
    assert settled(lambda: _records(engine), expected) == expected


def test_curl_head_and_continue(app: FastAPI, world: World, engine: Engine, tmp_path: Path) -> None:
    curl = _tool("curl")
    with serving(app) as base_url:
        url = base_url + content_url(world, world.open_dataset, world.open_file)
        head = _run(curl, "-sS", "-I", url, cwd=tmp_path)
        assert head.returncode == 0, head.stderr
        headers = dict(line.split(": ", 1) for line in head.stdout.splitlines()[1:] if ": " in line)
        assert head.stdout.startswith("HTTP/1.1 200")
        assert {k.lower(): v for k, v in headers.items()}["content-length"] == str(len(PAYLOAD))
        (tmp_path / "part").write_bytes(PAYLOAD[:1000])
        resumed = _run(curl, "-sS", "-f", "-C", "-", "-o", "part", url, cwd=tmp_path)
        assert resumed.returncode == 0, resumed.stderr
    assert (tmp_path / "part").read_bytes() == PAYLOAD
    expected = [(len(PAYLOAD) - 1000, True)]
    assert settled(lambda: _records(engine), expected) == expected
