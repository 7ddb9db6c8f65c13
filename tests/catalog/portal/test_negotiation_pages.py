"""The consoles' contract negotiation pages over HTTP: the consumer's and the provider's lists and negotiations, the
steps each side may take and the agreement's endings, starting from a dataset's offer, who may see and do what, the
forms' CSRF tokens, and refusals said in the page's language."""

from __future__ import annotations

import re
from copy import deepcopy
from datetime import date
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from auth.roles import Role
from catalog.settings import Settings
from tests.support.data import FakeClock, bearer, make_account
from tests.support.dataspace import offer_body, welfare_offer_body
from tests.support.exchange import World, content_url
from tests.support.signing_in import form_token, give_password, sign_in

API = "/api/v1/negotiations"
CONSUMER = "/console/consumer/negotiations"
PROVIDER = "/console/provider/negotiations"


def page_text(html: str) -> str:
    """What a person reads on a page: its text without tags, spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def signed_in(client: TestClient, engine: Engine, name: str) -> str:
    """Sign an account in on the pages (any before it signed out); returns the token its forms carry."""
    client.cookies.clear()
    give_password(engine, name)
    assert sign_in(client, name).status_code == 303
    return form_token(client.get("/account").text)


def offered(client: TestClient, w: World, body: dict[str, Any] | None = None) -> str:
    """An offer of the world's conditional dataset; its id."""
    made = client.post(
        f"/api/v1/datasets/{w.conditional}/offers", json=body or offer_body(), headers=bearer(w.provider.token)
    )
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def started(client: TestClient, w: World, offer_id: str) -> str:
    """consumer-x's negotiation on an offer as it stands, through the API; its id."""
    made = client.post(API, json={"offer_id": offer_id}, headers=bearer(w.consumer))
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def api_step(client: TestClient, token: str, negotiation_id: str, step: str, body: object = None) -> dict[str, Any]:
    """A step through the API, which must be taken."""
    done = client.post(f"{API}/{negotiation_id}/{step}", json=body, headers=bearer(token))
    assert done.status_code == 200, done.text
    return dict(done.json())


def state_of(client: TestClient, w: World, negotiation_id: str) -> str:
    """A negotiation's state, as the API shows it to its provider."""
    return str(client.get(f"{API}/{negotiation_id}", headers=bearer(w.provider.token)).json()["state"])


def grant_state(client: TestClient, w: World, negotiation_id: str) -> str:
    """The state of the grant a finalized negotiation made, as the API shows it to its consumer."""
    grant_id = client.get(f"{API}/{negotiation_id}", headers=bearer(w.consumer)).json()["grant_id"]
    return str(client.get(f"/api/v1/grants/{grant_id}", headers=bearer(w.consumer)).json()["state"])


def forms(html: str) -> set[str]:
    """Where a page's forms post to."""
    return set(re.findall(r'<form[^>]*action="([^"]+)"', html)) - {"/signout"}


