"""Trade vouchers: one for every finalized agreement with a fee and none for a free one, numbered with a check
character, listed and read by both parties and the staff only, and in the annual disclosure of an operator entity."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update
from sqlmodel import col
from stdnum.iso7064 import mod_37_36

from auth.roles import Role
from catalog.exchange.vouchers import checked_number, voucher_number
from catalog.settings import Settings
from registry.models import Entity
from storage.db import session_scope
from storage.exceptions import InvalidInput
from tests.support.data import FakeClock, bearer, make_account
from tests.support.dataspace import bounded_welfare_offer_body, finalized_negotiation, offer_body
from tests.support.exchange import World, add_operator_entity

BASE = "/api/v1/vouchers"
NUMBER = re.compile(r"PDRV-([0-9]{4})-([0-9]{10})-([0-9A-Z])")


def _paid(client: TestClient, w: World, consumer_token: str | None = None) -> dict[str, Any]:
    """A negotiation of the conditional dataset on the offer with a fee of 500 CNY, finalized."""
    return finalized_negotiation(
        client,
        w.conditional,
        offer_body(),
        provider_token=w.provider.token,
        consumer_token=consumer_token or w.consumer,
    )


def _vouchers(client: TestClient, token: str) -> dict[str, Any]:
    listed = client.get(BASE, headers=bearer(token))
    assert listed.status_code == 200, listed.text
    return dict(listed.json())


def _log_index(client: TestClient, token: str, agreement_id: str) -> int:
    bundle = client.get(f"/api/v1/agreements/{agreement_id}", headers=bearer(token))
    assert bundle.status_code == 200, bundle.text
    return int(bundle.json()["log_index"])


def _other_check(number: str) -> str:
    """The number with a wrong check character."""
    right = number[-1]
    return number[:-1] + ("0" if right != "0" else "1")


def test_numbers_carry_a_check_character_that_catches_a_mistyped_one() -> None:
    number = voucher_number(2026, 123)
    match = NUMBER.fullmatch(number)
    assert match is not None and match[1] == "2026" and match[2] == "0000000123"
    assert mod_37_36.is_valid(number.replace("-", ""))
    assert checked_number(number.lower().replace("-", "")) == number
    assert voucher_number(2026, 124) != number
    assert voucher_number(2026, 12_345_678_901).startswith("PDRV-2026-12345678901-")
    with pytest.raises(InvalidInput, match="wrong check character"):
        checked_number(_other_check(number))
    with pytest.raises(InvalidInput, match="not a voucher number"):
        checked_number("PDR-2026-4401-00000123-C")


def test_a_finalized_agreement_with_a_fee_gives_one_voucher(client: TestClient, world: World) -> None:
    w = world
    assert _vouchers(client, w.operator)["count"] == 0
    negotiation = _paid(client, w)
    listed = _vouchers(client, w.consumer)
    assert listed["count"] == 1
    voucher = listed["items"][0]
    log_index = _log_index(client, w.consumer, negotiation["id"])
    assert voucher["agreement_id"] == negotiation["id"]
    assert voucher["agreement_log_index"] == log_index
    assert voucher["assigner_entity_id"] == w.provider.entity_id
    assert voucher["account_id"] == w.consumer_id
    assert voucher["entity_id"] is None
    assert voucher["dataset_id"] == w.conditional
    assert voucher["price"] == "500.00"
    assert voucher["currency"] == "CNY"
    match = NUMBER.fullmatch(voucher["number"])
    assert match is not None, voucher["number"]
    assert match[1] == "2026" and int(match[2]) == log_index
    assert mod_37_36.is_valid(voucher["number"].replace("-", ""))
    assert _vouchers(client, w.operator)["count"] == 1  # exactly one, for everyone the staff see


def test_no_voucher_before_the_agreement_is_finalized(client: TestClient, world: World) -> None:
    w = world
    offered = client.post(
        f"/api/v1/datasets/{w.conditional}/offers", json=offer_body(), headers=bearer(w.provider.token)
    )
    started = client.post("/api/v1/negotiations", json={"offer_id": offered.json()["id"]}, headers=bearer(w.consumer))
    nid = started.json()["id"]
    for token, step in ((w.provider.token, "agree"), (w.consumer, "verify")):
        assert client.post(f"/api/v1/negotiations/{nid}/{step}", headers=bearer(token)).status_code == 200
        assert _vouchers(client, w.operator)["count"] == 0
    assert client.post(f"/api/v1/negotiations/{nid}/finalize", headers=bearer(w.provider.token)).status_code == 200
    assert _vouchers(client, w.operator)["count"] == 1


def test_a_free_welfare_agreement_gives_no_voucher(client: TestClient, world: World) -> None:
    w = world
    negotiation = finalized_negotiation(
        client, w.conditional, bounded_welfare_offer_body(), provider_token=w.provider.token, consumer_token=w.consumer
    )
    assert negotiation["grant_id"]  # finalized, with its grant
    assert _vouchers(client, w.operator)["count"] == 0
    assert _vouchers(client, w.consumer)["count"] == 0


def test_the_number_is_of_the_china_calendar_year(client: TestClient, world: World, clock: FakeClock) -> None:
    w = world
    clock.set_china(date(2027, 1, 1), hour=1)  # still 2026 in UTC
    negotiation = _paid(client, w)
    number = _vouchers(client, w.consumer)["items"][0]["number"]
    assert number == voucher_number(2027, _log_index(client, w.consumer, negotiation["id"]))


CALLERS = (
    "anonymous",
    "consumer",
    "provider",
    "provider_member",
    "other_provider",
    "other_consumer",
    "operator",
    "admin",
)
# caller -> (status and count of the list, status of the voucher by number)
SEEN: dict[str, tuple[int, int, int]] = {
    "anonymous": (401, 0, 401),
    "consumer": (200, 1, 200),
    "provider": (200, 1, 200),
    "provider_member": (200, 1, 200),
    "other_provider": (200, 0, 404),
    "other_consumer": (200, 0, 404),
    "operator": (200, 1, 200),
    "admin": (200, 1, 200),
}


def _token(w: World, engine: Engine, settings: Settings, caller: str) -> str | None:
    if caller == "provider_member":
        return make_account(engine, settings.auth, Role.provider, entity_id=w.provider.entity_id)[1]
    if caller == "other_consumer":
        return make_account(engine, settings.auth, Role.consumer)[1]
    tokens = {"consumer": w.consumer, "provider": w.provider.token, "other_provider": w.other.token}
    return {**tokens, "operator": w.operator, "admin": w.admin}.get(caller)


@pytest.mark.parametrize("caller", CALLERS)
def test_who_sees_a_voucher(client: TestClient, world: World, engine: Engine, settings: Settings, caller: str) -> None:
    w = world
    _paid(client, w)
    number = _vouchers(client, w.operator)["items"][0]["number"]
    token = _token(w, engine, settings, caller)
    headers = bearer(token) if token else {}
    list_status, count, read_status = SEEN[caller]
    listed = client.get(BASE, headers=headers)
    assert listed.status_code == list_status, listed.text
    if list_status == 200:
        assert listed.json()["count"] == count
        assert [v["number"] for v in listed.json()["items"]] == [number] * count
    shown = client.get(f"{BASE}/{number}", headers=headers)
    assert shown.status_code == read_status, shown.text
    if read_status == 200:
        assert shown.json()["number"] == number
    else:
        assert shown.headers["content-type"] == "application/problem+json"


def test_a_number_is_found_as_typed_and_refused_with_a_wrong_check_character(client: TestClient, world: World) -> None:
    w = world
    _paid(client, w)
    number = _vouchers(client, w.consumer)["items"][0]["number"]
    typed = client.get(f"{BASE}/{number.lower().replace('-', '')}", headers=bearer(w.consumer))
    assert typed.status_code == 200, typed.text
    assert typed.json()["number"] == number
    wrong = client.get(f"{BASE}/{_other_check(number)}", headers=bearer(w.consumer))
    assert wrong.status_code == 422
    assert wrong.headers["content-type"] == "application/problem+json"
    assert "wrong check character" in wrong.json()["detail"]
    assert wrong.json()["errors"][0]["field"] == "number"
    malformed = client.get(f"{BASE}/PDRV-2026-12", headers=bearer(w.consumer))
    assert malformed.status_code == 422
    assert "not a voucher number" in malformed.json()["detail"]
    index = int(number.split("-")[2])
    unknown = client.get(f"{BASE}/{voucher_number(2026, index + 1000)}", headers=bearer(w.operator))
    assert unknown.status_code == 404  # well formed, but no such voucher


def test_both_parties_list_several_vouchers_page_by_page(client: TestClient, world: World) -> None:
    w = world
    first, second = _paid(client, w), _paid(client, w)
    page = client.get(BASE, params={"limit": 1}, headers=bearer(w.provider.token)).json()
    assert page["count"] == 2 and len(page["items"]) == 1 and page["next_cursor"]
    rest = client.get(BASE, params={"limit": 1, "cursor": page["next_cursor"]}, headers=bearer(w.provider.token))
    assert rest.status_code == 200
    seen = [page["items"][0]["agreement_id"], rest.json()["items"][0]["agreement_id"]]
    assert seen == [second["id"], first["id"]]  # newest first


def _entity_name(engine: Engine, entity_id: str) -> str:
    with session_scope(engine) as session:
        entity = session.get(Entity, entity_id)
        assert entity is not None
        return entity.name


def _disclosure_csv(client: TestClient, entity_id: str, year: int) -> list[dict[str, str]]:
    exported = client.get(f"/api/v1/disclosures/{entity_id}/{year}.csv")
    assert exported.status_code == 200, exported.text
    return list(csv.DictReader(io.StringIO(exported.text)))


def test_the_annual_disclosure_lists_the_vouchers_of_the_year_the_operator_entity_is_a_party_to(
    client: TestClient, world: World, engine: Engine, settings: Settings, clock: FakeClock
) -> None:
    w = world
    operator_entity = add_operator_entity(engine)
    _, token = make_account(engine, settings.auth, Role.provider, name="op-ent", entity_id=operator_entity)
    _paid(client, w)  # the world's consumer's: the operator entity is no party to it
    bought = _paid(client, w, consumer_token=token)
    log_index = _log_index(client, token, bought["id"])
    clock.set_china(date(2027, 1, 4))
    _paid(client, w, consumer_token=token)  # next year's
    report = client.get(f"/api/v1/disclosures/{operator_entity}/2026")
    assert report.status_code == 200, report.text
    (voucher,) = report.json()["vouchers"]
    (number,) = [v["number"] for v in _vouchers(client, token)["items"] if v["agreement_id"] == bought["id"]]
    provider_name = _entity_name(engine, w.provider.entity_id)
    assert voucher["number"] == number
    assert voucher["role"] == "consumer"
    assert voucher["counterparty_entity_id"] == w.provider.entity_id
    assert voucher["counterparty_name"] == provider_name
    assert voucher["dataset_id"] == w.conditional
    assert voucher["title"]
    assert voucher["price"] == "500.00"
    assert voucher["agreement_log_index"] == log_index
    assert voucher["issued_at"].startswith("2026-11-23")
    rows = [row for row in _disclosure_csv(client, operator_entity, 2026) if row["section"] == "voucher"]
    assert [(r["id"], r["price"], r["agreement_log_index"], r["role"]) for r in rows] == [
        (number, "500.00", str(log_index), "consumer")
    ]
    assert rows[0]["counterparty"] == provider_name
    assert rows[0]["detail"] == w.conditional
    assert len(client.get(f"/api/v1/disclosures/{operator_entity}/2027").json()["vouchers"]) == 1
    assert client.get(f"/api/v1/disclosures/{operator_entity}/2025").json()["vouchers"] == []


def test_an_operator_entity_disclosing_what_it_sold_does_not_name_a_person(
    client: TestClient, world: World, engine: Engine
) -> None:
    w = world
    _paid(client, w)
    with session_scope(engine) as session:  # the providing entity is an operator (运营机构)
        session.execute(update(Entity).where(col(Entity.id) == w.provider.entity_id).values(kind="operator"))
        session.commit()
    (voucher,) = client.get(f"/api/v1/disclosures/{w.provider.entity_id}/2026").json()["vouchers"]
    assert voucher["role"] == "provider"
    assert voucher["counterparty_entity_id"] is None and voucher["counterparty_name"] is None
    (row,) = [r for r in _disclosure_csv(client, w.provider.entity_id, 2026) if r["section"] == "voucher"]
    assert row["role"] == "provider" and row["counterparty"] == ""
    assert row["id"] == voucher["number"]
