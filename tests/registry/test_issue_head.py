"""An issue reads the log's head, the status list's reach and the active keys in one statement; when its bit runs
past the published list, the longer list is published and logged first, and the certificate's own append starts
from the log as that left it."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, update
from sqlmodel import col, select

from catalog.settings import Settings
from registry import status_list, verifier
from registry.issue_head import read_head
from registry.keys import ISSUER, LOG, active_keys, log_vkey
from registry.log_audit import audit
from registry.models import Counter, LogEntry, StatusListVersion
from storage.db import session_scope
from tests.support.certificates import ok, post, registered_resource
from tests.support.data import FakeClock
from tests.support.registry import Provider

SCOPE = "在广州市范围内用于交通规划研究"


def _issue(client: TestClient, operator: str, resource: dict[str, str]) -> dict[str, object]:
    body = {"resource_id": resource["id"], "rights": ["holding"], "scope": SCOPE}
    return ok(post(client, "/api/v1/certificates", operator, body))


def test_the_head_names_the_newest_checkpoint_the_list_and_the_active_keys(
    client: TestClient, clock: FakeClock, provider: Provider, operator: str, engine: Engine
) -> None:
    _issue(client, operator, registered_resource(client, clock, provider, operator))
    with session_scope(engine) as session:
        head = read_head(session)
        assert head is not None
        entries = session.exec(select(LogEntry.idx)).all()
        assert head.size == len(entries) == head.last.tree_size
        assert head.list_length == status_list.MIN_LENGTH
        assert head.list_url == status_list.list_url("http://testserver")
        assert head.url_covering(status_list.MIN_LENGTH - 1) == head.list_url
        assert head.url_covering(status_list.MIN_LENGTH) is None
        assert head.key_ids == {purpose: key.id for purpose, key in active_keys(session, [ISSUER, LOG]).items()}


def test_an_issue_past_the_published_list_publishes_a_longer_one_first_and_logs_after_it(
    client: TestClient, clock: FakeClock, provider: Provider, operator: str, engine: Engine, settings: Settings
) -> None:
    resources = [registered_resource(client, clock, provider, operator, name=f"长列表资源{i}") for i in range(2)]
    _issue(client, operator, resources[0])
    with session_scope(engine) as session:
        # The next bit taken is the first past the published list's end.
        name = status_list.counter_name()
        session.execute(update(Counter).where(col(Counter.name) == name).values(value=status_list.MIN_LENGTH))
        session.commit()
    issued = _issue(client, operator, resources[1])
    with session_scope(engine) as session:
        versions = session.exec(select(StatusListVersion).order_by(col(StatusListVersion.version))).all()
        assert [(v.version, v.length) for v in versions] == [
            (1, status_list.MIN_LENGTH),
            (2, 2 * status_list.MIN_LENGTH),
        ]
        # The longer list was logged first, and the certificate's event right after it, under one checkpoint each.
        assert issued["log_index"] == versions[1].log_index + 1
        trust = verifier.Trust.from_document(verifier.trust_document(session, settings))
    bundle = client.get(f"/api/v1/certificates/{issued['number']}").json()
    assert bundle["credential"]["credentialStatus"]["statusListIndex"] == str(status_list.MIN_LENGTH)
    listed = client.get("/status/certificates").json()
    report = verifier.verify_bundle(bundle, trust, at=clock.now, status_list_credential=listed)
    assert report.exit_code == verifier.EXIT_VERIFIED, report.as_dict()
    with session_scope(engine) as session:
        [log_key] = active_keys(session, [LOG]).values()
    with session_scope(engine) as session:
        assert list(audit(session, log_vkey(log_key), "testserver/log")) == []
