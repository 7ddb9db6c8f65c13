"""Signing in through the portal's own form, as a browser would: the form's token read off the page."""

from __future__ import annotations

import re
from datetime import date

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine

from auth import service
from auth.caller import Caller
from storage.db import session_scope
from tests.support.data import FakeClock
from tests.support.registry import Provider
from tests.support.workflow import apply, new_resource, step

PASSWORD = "correct horse battery"
_TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def form_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = _TOKEN.search(html)
    assert found, html
    return found.group(1)


def sign_in(client: TestClient, name: str, password: str = PASSWORD, next_path: str = "/") -> Response:
    """Fetch the sign-in form and post it back with its token; the response is not followed."""
    token = form_token(client.get("/signin").text)
    fields = {"csrf_token": token, "name": name, "password": password, "next": next_path}
    return client.post("/signin", data=fields, follow_redirects=False)


def in_notice(client: TestClient, clock: FakeClock, provider: Provider, operator: str, name: str) -> str:
    """A registration taken to its public notice, the clock on its first day; returns its id."""
    resource = new_resource(client, provider, name=name)
    registration = apply(client, provider, resource["id"])
    step(client, provider.token, registration, "submit")
    step(client, operator, registration, "accept")
    passed = step(client, operator, registration, "pass-review")
    clock.set_china(date.fromisoformat(passed["notice_starts_on"]))
    return registration


def give_password(engine: Engine, name: str, password: str = PASSWORD) -> None:
    """Let an account made without a password sign in on the pages."""
    with session_scope(engine) as session:
        service.set_password(session, Caller(name="test"), name, password)
