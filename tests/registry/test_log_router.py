"""The transparency log over HTTP, checked with independent software (tlog-scales), and its audit."""

from __future__ import annotations

import base64
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update
from sqlmodel import col, select
from tlog_scales.reader import TilesReader
from tlog_scales.signing import Vkey
from tlog_scales.tlog import Checkpoint as ScalesCheckpoint
from tlog_scales.tlog import ConsistencyProof, InclusionProof
from typer.testing import CliRunner

from catalog.cli import app as cli
from catalog.settings import Settings
from registry import keys, log
from registry.context import bind
from registry.log_audit import audit
from registry.merkle import leaf_hash
from registry.models import LogCheckpoint, LogEntry, RegistrationStep
from storage.db import session_scope
from storage.exceptions import InvalidInput
from tests.support.data import bearer, resource_body
from tests.support.env import TEST_SECRET
from tests.support.registry import Provider


class ClientBackend:
    """A tlog-scales tiles backend that fetches through the test client."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.fetched: list[str] = []

    def get(self, *path: str) -> bytes | None:
        """One resource under /log/, or None when the service has none."""
        url = "/log/" + "/".join(path)
        self.fetched.append(url)
        response = self.client.get(url)
        return response.content if response.status_code == 200 else None


def _append(engine: Engine, settings: Settings, count: int, *, kind: str = "test.event") -> list[int]:
    with session_scope(engine) as session:
        bind(session, datetime.now(UTC), settings.keyring())
        events = [
            log.Event(kind=kind, subject=f"test:{i}", body={"n": i, "名称": "数据"}, at=datetime.now(UTC))
            for i in range(count)
        ]
        indexes = log.append(session, settings.keyring(), events)
        session.commit()
    return indexes


def _vkey(engine: Engine) -> str:
    with session_scope(engine) as session:
        key = keys.active_key(session, keys.LOG)
        assert key is not None
        return keys.log_vkey(key)


def _b64(values: list[str]) -> list[bytes]:
    return [base64.b64decode(v) for v in values]


@pytest.mark.parametrize("batches", [[1], [3, 250, 4], [256], [300, 300]])
def test_tlog_scales_verifies_checkpoint_tiles_and_proofs(
    client: TestClient, engine: Engine, settings: Settings, batches: list[int]
) -> None:
    sizes = []
    for count in batches:
        _append(engine, settings, count)
        sizes.append(sum(batches[: len(sizes) + 1]))
    size = sizes[-1]
    note = client.get("/log/checkpoint")
    assert note.headers["content-type"].startswith("text/plain")
    checkpoint = ScalesCheckpoint.from_text(note.text)
    checkpoint.verify(Vkey.from_string(_vkey(engine)))
    assert checkpoint.size == size
    assert checkpoint.origin == "testserver/log"

    backend = ClientBackend(client)
    reader = TilesReader(backend)
    assert reader.get_checkpoint().size == size
    assert reader.calculate_root_hash() == checkpoint.root_hash  # the root, from our tiles alone

    for index in sorted({0, size // 2, size - 1}):
        entry = client.get(f"/api/v1/log/entries/{index}").json()
        data = base64.b64decode(entry["data"])
        assert reader.get_entry(index) == data
        assert entry["envelope"]["body"]["名称"] == "数据"
        proof = client.get(f"/api/v1/log/proofs/inclusion?index={index}&tree_size={size}").json()
        assert base64.b64decode(proof["root_hash"]) == checkpoint.root_hash
        InclusionProof(index, size, _b64(proof["hashes"])).check(leaf_hash(data), checkpoint.root_hash)

    for old in sizes[:-1]:
        with session_scope(engine) as session:
            old_root = session.get(LogCheckpoint, old)
            assert old_root is not None
        proof = client.get(f"/api/v1/log/proofs/consistency?first={old}&second={size}").json()
        ConsistencyProof(old, size, _b64(proof["hashes"])).check(old_root.root_hash, checkpoint.root_hash)


def test_tiles_are_cacheable_only_when_full(client: TestClient, engine: Engine, settings: Settings) -> None:
    _append(engine, settings, 300)
    assert "immutable" in client.get("/log/tile/0/000").headers["cache-control"]
    partial = client.get("/log/tile/0/001.p/44")
    assert partial.status_code == 200
    assert len(partial.content) == 44 * 32
    assert partial.headers["cache-control"] == "no-cache"
    assert client.get("/log/tile/0/001").status_code == 404  # not full yet
    assert client.get("/log/tile/0/001.p/45").status_code == 404  # beyond the signed size
    assert client.get("/log/tile/entries/000").status_code == 200


@pytest.mark.parametrize(
    "path", ["..%2Fcheckpoint", "0/..%2F..%2Fetc", "0/1", "0/x1/000", "0/000.p/0", "0/000.p/257", "a/000"]
)
def test_malformed_tile_paths_are_404(client: TestClient, engine: Engine, settings: Settings, path: str) -> None:
    _append(engine, settings, 3)
    assert client.get(f"/log/tile/{path}").status_code == 404


def test_proofs_refuse_unsigned_sizes(client: TestClient, engine: Engine, settings: Settings) -> None:
    _append(engine, settings, 5)
    too_big = client.get("/api/v1/log/proofs/inclusion?index=0&tree_size=6")
    assert too_big.status_code == 422
    assert too_big.json()["errors"][0]["field"] == "tree_size"
    assert client.get("/api/v1/log/proofs/inclusion?index=5&tree_size=5").status_code == 422
    assert client.get("/api/v1/log/proofs/consistency?first=6&second=5").status_code == 422
    assert client.get("/api/v1/log/entries/5").status_code == 404
    assert client.get("/api/v1/log/entries/4").status_code == 200


def test_empty_log_has_no_checkpoint(client: TestClient) -> None:
    assert client.get("/log/checkpoint").status_code == 404


def test_entries_are_limited_to_64_kib(engine: Engine, settings: Settings) -> None:
    with session_scope(engine) as session:
        huge = log.Event(kind="test.big", subject="test:big", body={"x": "a" * 70_000}, at=datetime.now(UTC))
        with pytest.raises(InvalidInput):
            log.append(session, settings.keyring(), [huge])
    assert _append(engine, settings, 1) == [0]  # nothing of the refused entry remains


def test_concurrent_appends_make_one_linear_history(engine: Engine, settings: Settings) -> None:
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            for _ in range(10):
                _append(engine, settings, 3)
        except BaseException as exc:  # reported below; a thread's exception is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    vkey = _vkey(engine)  # before the session below: SQLite sessions hold the write lock
    with session_scope(engine) as session:
        sizes = list(session.exec(select(LogCheckpoint.tree_size).order_by(col(LogCheckpoint.tree_size))).all())
        assert sizes == list(range(3, 121, 3))
        assert list(session.exec(select(LogEntry.idx).order_by(col(LogEntry.idx))).all()) == list(range(120))
        assert list(audit(session, vkey, "testserver/log")) == []


# ---------------------------------------------------------------- pdr log audit


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The CLI pointed at the test's database."""
    monkeypatch.setenv("PDR_DATABASE_URL", settings.db.database_url)
    monkeypatch.setenv("PDR_SECRET_KEY", TEST_SECRET)
    monkeypatch.setenv("PDR_STORAGE_URL", "file://" + str(tmp_path / "objects"))


