"""A download uses a unit of its grant's quota only once its bytes can flow: a store that cannot answer uses none,
and two downloads racing for the last unit cannot both win."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import select

from catalog.exchange.models import AccessGrant, DownloadRecord
from storage.db import session_scope
from storage.objects import ObjectStore, StorageUnavailable
from tests.support.data import bearer
from tests.support.exchange import PAYLOAD, World, content_url, granted
from tests.support.live import serving


def _used(engine: Engine, grant_id: str) -> int:
    with session_scope(engine) as session:
        grant = session.get(AccessGrant, grant_id)
        assert grant is not None
        return grant.downloads_used


def _records(engine: Engine) -> list[DownloadRecord]:
    with session_scope(engine) as session:
        return list(session.exec(select(DownloadRecord)).all())


def _unavailable(*args: object, **kwargs: object) -> Any:
    raise StorageUnavailable()


@pytest.mark.parametrize("mode", ["file", "stream"])
def test_a_store_that_cannot_answer_uses_no_quota(
    client: TestClient, app: FastAPI, world: World, engine: Engine, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    w = world
    grant_id = granted(client, w, quota=3)["grant_id"]
    assert client.get(content_url(w), headers=bearer(w.consumer)).status_code == 200
    assert _used(engine, grant_id) == 1
    store: ObjectStore = app.state.object_store
    if mode == "file":
        monkeypatch.setattr(store, "local_path", _unavailable)
    else:
        # A store with no local files (S3, proxied): the object is opened for reading, and that fails.
        app.state.settings.objects.download_mode = "proxy"
        monkeypatch.setattr(store, "local_path", lambda sha256: None)
        monkeypatch.setattr(store, "open_range", _unavailable)
    for attempt in ({}, {"Range": "bytes=100-"}):
        failed = client.get(content_url(w), headers={**bearer(w.consumer), **attempt})
        assert failed.status_code == 503
        assert failed.headers["retry-after"] == "30"
        assert failed.headers["content-type"] == "application/problem+json"
    assert _used(engine, grant_id) == 1
    assert len(_records(engine)) == 1
    monkeypatch.undo()  # the store answers again
    again = client.get(content_url(w), headers=bearer(w.consumer))
    assert again.status_code == 200
    assert again.content == PAYLOAD
    assert _used(engine, grant_id) == 2
    assert [r.bytes_sent for r in _records(engine)] == [len(PAYLOAD), len(PAYLOAD)]


def test_an_object_that_is_missing_uses_no_quota(
    client: TestClient, app: FastAPI, world: World, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = world
    grant_id = granted(client, w, quota=1)["grant_id"]
    store: ObjectStore = app.state.object_store
    original = store.local_path

    def vanished(sha256: str) -> Path | None:
        store.delete(sha256)
        return original(sha256)

    monkeypatch.setattr(store, "local_path", vanished)
    assert client.get(content_url(w), headers=bearer(w.consumer)).status_code == 404
    assert _used(engine, grant_id) == 0


def _download_in_threads(base: str, url: str, token: str, count: int) -> list[httpx.Response]:
    answers: list[httpx.Response] = []

    def download() -> None:
        answers.append(httpx.get(f"{base}{url}", headers=bearer(token), timeout=30))

    threads = [threading.Thread(target=download) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


@pytest.fixture
def opened_together(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[int], None]]:
    """Make the next downloads open their object at the same moment: each waits until all are open."""
    store: ObjectStore = app.state.object_store
    original = store.local_path

    def arm(count: int) -> None:
        barrier = threading.Barrier(count, timeout=20)

        def together(sha256: str) -> Path | None:
            found = original(sha256)
            barrier.wait()
            return found

        monkeypatch.setattr(store, "local_path", together)

    yield arm


def test_two_downloads_racing_for_the_last_unit_cannot_both_win(
    client: TestClient, app: FastAPI, world: World, engine: Engine, opened_together: Callable[[int], None]
) -> None:
    w = world
    grant_id = granted(client, w, quota=1)["grant_id"]
    with serving(app) as base:
        # Both have seen a live grant with a unit left, and both have opened the object, before either counts.
        opened_together(2)
        answers = _download_in_threads(base, content_url(w), w.consumer, 2)
    assert sorted(a.status_code for a in answers) == [200, 403]
    assert next(a for a in answers if a.status_code == 200).content == PAYLOAD
    assert _used(engine, grant_id) == 1
    assert [(r.grant_id, r.complete) for r in _records(engine)] == [(grant_id, True)]