def test_a_consumer_negotiates_an_offer_from_the_dataset_page_to_a_terminated_agreement(
    client: TestClient, engine: Engine, world: World, clock: FakeClock
) -> None:
    w = world
    offer_id = offered(client, w)
    token = signed_in(client, engine, "consumer-x")
    shown = client.get(f"/datasets/{w.conditional}")
    text = page_text(shown.text)
    assert "2026-12-01 至 2027-12-31，最长 1 年" in text
    assert "最多 100 次下载" in text and "500.00 元" in text and "产业发展" in text
    assert f"/datasets/{w.conditional}/negotiate" in forms(shown.text)
    made = client.post(
        f"/datasets/{w.conditional}/negotiate", data={"csrf_token": token, "offer_id": offer_id}, follow_redirects=False
    )
    assert made.status_code == 303
    location = made.headers["location"]
    assert location.startswith(f"{CONSUMER}/") and location.endswith("?done=request")
    nid = location.split("/")[-1].split("?")[0]
    page = client.get(location)
    assert "您的协商请求已发送给提供方" in page_text(page.text) and "已发起，待提供方答复" in page_text(page.text)
    assert forms(page.text) == {f"{CONSUMER}/{nid}/terminate"}  # accept and verify are not allowed yet
    listed = page_text(client.get(CONSUMER).text)
    assert "1 项协商" in listed and "已发起，待提供方答复" in listed and "500.00 元" in listed
    api_step(client, w.provider.token, nid, "agree")
    page = client.get(f"{CONSUMER}/{nid}")
    assert forms(page.text) == {f"{CONSUMER}/{nid}/verify", f"{CONSUMER}/{nid}/terminate"}
    verified = client.post(f"{CONSUMER}/{nid}/verify", data={"csrf_token": token}, follow_redirects=False)
    assert verified.status_code == 303 and state_of(client, w, nid) == "VERIFIED"
    api_step(client, w.provider.token, nid, "finalize")
    page = client.get(f"{CONSUMER}/{nid}")
    text = page_text(page.text)
    assert "已完成：授权已生成" in text and "无：协商已结束。" in text
    assert 'data-status="valid"' in page.text and forms(page.text) == {f"{CONSUMER}/{nid}/agreement/terminate"}
    bundle = client.get(f"/api/v1/agreements/{nid}")  # the page's link, with the session's cookie
    assert bundle.status_code == 200 and bundle.json()["status"] == "valid" and bundle.json()["credential"]["proof"]
    assert grant_state(client, w, nid) == "pending"  # the offer's period starts on 2026-12-01
    clock.set_china(date(2026, 12, 2))
    assert client.get(content_url(w), headers=bearer(w.consumer)).status_code == 200
    token = signed_in(client, engine, "consumer-x")  # the session of a week ago has ended
    reasonless = client.post(f"{CONSUMER}/{nid}/agreement/terminate", data={"csrf_token": token, "reason": " "})
    assert reasonless.status_code == 422 and "请填写理由，不超过 2000 字。" in page_text(reasonless.text)
    assert bundle.json()["status"] == client.get(f"/api/v1/agreements/{nid}").json()["status"] == "valid"
    ended = client.post(
        f"{CONSUMER}/{nid}/agreement/terminate",
        data={"csrf_token": token, "reason": "项目已结束"},
        follow_redirects=False,
    )
    assert ended.status_code == 303
    after = client.get(ended.headers["location"])
    assert "协议已终止，据此生成的授权已撤销。" in page_text(after.text) and "项目已结束" in page_text(after.text)
    assert 'data-status="terminated"' in after.text and forms(after.text) == set()
    assert grant_state(client, w, nid) == "revoked"
    assert client.get(content_url(w), headers=bearer(w.consumer)).status_code == 403


def test_a_consumer_accepts_a_counter_offer_and_a_step_out_of_turn_is_refused_in_its_language(
    client: TestClient, engine: Engine, world: World
) -> None:
    w = world
    nid = started(client, w, offered(client, w))
    token = signed_in(client, engine, "consumer-x")
    early = client.post(f"{CONSUMER}/{nid}/accept", data={"csrf_token": token})
    assert early.status_code == 409 and state_of(client, w, nid) == "REQUESTED"
    assert "此操作当前无法进行" in page_text(early.text)
    english = client.post(f"{CONSUMER}/{nid}/verify?lang=en", data={"csrf_token": token})
    assert english.status_code == 409 and "This step is not possible now" in page_text(english.text)
    terms = deepcopy(offer_body())
    for constraint in terms["permission"][0]["constraint"]:
        if constraint["leftOperand"] == "count":
            constraint["rightOperand"] = 3
    api_step(client, w.provider.token, nid, "offer", {"terms": terms})
    page = client.get(f"{CONSUMER}/{nid}")
    assert "最多 3 次下载" in page_text(page.text) and "提供方已还价，待使用方答复" in page_text(page.text)
    assert forms(page.text) == {f"{CONSUMER}/{nid}/accept", f"{CONSUMER}/{nid}/terminate"}
    accepted = client.post(f"{CONSUMER}/{nid}/accept", data={"csrf_token": token}, follow_redirects=False)
    assert accepted.status_code == 303 and state_of(client, w, nid) == "ACCEPTED"
    steps = page_text(client.get(accepted.headers["location"]).text)
    assert steps.count("使用方 consumer-x") == 2 and steps.count("提供方 provider-1") == 1  # who took each step
    assert client.post(f"{CONSUMER}/{nid}/offer", data={"csrf_token": token}).status_code == 404


