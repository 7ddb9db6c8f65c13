"""Applying for conditional data from its page: the form, what it refuses and says, and the request it files."""

from __future__ import annotations

import re
from html import unescape

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.support.data import bearer
from tests.support.exchange import World
from tests.support.signing_in import form_token, give_password, sign_in


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _fields(token: str, **overrides: str) -> dict[str, str]:
    fields = {
        "csrf_token": token,
        "purpose": "交通规划研究",
        "scenario": "充电桩布局优化",
        "use_category": "industry",
        "requested_from": "2026-11-23",
        "requested_until": "2026-12-31",
    }
    return fields | overrides


def _requests(client: TestClient, w: World) -> list[dict[str, object]]:
    listed = client.get("/api/v1/access-requests", headers=bearer(w.consumer))
    assert listed.status_code == 200, listed.text
    return list(listed.json()["items"])


def _signed_in_as_consumer(client: TestClient, engine: Engine) -> None:
    give_password(engine, "consumer-x")
    assert sign_in(client, "consumer-x").status_code == 303


def test_a_conditional_dataset_offers_the_application_to_everyone(client: TestClient, world: World) -> None:
    page = client.get(f"/datasets/{world.conditional}")
    assert f'href="/datasets/{world.conditional}/apply"' in page.text and "申请访问" in _text(page.text)
    assert "/apply" not in client.get(f"/datasets/{world.open_dataset}").text
    asked = client.get(f"/datasets/{world.conditional}/apply", follow_redirects=False)
    assert asked.status_code == 303
    assert asked.headers["location"] == f"/signin?next=%2Fdatasets%2F{world.conditional}%2Fapply"


def test_a_consumer_applies_and_sees_the_request_on_their_console(
    client: TestClient, world: World, engine: Engine
) -> None:
    _signed_in_as_consumer(client, engine)
    form = client.get(f"/datasets/{world.conditional}/apply")
    assert form.status_code == 200 and 'value="2026-11-23"' in form.text and 'value="2027-02-21"' in form.text
    sent = client.post(
        f"/datasets/{world.conditional}/apply", data=_fields(form_token(form.text)), follow_redirects=False
    )
    assert sent.status_code == 303, sent.text
    [filed] = _requests(client, world)
    assert (filed["dataset_id"], filed["state"], filed["use_category"]) == (world.conditional, "pending", "industry")
    assert sent.headers["location"] == f"/console/consumer?applied={filed['id']}"
    console = _text(client.get(sent.headers["location"]).text)
    assert "您的申请已提交" in console and "1 项申请" in console and "待处理" in console


def test_fields_to_correct_are_marked_and_nothing_is_filed(client: TestClient, world: World, engine: Engine) -> None:
    _signed_in_as_consumer(client, engine)
    token = form_token(client.get(f"/datasets/{world.conditional}/apply").text)
    wrong = _fields(token, purpose=" ", requested_until="2026-11-01", use_category="fun")
    refused = client.post(f"/datasets/{world.conditional}/apply", data=wrong, params={"lang": "en"})
    assert refused.status_code == 422
    text = _text(refused.text)
    assert "Say what the data will be used for." in text and "Choose a use." in text
    assert 'id="apply-purpose" name="purpose" required maxlength="2000" rows="3" aria-invalid="true"' in refused.text
    assert "充电桩布局优化" in text  # what was typed is kept
    past = client.post(f"/datasets/{world.conditional}/apply", data=_fields(token, requested_until="2026-11-01"))
    assert past.status_code == 422 and "不早于今天" in _text(past.text)
    assert _requests(client, world) == []


def test_the_application_needs_its_token(client: TestClient, world: World, engine: Engine) -> None:
    _signed_in_as_consumer(client, engine)
    fields = _fields("")
    del fields["csrf_token"]
    refused = client.post(f"/datasets/{world.conditional}/apply", data=fields, follow_redirects=False)
    assert refused.status_code == 403
    assert _requests(client, world) == []


def test_the_provider_and_hidden_data_are_refused(client: TestClient, world: World, engine: Engine) -> None:
    give_password(engine, "provider-1")
    assert sign_in(client, "provider-1").status_code == 303
    own = client.get(f"/datasets/{world.conditional}/apply")
    sent = client.post(f"/datasets/{world.conditional}/apply", data=_fields(form_token(own.text)))
    assert sent.status_code == 409 and "它是您所属主体的数据" in _text(sent.text)
    client.cookies.clear()
    _signed_in_as_consumer(client, engine)
    assert client.get(f"/datasets/{world.not_open}/apply").status_code == 404
    assert client.get("/datasets/no-such-dataset/apply").status_code == 404
