"""The public verification page: the issuing body as the credential names it, Beijing times, and revocations."""

from __future__ import annotations

from datetime import date

from fastapi import FastAPI
from fastapi.testclient import TestClient

from registry.config import IssuerName
from registry.verify_page import beijing_time, render_verification
from tests.support.certificates import issue, ok, post, registered_resource
from tests.support.data import FakeClock
from tests.support.registry import Provider

HTML = {"Accept": "text/html,application/xhtml+xml,*/*"}
JSON = {"Accept": "application/json"}
NAMED = IssuerName(zh="广州数据交易所数据登记中心", en="Guangzhou Data Registration Centre")


def test_beijing_time_is_eight_hours_ahead_and_says_so() -> None:
    assert beijing_time("2026-12-31T17:30:05Z") == "2027-01-01 01:30:05 北京时间 (UTC+8)"
    assert beijing_time("2026-12-08T10:00:00+08:00") == "2026-12-08 10:00:00 北京时间 (UTC+8)"


def test_the_page_names_the_issuer_and_shows_beijing_times(
    app: FastAPI, client: TestClient, clock: FakeClock, provider: Provider, operator: str
) -> None:
    resource = registered_resource(client, clock, provider, operator)
    app.state.issuer_name = NAMED  # what create_app takes from PDR_ISSUER_NAME and PDR_ISSUER_NAME_EN
    bundle = ok(issue(client, operator, resource_id=resource["id"], rights=["holding"]))
    number = bundle["number"]

    html = client.get(f"/verify/{number}", headers=HTML).text
    assert "发证机构<br><span class=en>Issuing body</span>" in html
    assert "广州数据交易所数据登记中心<br>Guangzhou Data Registration Centre" in html
    assert f"<code>{bundle['credential']['issuer']['id']}</code>" in html
    # Issued at 02:00 UTC, which is 10:00 in Beijing; every time on the page is Beijing time, and says so.
    assert "发证日期<br><span class=en>Issued on</span></dt><dd>2026-12-08 10:00:00 北京时间 (UTC+8)</dd>" in html
    assert "2026-12-08 10:00:00 北京时间 (UTC+8) 至 to 2029-12-08 10:00:00 北京时间 (UTC+8)" in html
    assert "All times are Beijing time (UTC+8)" in html
    # The checks' details too: no UTC time is left on the page.
    assert "valid from 2026-12-08 10:00:00 北京时间 (UTC+8) until 2029-12-08 10:00:00 北京时间 (UTC+8)" in html
    assert "02:00:00" not in html
    assert "撤销" not in html

    view = client.get(f"/verify/{number}", headers=JSON).json()
    assert (view["issuer_name"], view["issuer_name_en"]) == (NAMED.zh, NAMED.en)
    assert view["issuer"] == bundle["credential"]["issuer"]["id"]
    assert view["issued_at"] == "2026-12-08T02:00:00Z"
    assert (view["revoked_at"], view["revoked_reason"]) == (None, None)


def test_a_revoked_certificate_shows_when_and_why(
    client: TestClient, clock: FakeClock, provider: Provider, operator: str
) -> None:
    resource = registered_resource(client, clock, provider, operator)
    number = ok(issue(client, operator, resource_id=resource["id"], rights=["holding"]))["number"]
    clock.set_china(date(2027, 3, 6), hour=1)  # still 5 March in UTC
    reason = "<b>持有人</b>申请撤销 & 更正"
    ok(post(client, f"/api/v1/certificates/{number}/revoke", operator, {"reason": reason}))

    html = client.get(f"/verify/{number}", headers=HTML).text
    assert "已撤销 Revoked" in html
    assert "撤销日期<br><span class=en>Revoked on</span></dt><dd>2027-03-06 01:00:00 北京时间 (UTC+8)</dd>" in html
    assert (
        "撤销原因<br><span class=en>Reason for revocation</span></dt>"
        "<dd>&lt;b&gt;持有人&lt;/b&gt;申请撤销 &amp; 更正</dd>" in html
    )
    assert "公共数据登记机构<br>Public Data Registration Body" in html

    view = client.get(f"/verify/{number}", headers=JSON).json()
    assert view["status"] == "revoked"
    assert (view["revoked_at"], view["revoked_reason"]) == ("2027-03-05T17:00:00Z", reason)


def test_a_credential_that_names_no_issuer_says_so(
    client: TestClient, clock: FakeClock, provider: Provider, operator: str
) -> None:
    resource = registered_resource(client, clock, provider, operator)
    number = ok(issue(client, operator, resource_id=resource["id"], rights=["holding"]))["number"]
    # What the page gets for a credential issued before issuers were named: its DID and no name.
    view = {**client.get(f"/verify/{number}", headers=JSON).json(), "issuer_name": None, "issuer_name_en": None}
    html = render_verification(view)
    assert "<dd>（凭证未载明名称）<span class=en>not named in the credential</span><br><code>did:key:" in html
    assert "公共数据登记机构<br>" not in html