def test_a_provider_agrees_finalizes_and_retires_from_its_console(
    client: TestClient, engine: Engine, world: World
) -> None:
    w = world
    nid = started(client, w, offered(client, w))
    token = signed_in(client, engine, "provider-1")
    listed = page_text(client.get(PROVIDER).text)
    assert "1 项协商" in listed and "consumer-x" in listed and "已发起，待提供方答复" in listed
    page = client.get(f"{PROVIDER}/{nid}")
    assert forms(page.text) == {f"{PROVIDER}/{nid}/{step}" for step in ("offer", "agree", "terminate")}
    early = client.post(f"{PROVIDER}/{nid}/finalize", data={"csrf_token": token})
    assert early.status_code == 409 and "此操作当前无法进行" in page_text(early.text)
    agreed = client.post(f"{PROVIDER}/{nid}/agree", data={"csrf_token": token}, follow_redirects=False)
    assert agreed.status_code == 303 and state_of(client, w, nid) == "AGREED"
    assert "您已同意，协议已签署。" in page_text(client.get(agreed.headers["location"]).text)
    api_step(client, w.consumer, nid, "verify")
    finalized = client.post(f"{PROVIDER}/{nid}/finalize", data={"csrf_token": token}, follow_redirects=False)
    assert finalized.status_code == 303 and state_of(client, w, nid) == "FINALIZED"
    page = client.get(f"{PROVIDER}/{nid}")
    assert forms(page.text) == {f"{PROVIDER}/{nid}/agreement/retire", f"{PROVIDER}/{nid}/agreement/terminate"}
    assert grant_state(client, w, nid) == "pending"
    retired = client.post(
        f"{PROVIDER}/{nid}/agreement/retire", data={"csrf_token": token, "reason": "数据集下线"}, follow_redirects=False
    )
    assert retired.status_code == 303
    after = client.get(retired.headers["location"])
    assert 'data-status="retired"' in after.text and "协议已撤回" in page_text(after.text)
    assert client.get(f"/api/v1/agreements/{nid}", headers=bearer(w.consumer)).json()["status"] == "retired"
    assert grant_state(client, w, nid) == "revoked"
    again = client.post(f"{PROVIDER}/{nid}/agreement/terminate", data={"csrf_token": token, "reason": "再次"})
    assert again.status_code == 409 and "此操作当前无法进行" in page_text(again.text)


def test_terms_that_cannot_be_agreed_are_said_and_the_provider_terminates(
    client: TestClient, engine: Engine, world: World
) -> None:
    w = world
    nid = started(client, w, offered(client, w, welfare_offer_body()))
    token = signed_in(client, engine, "provider-1")
    page = client.get(f"{PROVIDER}/{nid}")
    text = page_text(page.text)
    assert "上述条款无法直接达成协议" in text and "未约定期限" in text and "免费" in text
    assert forms(page.text) == {f"{PROVIDER}/{nid}/offer", f"{PROVIDER}/{nid}/terminate"}
    ended = client.post(
        f"{PROVIDER}/{nid}/terminate", data={"csrf_token": token, "reason": "请注明使用期限"}, follow_redirects=False
    )
    assert ended.status_code == 303 and state_of(client, w, nid) == "TERMINATED"
    steps = client.get(f"{API}/{nid}", headers=bearer(w.consumer)).json()["steps"]
    assert steps[-1]["reason"] == "请注明使用期限" and steps[-1]["side"] == "provider"


def test_a_provider_counters_with_a_last_day_and_a_quota_and_the_other_terms_stay(
    client: TestClient, engine: Engine, world: World
) -> None:
    w = world
    nid = started(client, w, offered(client, w, welfare_offer_body()))
    before = client.get(f"{API}/{nid}", headers=bearer(w.consumer)).json()["offer"]
    token = signed_in(client, engine, "provider-1")
    for until, quota in (("2027-05-31", "0"), ("明年", "3"), ("", "")):
        wrong = client.post(
            f"{PROVIDER}/{nid}/offer", data={"csrf_token": token, "until": until, "download_quota": quota}
        )
        assert wrong.status_code == 422 and "请填写日期形式的截止日期" in page_text(wrong.text), (until, quota)
    assert state_of(client, w, nid) == "REQUESTED"
    countered = client.post(
        f"{PROVIDER}/{nid}/offer",
        data={"csrf_token": token, "until": "2027-05-31", "download_quota": "5"},
        follow_redirects=False,
    )
    assert countered.status_code == 303 and state_of(client, w, nid) == "OFFERED"
    after = client.get(f"{API}/{nid}", headers=bearer(w.consumer)).json()["offer"]
    constraints = after["permission"][0]["constraint"]
    assert constraints[: len(before["permission"][0]["constraint"])] == before["permission"][0]["constraint"]
    assert {"leftOperand": "dateTime", "operator": "lteq", "rightOperand": "2027-05-31"} in constraints
    assert {"leftOperand": "count", "operator": "lteq", "rightOperand": "5"} in constraints
    assert after["obligation"] == before["obligation"] and after["@id"] != before["@id"]
    api_step(client, w.consumer, nid, "accept")
    page = client.get(f"{PROVIDER}/{nid}")
    assert "至 2027-05-31 止" in page_text(page.text) and "最多 5 次下载" in page_text(page.text)
    assert forms(page.text) == {f"{PROVIDER}/{nid}/agree", f"{PROVIDER}/{nid}/terminate"}  # agreeable now
    # A last day before the offer's first (2026-12-01) is refused by the profile's own check, and nothing changes.
    nid = started(client, w, offered(client, w))
    early = client.post(
        f"{PROVIDER}/{nid}/offer", data={"csrf_token": token, "until": "2026-11-30", "download_quota": "5"}
    )
    assert early.status_code == 422 and "请填写日期形式的截止日期" in page_text(early.text)
    assert state_of(client, w, nid) == "REQUESTED"


