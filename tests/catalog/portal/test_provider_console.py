"""The provider console's front page and who may open it: signed-out visitors, consumers, a provider without an
entity (who registers one there), and a provider of a verified entity with its counts."""

from __future__ import annotations

import re
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from auth.roles import Role
from catalog.settings import Settings
from tests.support.data import bearer, make_account, new_uscc
from tests.support.exchange import World, granted, request_body
from tests.support.signing_in import PASSWORD, form_token, give_password, sign_in

CONSOLE_PAGES = (
    "/console/provider",
    "/console/provider/resources",
    "/console/provider/resources/new",
    "/console/provider/products",
    "/console/provider/products/new",
    "/console/provider/registrations",
    "/console/provider/datasets",
    "/console/provider/datasets/new",
    "/console/provider/requests",
    "/console/provider/grants",
    "/console/provider/downloads",
)


def page_text(html: str) -> str:
    """What a person reads on a page: its text without tags, spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.mark.parametrize("path", CONSOLE_PAGES)
def test_a_signed_out_visitor_is_sent_to_sign_in_and_sees_nothing_private(
    client: TestClient, world: World, path: str
) -> None:
    answer = client.get(path, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/signin?next=")
    shown = client.get(path)
    assert "广州市数据局测试单位1" not in shown.text and "测试数据" not in shown.text
    assert "登录" in page_text(shown.text)


def test_a_consumer_is_told_the_console_is_for_providers(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    make_account(engine, settings.auth, Role.consumer, name="carol", password=PASSWORD)
    assert sign_in(client, "carol").status_code == 303
    for path in ("/console/provider", "/console/provider/datasets", "/console/provider/requests"):
        refused = client.get(path)
        assert refused.status_code == 403
        assert "提供方工作台仅供数据提供方账户使用。" in page_text(refused.text)
    english = client.get("/console/provider", params={"lang": "en"})
    assert "The provider console is for accounts of data providers." in page_text(english.text)


def test_a_provider_without_an_entity_registers_one(client: TestClient, engine: Engine, settings: Settings) -> None:
    make_account(engine, settings.auth, Role.provider, name="newcomer", password=PASSWORD)
    assert sign_in(client, "newcomer").status_code == 303
    form = client.get("/console/provider")
    assert form.status_code == 200 and "您的账户尚未关联登记主体。" in page_text(form.text)
    token = form_token(form.text)
    fields = {"csrf_token": token, "name": "广州市新来单位", "kind": "data_source", "uscc": "91440100000000001X"}
    wrong = client.post("/console/provider/entity", data=fields)
    assert wrong.status_code == 422
    assert "请检查此项：" in page_text(wrong.text) and 'value="广州市新来单位"' in wrong.text
    refused = client.post("/console/provider/entity", data=fields | {"uscc": new_uscc(77), "csrf_token": ""})
    assert refused.status_code == 403
    made = client.post("/console/provider/entity", data=fields | {"uscc": new_uscc(77)}, follow_redirects=False)
    assert made.status_code == 303
    front = page_text(client.get(made.headers["location"]).text)
    assert "您的登记主体已提交。" in front and "广州市新来单位" in front and new_uscc(77) in front
    assert "待登记机构核验" in front
    found = client.get("/api/v1/entities", params={"q": new_uscc(77)}, headers=bearer(make_staff(engine, settings)))
    assert [e["name"] for e in found.json()["items"]] == ["广州市新来单位"]


def make_staff(engine: Engine, settings: Settings) -> str:
    """An operator's token."""
    return make_account(engine, settings.auth, Role.operator, name="staff-x")[1]


def test_the_front_page_shows_the_entity_and_its_counts(client: TestClient, world: World, engine: Engine) -> None:
    granted(client, world, quota=2)
    pending = client.post(
        "/api/v1/access-requests", json=request_body(dataset_id=world.conditional), headers=bearer(world.consumer)
    )
    assert pending.status_code == 201, pending.text
    give_password(engine, "provider-1")
    assert sign_in(client, "provider-1").status_code == 303
    shown = client.get("/console/provider")
    assert shown.status_code == 200 and shown.headers["cache-control"] == "no-store"
    text = page_text(shown.text)
    assert "广州市数据局测试单位1" in text and "已核验" in text
    figures = {
        name: shown.text.split(f'class="count-{name}">')[1].split("<")[0]
        for name in ("datasets", "requests", "grants", "products")
    }
    assert figures == {"datasets": "3", "requests": "1", "grants": "1", "products": "2"}
    english = page_text(client.get("/console/provider", params={"lang": "en"}).text)
    assert "verified by the registry" in english and "Requests to decide" in english
