"""axe-core finds no serious or critical violation on the provider console's pages, in Chinese and in English, as
the server sends them (with their Content-Security-Policy) in Debian's chromium."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.support.axe import Axe, describe
from tests.support.data import bearer
from tests.support.dataspace import offer_body
from tests.support.exchange import World, granted, request_body
from tests.support.live import serving
from tests.support.signing_in import PASSWORD, give_password
from tests.support.workflow import apply, new_resource, step


def _pages(client: TestClient, world: World) -> list[str]:
    """The console's pages, each showing something: a submitted registration, a pending request, a grant, a
    negotiation."""
    resource = new_resource(client, world.provider)
    registration = apply(client, world.provider, resource["id"])
    step(client, world.provider.token, registration, "submit")
    granted(client, world, quota=2)
    pending = client.post(
        "/api/v1/access-requests", json=request_body(dataset_id=world.conditional), headers=bearer(world.consumer)
    )
    assert pending.status_code == 201, pending.text
    draft = client.post("/api/v1/datasets", json={"title": "草稿数据集"}, headers=bearer(world.provider.token))
    assert draft.status_code == 201, draft.text
    offer = client.post(
        f"/api/v1/datasets/{world.conditional}/offers", json=offer_body(), headers=bearer(world.provider.token)
    )
    assert offer.status_code == 201, offer.text
    negotiation = client.post(
        "/api/v1/negotiations", json={"offer_id": offer.json()["id"]}, headers=bearer(world.consumer)
    )
    assert negotiation.status_code == 201, negotiation.text
    return [
        "/console/provider",
        "/console/provider/resources",
        f"/console/provider/resources/{resource['id']}",
        "/console/provider/products",
        "/console/provider/products/new",
        f"/console/provider/products/{world.product}",
        "/console/provider/registrations",
        f"/console/provider/registrations/{registration}",
        "/console/provider/datasets",
        "/console/provider/datasets/new",
        f"/console/provider/datasets/{draft.json()['id']}",
        f"/console/provider/datasets/{world.open_dataset}",
        f"/console/provider/datasets/{world.open_dataset}/edit",
        "/console/provider/requests",
        "/console/provider/grants",
        "/console/provider/downloads",
        "/console/provider/negotiations",
        f"/console/provider/negotiations/{negotiation.json()['id']}",
    ]


def test_the_console_pages_pass_axe(
    app: FastAPI, browser: Any, axe: Axe, client: TestClient, world: World, engine: Engine
) -> None:
    paths = _pages(client, world)
    give_password(engine, "provider-1")
    found: list[str] = []
    with serving(app) as base_url:
        context = browser.new_context(locale="zh-CN")
        page = context.new_page()
        page.goto(f"{base_url}/signin?next=/console/provider")
        page.get_by_label("账户名").fill("provider-1")
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_label("密码").press("Enter")
        page.wait_for_url(f"{base_url}/console/provider")
        for path in paths:
            for lang in ("zh", "en"):
                answer = page.goto(f"{base_url}{path}?lang={lang}")
                assert answer is not None and answer.status == 200, path
                assert page.locator("main h1").count() == 1, path
                blocking = axe.blocking(page)
                if blocking:
                    found.append(f"{path} ({lang}):\n{describe(blocking)}")
        context.close()
    assert not found, "\n".join(found)
