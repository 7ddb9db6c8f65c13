"""The side-effect-free preview of a certificate: it says what issuing then signs, refuses what issuing refuses, and
writes nothing (no number, no status slot, no log entry)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import func, select

from auth.caller import Caller
from auth.roles import Role
from registry import certificates
from registry.config import RegistrySettings
from registry.models import Certificate, LogEntry
from registry.schemas import CertificateRequest
from storage.db import session_scope
from storage.exceptions import Forbidden, InvalidInput
from tests.support.certificates import issue, ok, registered_resource
from tests.support.data import FakeClock
from tests.support.registry import Provider

STAFF = Caller(account_id="staff", name="operator", role=Role.operator)
SCOPE = "在广州市范围内用于交通规划研究"


def _written(engine: Engine) -> tuple[int, int]:
    """How many certificates and log entries exist."""
    with session_scope(engine) as session:
        made = int(session.exec(select(func.count()).select_from(Certificate)).one())
        logged = int(session.exec(select(func.count()).select_from(LogEntry)).one())
    return made, logged


def _preview(app: FastAPI, caller: Caller, **body: Any) -> certificates.Preview:
    """A preview computed in a reading session of the app, as a GET page computes it."""
    settings: RegistrySettings = app.state.settings.registry
    with app.state.open_session(write=False) as session:
        return certificates.preview(session, caller, settings, CertificateRequest.model_validate(body))


def test_the_preview_is_what_issuing_signs_and_writes_nothing(
    app: FastAPI, client: TestClient, clock: FakeClock, provider: Provider, operator: str, engine: Engine
) -> None:
    resource = registered_resource(client, clock, provider, operator)
    before = _written(engine)
    shown = _preview(app, STAFF, resource_id=resource["id"], rights=["processing_use", "holding"], scope=f" {SCOPE} ")
    assert _preview(app, STAFF, resource_id=resource["id"], rights=["holding"], scope=SCOPE).rights == ["holding"]
    assert _written(engine) == before
    credential = ok(issue(client, operator, resource_id=resource["id"], rights=["processing_use", "holding"]))[
        "credential"
    ]
    assert credential["credentialSubject"] == shown.credential_subject
    assert shown.rights == ["holding", "processing_use"] and shown.scope == SCOPE
    assert credential["validFrom"] == f"{shown.valid_from:%Y-%m-%dT%H:%M:%SZ}"
    assert credential["validUntil"] == f"{shown.valid_until:%Y-%m-%dT%H:%M:%SZ}"
    assert [name["@value"] for name in credential["issuer"]["name"]] == [shown.issuer_name.zh, shown.issuer_name.en]


def test_the_preview_refuses_what_issuing_refuses(
    app: FastAPI, client: TestClient, clock: FakeClock, provider: Provider, operator: str
) -> None:
    resource = registered_resource(client, clock, provider, operator)
    with pytest.raises(Forbidden):
        _preview(
            app,
            Caller(account_id="c", name="c", role=Role.consumer),
            resource_id=resource["id"],
            rights=["holding"],
            scope=SCOPE,
        )
    with pytest.raises(InvalidInput) as refused:
        _preview(app, STAFF, resource_id=resource["id"], rights=["product_operating"], scope=SCOPE)
    assert [problem.field for problem in refused.value.errors] == ["rights"]
    with pytest.raises(InvalidInput) as past:
        _preview(
            app, STAFF, resource_id=resource["id"], rights=["holding"], scope=SCOPE, authorisation_ends_on="2020-01-01"
        )
    assert [problem.field for problem in past.value.errors] == ["authorisation_ends_on"]
