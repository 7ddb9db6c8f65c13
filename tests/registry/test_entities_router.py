"""Registrant entities over HTTP: who creates them, USCC checks, verification, and who sees what."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine

from auth.roles import Role
from catalog.settings import Settings
from tests.support.data import VALID_USCC, bearer, entity_body, make_account, new_uscc, uscc_with_check
from tests.support.registry import Provider

CONTACT_FIELDS = {"contact_name", "contact_phone", "contact_email"}


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


def _token(engine: Engine, settings: Settings, role: Role) -> str:
    return make_account(engine, settings.auth, role)[1]


def _create(client: TestClient, token: str | None, body: dict[str, object]) -> Response:
    response: Response = client.post("/api/v1/entities", json=body, headers=bearer(token) if token else {})
    return response


def _created(client: TestClient, token: str, serial: int, **overrides: object) -> dict[str, Any]:
    response = _create(client, token, entity_body(serial, **overrides))
    assert response.status_code == 201, response.text
    return dict(response.json())


def _verified(client: TestClient, operator: str, serial: int, **overrides: object) -> dict[str, Any]:
    entity = _created(client, operator, serial, **overrides)
    response = client.post(f"/api/v1/entities/{entity['id']}/verify", headers=bearer(operator))
    assert response.status_code == 200, response.text
    return dict(response.json())


def _fields(response: Response) -> set[str]:
    return {e["field"] for e in response.json().get("errors", [])}


def _entities_with_uscc(client: TestClient, operator: str, uscc: str) -> int:
    return int(client.get("/api/v1/entities", params={"q": uscc}, headers=bearer(operator)).json()["count"])


# ---------------------------------------------------------------- who creates entities


def test_a_provider_creates_a_pending_entity_and_becomes_its_member(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    token = _token(engine, settings, Role.provider)
    assert client.get("/api/v1/me", headers=bearer(token)).json()["entity_id"] is None
    response = _create(client, token, entity_body(11))
    assert response.status_code == 201, response.text
    entity = response.json()
    assert entity["status"] == "pending"
    assert entity["uscc"] == new_uscc(11)
    assert entity["contact_name"] == "张三"
    assert client.get("/api/v1/me", headers=bearer(token)).json()["entity_id"] == entity["id"]


@pytest.mark.parametrize("role", [Role.operator, Role.admin])
def test_staff_create_an_entity_without_joining_it(
    client: TestClient, engine: Engine, settings: Settings, role: Role
) -> None:
    token = _token(engine, settings, role)
    entity = _created(client, token, 12)
    assert entity["status"] == "pending"
    assert client.get("/api/v1/me", headers=bearer(token)).json()["entity_id"] is None
    assert client.get(f"/api/v1/entities/{entity['id']}", headers=bearer(token)).status_code == 200


def test_consumers_may_not_create_entities(client: TestClient, consumer: str, operator: str) -> None:
    response = _create(client, consumer, entity_body(13))
    assert response.status_code == 403
    assert _entities_with_uscc(client, operator, new_uscc(13)) == 0


def test_anonymous_callers_must_sign_in(client: TestClient, operator: str) -> None:
    response = _create(client, None, entity_body(14))
    assert response.status_code == 401
    assert _entities_with_uscc(client, operator, new_uscc(14)) == 0


def test_a_provider_acts_for_one_entity_only(client: TestClient, provider: Provider, operator: str) -> None:
    response = _create(client, provider.token, entity_body(15))
    assert response.status_code == 409
    assert _entities_with_uscc(client, operator, new_uscc(15)) == 0
    assert client.get("/api/v1/me", headers=bearer(provider.token)).json()["entity_id"] == provider.entity_id


# ---------------------------------------------------------------- USCC


@pytest.mark.parametrize(
    "second",
    [
        VALID_USCC[1],
        VALID_USCC[1].lower(),
        _full_width(VALID_USCC[1]),
        _full_width(VALID_USCC[1].lower()),
        f"  {VALID_USCC[1][:9]} {VALID_USCC[1][9:]} ",
    ],
    ids=["same", "lower-case", "full-width", "full-width-lower-case", "spaced"],
)
def test_a_code_is_registered_once(client: TestClient, operator: str, second: str) -> None:
    first = _created(client, operator, 21, uscc=VALID_USCC[1])
    assert first["uscc"] == VALID_USCC[1]
    response = _create(client, operator, entity_body(22, uscc=second))
    assert response.status_code == 409, response.text
    assert _fields(response) == {"uscc"}
    assert _entities_with_uscc(client, operator, VALID_USCC[1]) == 1


_BASE17 = VALID_USCC[0][:17]


def _with_letter(letter: str, position: int) -> str:
    """VALID_USCC[0] with one letter put at a 1-based position (among the first 17)."""
    first17 = _BASE17[: position - 1] + letter + _BASE17[position:]
    return first17 + "0"


@pytest.mark.parametrize(
    ("code", "says"),
    [
        pytest.param(VALID_USCC[0][:17] + "R", "check character", id="wrong-check"),
        pytest.param(VALID_USCC[0][:17], "18 characters", id="17-long"),
        pytest.param(VALID_USCC[0] + "0", "18 characters", id="19-long"),
        pytest.param(uscc_with_check("91ABCDEF551385082"), "region", id="region-letters"),
        pytest.param(uscc_with_check("9111010A551385082"), "region", id="region-one-letter"),
        *[
            pytest.param(
                _with_letter(letter, position), f"'{letter}' at position {position}", id=f"{letter}@{position}"
            )
            for letter, position in (("I", 10), ("O", 12), ("Z", 1), ("S", 2), ("V", 17))
        ],
    ],
)
def test_an_invalid_code_is_refused_naming_the_field(client: TestClient, operator: str, code: str, says: str) -> None:
    response = _create(client, operator, entity_body(23, uscc=code))
    assert response.status_code == 422, response.text
    problems = response.json()["errors"]
    assert [p["field"] for p in problems] == ["uscc"]
    assert says in problems[0]["message"]
    assert client.get("/api/v1/entities", params={"status": "pending"}, headers=bearer(operator)).json()["count"] == 0


def test_a_full_width_code_is_stored_normalised(client: TestClient, operator: str) -> None:
    entity = _created(client, operator, 24, uscc="９１１１０１０８５５１３８５０８２Ｑ")
    assert entity["uscc"] == "91110108551385082Q"
    assert entity["region_code"] == "110108"
    stored = client.get(f"/api/v1/entities/{entity['id']}", headers=bearer(operator)).json()
    assert stored["uscc"] == "91110108551385082Q"


@pytest.mark.parametrize("prefix", ["N2", "Y1", "A1"])
def test_letter_authority_and_category_codes_are_accepted(client: TestClient, operator: str, prefix: str) -> None:
    code = uscc_with_check(prefix + "440106" + "MA5D0K7X3")
    entity = _created(client, operator, 25, uscc=code)
    assert entity["uscc"] == code
    assert entity["region_code"] == "440106"


def test_the_region_code_comes_from_positions_3_to_8(client: TestClient, operator: str) -> None:
    assert _created(client, operator, 26, uscc=VALID_USCC[1])["region_code"] == "350100"
    assert _created(client, operator, 27, uscc=VALID_USCC[0])["region_code"] == "110108"


def test_an_unknown_kind_is_refused_naming_the_field(client: TestClient, operator: str) -> None:
    response = _create(client, operator, entity_body(28, kind="ministry"))
    assert response.status_code == 422
    assert _fields(response) == {"kind"}


# ---------------------------------------------------------------- verify and suspend


@pytest.mark.parametrize("role", [Role.operator, Role.admin])
def test_staff_verify_and_suspend(client: TestClient, engine: Engine, settings: Settings, role: Role) -> None:
    token = _token(engine, settings, role)
    entity = _created(client, _token(engine, settings, Role.provider), 31)
    verified = client.post(f"/api/v1/entities/{entity['id']}/verify", headers=bearer(token))
    assert verified.status_code == 200, verified.text
    assert verified.json()["status"] == "verified"
    suspended = client.post(
        f"/api/v1/entities/{entity['id']}/suspend", json={"reason": "资质过期"}, headers=bearer(token)
    )
    assert suspended.status_code == 200, suspended.text
    assert suspended.json()["status"] == "suspended"
    assert suspended.json()["status_reason"] == "资质过期"


@pytest.mark.parametrize(("who", "status"), [("member", 403), ("consumer", 403), ("anonymous", 401)])
@pytest.mark.parametrize("action", ["verify", "suspend"])
def test_others_may_not_verify_or_suspend(
    client: TestClient,
    engine: Engine,
    settings: Settings,
    operator: str,
    consumer: str,
    who: str,
    status: int,
    action: str,
) -> None:
    member = _token(engine, settings, Role.provider)
    entity = _created(client, member, 32)
    if action == "suspend":
        client.post(f"/api/v1/entities/{entity['id']}/verify", headers=bearer(operator))
    before = client.get(f"/api/v1/entities/{entity['id']}", headers=bearer(operator)).json()["status"]
    headers = {"member": bearer(member), "consumer": bearer(consumer), "anonymous": {}}[who]
    response = client.post(f"/api/v1/entities/{entity['id']}/{action}", json={"reason": "无"}, headers=headers)
    assert response.status_code == status
    assert client.get(f"/api/v1/entities/{entity['id']}", headers=bearer(operator)).json()["status"] == before


@pytest.mark.parametrize("body", [{}, {"reason": None}, {"reason": "   "}], ids=["empty", "null", "blank"])
def test_a_suspension_states_its_reason(client: TestClient, operator: str, body: dict[str, object]) -> None:
    entity = _verified(client, operator, 33)
    response = client.post(f"/api/v1/entities/{entity['id']}/suspend", json=body, headers=bearer(operator))
    assert response.status_code in (409, 422)
    assert _fields(response) == {"reason"}
    assert client.get(f"/api/v1/entities/{entity['id']}").json()["status"] == "verified"


def test_a_suspension_without_a_body_is_refused(client: TestClient, operator: str) -> None:
    entity = _verified(client, operator, 34)
    response = client.post(f"/api/v1/entities/{entity['id']}/suspend", headers=bearer(operator))
    assert response.status_code == 422
    assert client.get(f"/api/v1/entities/{entity['id']}").json()["status"] == "verified"


def test_verifying_twice_is_a_conflict(client: TestClient, operator: str) -> None:
    entity = _verified(client, operator, 35)
    again = client.post(f"/api/v1/entities/{entity['id']}/verify", headers=bearer(operator))
    assert again.status_code == 409
    assert client.get(f"/api/v1/entities/{entity['id']}").json()["status"] == "verified"


# ---------------------------------------------------------------- who sees what


def test_a_pending_entity_is_seen_only_by_its_members_and_the_staff(
    client: TestClient, engine: Engine, settings: Settings, operator: str, consumer: str, other_provider: Provider
) -> None:
    member = _token(engine, settings, Role.provider)
    entity = _created(client, member, 41)
    path = f"/api/v1/entities/{entity['id']}"
    for headers in ({}, bearer(consumer), bearer(other_provider.token)):
        assert client.get(path, headers=headers).status_code == 404
    for token in (member, operator, _token(engine, settings, Role.admin)):
        response = client.get(path, headers=bearer(token))
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "pending"
        assert body["contact_name"] == "张三"
        assert body["contact_phone"] == "020-12345678"
        assert body["contact_email"] == "data@example.gov.cn"


def test_a_verified_entity_is_public_without_its_contact(
    client: TestClient, provider: Provider, other_provider: Provider, operator: str, consumer: str
) -> None:
    path = f"/api/v1/entities/{provider.entity_id}"
    for headers in ({}, bearer(consumer), bearer(other_provider.token)):
        response = client.get(path, headers=headers)
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "verified"
        assert body["uscc"] == new_uscc(1)
        assert not CONTACT_FIELDS & set(body), body
    for token in (provider.token, operator):
        assert set(client.get(path, headers=bearer(token)).json()) >= CONTACT_FIELDS


def test_search_by_name_fragment_and_by_code(client: TestClient, operator: str, consumer: str) -> None:
    transport = _verified(client, operator, 51, name="天河区交通运输局")
    health = _verified(client, operator, 52, name="越秀区卫生健康局", uscc=VALID_USCC[1])
    pending = _created(client, operator, 53, name="天河区教育局")

    def ids(params: dict[str, str], headers: dict[str, str]) -> set[str]:
        body = client.get("/api/v1/entities", params=params, headers=headers).json()
        assert body["count"] == len(body["items"])
        return {e["id"] for e in body["items"]}

    assert ids({"q": "天河"}, {}) == {transport["id"]}
    assert ids({"q": "卫生健康"}, {}) == {health["id"]}
    assert ids({"q": VALID_USCC[1]}, {}) == {health["id"]}
    assert ids({"q": VALID_USCC[1].lower()}, {}) == {health["id"]}
    assert ids({"q": VALID_USCC[1][:10]}, {}) == set()  # a code matches exactly, not by prefix
    assert ids({"q": "天河"}, bearer(operator)) == {transport["id"], pending["id"]}
    listed = client.get("/api/v1/entities", params={"q": "天河"}).json()["items"]
    assert not CONTACT_FIELDS & set(listed[0])


def test_only_verified_entities_are_listed_to_the_public(
    client: TestClient, engine: Engine, settings: Settings, operator: str, consumer: str
) -> None:
    verified = _verified(client, operator, 61)
    pending = _created(client, operator, 62)
    suspended = _verified(client, operator, 63)
    client.post(f"/api/v1/entities/{suspended['id']}/suspend", json={"reason": "停业"}, headers=bearer(operator))

    def ids(headers: dict[str, str], **params: str) -> list[str]:
        return [e["id"] for e in client.get("/api/v1/entities", params=params, headers=headers).json()["items"]]

    assert ids({}) == [verified["id"]]
    assert ids(bearer(consumer)) == [verified["id"]]
    assert ids(bearer(consumer), status="pending") == [verified["id"]]  # the filter is the staff's only
    assert ids({}, status="suspended") == [verified["id"]]
    assert ids(bearer(operator), status="pending") == [pending["id"]]
    assert ids(bearer(operator), status="suspended") == [suspended["id"]]
    admin = _token(engine, settings, Role.admin)
    assert set(ids(bearer(admin))) == {verified["id"], pending["id"], suspended["id"]}


def test_search_treats_like_wildcards_as_text(client: TestClient, operator: str) -> None:
    _verified(client, operator, 71, name="天河区交通运输局")
    _verified(client, operator, 72, name="越秀区卫生健康局")
    for fragment in ("%", "_"):
        assert client.get("/api/v1/entities", params={"q": fragment}).json()["count"] == 0