def test_only_the_negotiations_parties_see_them_and_act_on_them(
    client: TestClient, engine: Engine, settings: Settings, world: World
) -> None:
    w = world
    nid = started(client, w, offered(client, w))
    make_account(engine, settings.auth, Role.consumer, name="consumer-y")
    token = signed_in(client, engine, "consumer-y")
    assert "0 项协商" in page_text(client.get(CONSUMER).text)
    assert client.get(f"{CONSUMER}/{nid}").status_code == 404
    foreign = client.post(f"{CONSUMER}/{nid}/terminate", data={"csrf_token": token, "reason": "x"})
    assert foreign.status_code == 404 and state_of(client, w, nid) == "REQUESTED"
    token = signed_in(client, engine, "provider-2")
    assert "0 项协商" in page_text(client.get(PROVIDER).text)
    assert client.get(f"{PROVIDER}/{nid}").status_code == 404
    assert client.post(f"{PROVIDER}/{nid}/agree", data={"csrf_token": token}).status_code == 404
    retire = client.post(f"{PROVIDER}/{nid}/agreement/retire", data={"csrf_token": token, "reason": "x"})
    assert retire.status_code == 404
    assert state_of(client, w, nid) == "REQUESTED"
    # The provider's own members act from their console: the consumer's pages are the consumer's alone.
    token = signed_in(client, engine, "provider-1")
    assert client.get(f"{CONSUMER}/{nid}").status_code == 404
    assert client.post(f"{CONSUMER}/{nid}/terminate", data={"csrf_token": token, "reason": "x"}).status_code == 404
    token = signed_in(client, engine, "consumer-x")
    assert client.get(f"{PROVIDER}/{nid}").status_code == 403  # not a provider
    assert client.post(f"{PROVIDER}/{nid}/terminate", data={"csrf_token": token, "reason": "x"}).status_code == 403
    assert state_of(client, w, nid) == "REQUESTED"


def test_a_providers_own_negotiation_as_consumer_is_on_its_consumer_console_only(
    client: TestClient, engine: Engine, world: World
) -> None:
    w = world
    made = client.post(API, json={"offer_id": offered(client, w)}, headers=bearer(w.other.token))
    assert made.status_code == 201, made.text
    nid = made.json()["id"]
    token = signed_in(client, engine, "provider-2")
    assert f"{CONSUMER}/{nid}" in client.get(CONSUMER).text
    assert client.get(f"{CONSUMER}/{nid}").status_code == 200
    assert "0 项协商" in page_text(client.get(PROVIDER).text)
    assert client.get(f"{PROVIDER}/{nid}").status_code == 404
    assert client.post(f"{PROVIDER}/{nid}/agree", data={"csrf_token": token}).status_code == 404
    assert state_of(client, w, nid) == "REQUESTED"
    signed_in(client, engine, "provider-1")
    assert "0 项协商" in page_text(client.get(CONSUMER).text)  # asked of its entity, not started by it
    assert f"{PROVIDER}/{nid}" in client.get(PROVIDER).text


