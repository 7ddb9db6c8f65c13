"""Every status the service answers with comes as an RFC 9457 problem, with the request id."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from auth.roles import Role
from catalog.settings import Settings
from tests.support.data import bearer, make_account

PROBLEM = "application/problem+json"


def _assert_problem(response: object, status: int) -> dict[str, object]:
    from httpx import Response

    assert isinstance(response, Response)
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert isinstance(body["type"], str) and body["type"].startswith("https://")
    assert body["title"] and body["detail"]
    assert body["request_id"] == response.headers["x-request-id"]
    return dict(body)


def test_unknown_path_is_404(client: TestClient) -> None:
    body = _assert_problem(client.get("/no/such/thing"), 404)
    assert "/no/such/thing" in str(body["detail"])


def test_wrong_method_is_405(client: TestClient) -> None:
    response = client.put("/api/v1/me")
    _assert_problem(response, 405)
    assert "GET" in response.headers["allow"]


def test_validation_names_each_field(client: TestClient, engine: Engine, settings: Settings) -> None:
    _, token = make_account(engine, settings.auth, Role.consumer)
    response = client.post("/api/v1/tokens", json={"name": "", "expires_in_days": 0}, headers=bearer(token))
    body = _assert_problem(response, 422)
    fields = {e["field"] for e in body["errors"]}  # type: ignore[attr-defined]
    assert fields == {"name", "expires_in_days"}


def test_malformed_json_is_422(client: TestClient, engine: Engine, settings: Settings) -> None:
    _, token = make_account(engine, settings.auth, Role.consumer)
    response = client.post(
        "/api/v1/tokens", content=b"{not json", headers={**bearer(token), "content-type": "application/json"}
    )
    _assert_problem(response, 422)


def test_unauthenticated_is_401_with_challenge(client: TestClient) -> None:
    response = client.get("/api/v1/me")
    _assert_problem(response, 401)
    assert response.headers["www-authenticate"] == 'Bearer realm="pdr"'


def test_forbidden_is_403(client: TestClient, engine: Engine, settings: Settings) -> None:
    _, token = make_account(engine, settings.auth, Role.consumer)
    _assert_problem(client.get("/api/v1/audit", headers=bearer(token)), 403)


def test_conflict_is_409(client: TestClient, engine: Engine, settings: Settings) -> None:
    _, admin = make_account(engine, settings.auth, Role.admin, name="boss")
    body = _assert_problem(
        client.post("/api/v1/accounts", json={"name": "boss", "role": "consumer"}, headers=bearer(admin)), 409
    )
    assert body["errors"] == [{"field": "name", "message": "already taken"}]


def test_oversized_body_is_413(client: TestClient, engine: Engine, settings: Settings) -> None:
    _, token = make_account(engine, settings.auth, Role.consumer)
    big = b'{"name": "' + b"x" * (settings.max_request_body_bytes + 10) + b'"}'
    response = client.post("/api/v1/tokens", content=big, headers={**bearer(token), "content-type": "application/json"})
    _assert_problem(response, 413)


def test_oversized_chunked_body_is_413(client: TestClient, engine: Engine, settings: Settings) -> None:
    _, token = make_account(engine, settings.auth, Role.consumer)

    def chunks() -> object:
        yield b'{"name": "'
        for _ in range(settings.max_request_body_bytes // 65536 + 2):
            yield b"x" * 65536
        yield b'"}'

    response = client.post(
        "/api/v1/tokens",
        content=chunks(),
        headers={**bearer(token), "content-type": "application/json"},  # type: ignore[arg-type]
    )
    _assert_problem(response, 413)


def test_internal_error_is_500_without_internals(app: FastAPI) -> None:
    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("SELECT secret FROM /var/lib/pdr/private.key")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom", headers={"X-Request-ID": "trace-me"})
    body = _assert_problem(response, 500)
    assert body["request_id"] == "trace-me"
    assert "SELECT" not in response.text and "private.key" not in response.text
    assert "Traceback" not in response.text


def test_request_id_is_echoed_or_generated(client: TestClient) -> None:
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"
    generated = client.get("/healthz").headers["x-request-id"]
    assert len(generated) == 32
    # A header that could inject into logs is replaced, not echoed.
    assert client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"}).headers["x-request-id"] != (
        "bad id\twith spaces"
    )


def test_chinese_text_is_not_escaped(client: TestClient, engine: Engine, settings: Settings) -> None:
    _, token = make_account(engine, settings.auth, Role.consumer)
    response = client.post("/api/v1/tokens", json={"name": "数据令牌"}, headers=bearer(token))
    assert "数据令牌" in response.text