def _audit() -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["log", "audit"])
    return result.exit_code, result.output


def test_audit_passes_on_a_sound_log(engine: Engine, settings: Settings, cli_env: None) -> None:
    _append(engine, settings, 40)
    code, output = _audit()
    assert code == 0, output
    assert "40 entries" in output


def test_audit_names_a_changed_entry_byte(engine: Engine, settings: Settings, cli_env: None) -> None:
    _append(engine, settings, 10)
    with session_scope(engine) as session:
        entry = session.get(LogEntry, 7)
        assert entry is not None
        tampered = entry.data.replace(b'"n":7', b'"n":8')
        session.execute(update(LogEntry).where(col(LogEntry.idx) == 7).values(data=tampered))
        session.commit()
    code, output = _audit()
    assert code == 1
    assert "log entry 7" in output


def test_audit_names_a_changed_checkpoint(engine: Engine, settings: Settings, cli_env: None) -> None:
    _append(engine, settings, 4)
    with session_scope(engine) as session:
        checkpoint = session.get(LogCheckpoint, 4)
        assert checkpoint is not None
        lines = checkpoint.note.split("\n")
        lines[1] = "5"  # claim a bigger tree under the same signature
        session.execute(update(LogCheckpoint).where(col(LogCheckpoint.tree_size) == 4).values(note="\n".join(lines)))
        session.commit()
    code, output = _audit()
    assert code == 1
    assert "checkpoint 4" in output


def test_audit_names_a_changed_registry_row(
    client: TestClient, engine: Engine, cli_env: None, provider: Provider, operator: str
) -> None:
    resource = client.post("/api/v1/resources", json=resource_body(), headers=bearer(provider.token)).json()
    registration = client.post(
        "/api/v1/registrations",
        json={"type": "first", "subject": {"resource_id": resource["id"]}},
        headers=bearer(provider.token),
    ).json()
    client.post(f"/api/v1/registrations/{registration['id']}/submit", headers=bearer(provider.token))
    assert _audit()[0] == 0
    with session_scope(engine) as session:
        step = session.exec(select(RegistrationStep).where(RegistrationStep.action == "submit")).one()
        assert step.log_index is not None
        session.execute(update(RegistrationStep).where(col(RegistrationStep.id) == step.id).values(to_state="accepted"))
        session.commit()
    code, output = _audit()
    assert code == 1
    assert f"registration step {step.id}" in output


def test_trust_document_serves_what_a_verifier_needs(client: TestClient, engine: Engine) -> None:
    trust = client.get("/.well-known/pdr-trust.json").json()
    assert trust["log_origin"] == "testserver/log"
    assert trust["log_vkey"] == _vkey(engine)
    assert Vkey.from_string(trust["log_vkey"]).name == trust["log_origin"]
    assert trust["issuer_did"].startswith("did:key:z6Mk")
    assert trust["issuer_did"] in trust["issuer_dids"]
    assert trust["status_list_url"] == "http://testserver/status/certificates"