def test_signed_out_visitors_are_sent_to_sign_in_and_change_nothing(client: TestClient, world: World) -> None:
    w = world
    offer_id = offered(client, w)
    nid = started(client, w, offer_id)
    for path in (CONSUMER, f"{CONSUMER}/{nid}", PROVIDER, f"{PROVIDER}/{nid}"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/signin?next="), path
    for path in (f"{CONSUMER}/{nid}/terminate", f"{PROVIDER}/{nid}/agree", f"{CONSUMER}/{nid}/agreement/terminate"):
        answer = client.post(path, data={"reason": "x"}, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/signin?next="), path
    negotiate = client.post(f"/datasets/{w.conditional}/negotiate", data={"offer_id": offer_id}, follow_redirects=False)
    assert negotiate.headers["location"] == f"/signin?next=%2Fdatasets%2F{w.conditional}"
    assert state_of(client, w, nid) == "REQUESTED"
    assert client.get(API, headers=bearer(w.consumer)).json()["count"] == 1
    shown = client.get(f"/datasets/{w.conditional}")
    assert "登录后按报价协商" in page_text(shown.text) and forms(shown.text) == set()


def test_a_form_without_its_token_is_refused_and_changes_nothing(
    client: TestClient, engine: Engine, world: World
) -> None:
    w = world
    offer_id = offered(client, w)
    nid = started(client, w, offer_id)
    signed_in(client, engine, "consumer-x")
    assert client.post(f"{CONSUMER}/{nid}/terminate", data={"reason": "x"}).status_code == 403
    wrong = client.post(f"{CONSUMER}/{nid}/terminate", data={"csrf_token": "0" * 64, "reason": "x"})
    assert wrong.status_code == 403
    assert client.post(f"/datasets/{w.conditional}/negotiate", data={"offer_id": offer_id}).status_code == 403
    assert client.get(API, headers=bearer(w.consumer)).json()["count"] == 1
    signed_in(client, engine, "provider-1")
    assert client.post(f"{PROVIDER}/{nid}/agree").status_code == 403
    assert client.post(f"{PROVIDER}/{nid}/terminate", data={"reason": "x"}).status_code == 403
    assert state_of(client, w, nid) == "REQUESTED"


def test_who_may_not_negotiate_is_told_on_the_dataset_page(client: TestClient, engine: Engine, world: World) -> None:
    w = world
    offer_id = offered(client, w)
    token = signed_in(client, engine, "provider-1")
    own = client.post(f"/datasets/{w.conditional}/negotiate", data={"csrf_token": token, "offer_id": offer_id})
    assert own.status_code == 409 and "无法就此报价协商：这是您所在主体自己的数据" in page_text(own.text)
    token = signed_in(client, engine, "operator-1")
    staff = client.post(
        f"/datasets/{w.conditional}/negotiate?lang=en", data={"csrf_token": token, "offer_id": offer_id}
    )
    assert staff.status_code == 403 and "Your account cannot negotiate" in page_text(staff.text)
    token = signed_in(client, engine, "consumer-x")
    elsewhere = client.post(f"/datasets/{w.open_dataset}/negotiate", data={"csrf_token": token, "offer_id": offer_id})
    assert elsewhere.status_code == 404  # the offer is not the dataset's
    assert client.get(API, headers=bearer(w.provider.token)).json()["count"] == 0
    assert "negotiate" not in page_text(client.get(f"/datasets/{w.open_dataset}").text)


def test_the_lists_are_newest_first_and_paged(
    client: TestClient, engine: Engine, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = world
    offer_id = offered(client, w)
    first, second = started(client, w, offer_id), started(client, w, offer_id)
    monkeypatch.setattr("catalog.portal.account.negotiations.views.ROWS", 1)
    monkeypatch.setattr("catalog.portal.provider.negotiations.views.ROWS", 1)
    for name, path in (("consumer-x", CONSUMER), ("provider-1", PROVIDER)):
        signed_in(client, engine, name)
        listed = client.get(path)
        assert "2 项协商" in page_text(listed.text)
        assert f"{path}/{second}" in listed.text and f"{path}/{first}" not in listed.text
        following = re.search(r'rel="next"[^>]*href="([^"]+)"', listed.text)
        assert following, listed.text
        older = client.get(unescape(following.group(1)))
        assert f"{path}/{first}" in older.text and f"{path}/{second}" not in older.text
        assert 'rel="next"' not in older.text


def test_an_access_requests_negotiation_shows_its_steps_and_offers_none(
    client: TestClient, engine: Engine, world: World
) -> None:
    w = world
    body = {
        "dataset_id": w.conditional,
        "purpose": "交通规划研究",
        "scenario": "充电桩布局优化",
        "use_category": "public_welfare",
        "requested_from": "2026-11-23",
        "requested_until": "2026-12-31",
    }
    assert client.post("/api/v1/access-requests", json=body, headers=bearer(w.consumer)).status_code == 201
    [mirrored] = client.get(API, headers=bearer(w.consumer)).json()["items"]
    for name, console in (("consumer-x", CONSUMER), ("provider-1", PROVIDER)):
        signed_in(client, engine, name)
        page = client.get(f"{console}/{mirrored['id']}")
        assert page.status_code == 200
        text = page_text(page.text)
        assert "此协商对应一项访问申请" in text
        assert 'class="step negotiation-step"' not in page.text and "/terminate" not in page.text
