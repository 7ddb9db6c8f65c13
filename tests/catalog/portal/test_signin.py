"""Signing in and out of the pages: the cookie, CSRF tokens on every form, no open redirect, lockout messages, and
nothing private for a signed-out visitor."""

from __future__ import annotations

import re
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from auth.dependencies import SESSION_COOKIE, csrf_token
from auth.roles import Role
from catalog.settings import Settings
from tests.support.data import bearer, make_account
from tests.support.exchange import World
from tests.support.signing_in import PASSWORD, form_token, give_password, sign_in


@pytest.fixture
def carol(engine: Engine, settings: Settings) -> str:
    """A consumer with a password; returns her API token."""
    return make_account(engine, settings.auth, Role.consumer, name="carol", password=PASSWORD)[1]


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _token_names(client: TestClient, token: str) -> list[str]:
    listed = client.get("/api/v1/tokens", headers=bearer(token))
    assert listed.status_code == 200, listed.text
    return sorted(item["name"] for item in listed.json()["items"])


def test_signing_in_sets_a_lax_cookie_and_shows_the_account(client: TestClient, carol: str) -> None:
    signed = sign_in(client, "carol", next_path="/account")
    assert signed.status_code == 303 and signed.headers["location"] == "/account"
    cookie = signed.headers["set-cookie"].lower()
    assert f"{SESSION_COOKIE}=" in cookie and "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    assert "secure" not in cookie.split(f"{SESSION_COOKIE}=")[1].split(",")[0]
    account = client.get("/account")
    assert account.status_code == 200 and account.headers["cache-control"] == "no-store"
    text = _text(account.text)
    assert "carol" in text and "web session" in text and "initial" in text
    assert "退出登录" in text


@pytest.mark.parametrize("token", [None, "0" * 64])
def test_the_sign_in_form_without_its_token_is_refused(client: TestClient, carol: str, token: str | None) -> None:
    client.get("/signin")
    fields = {"name": "carol", "password": PASSWORD, "next": "/"}
    if token is not None:
        fields["csrf_token"] = token
    refused = client.post("/signin", data=fields, follow_redirects=False)
    assert refused.status_code == 403 and "text/html" in refused.headers["content-type"]
    assert SESSION_COOKIE not in refused.headers.get("set-cookie", "")
    assert client.get("/account", follow_redirects=False).status_code == 303


def test_a_token_from_another_visitor_is_refused(app: object, client: TestClient, carol: str) -> None:
    theirs = form_token(client.get("/signin").text)
    client.cookies.clear()
    client.get("/signin")  # a new pre-session cookie of this visitor
    fields = {"csrf_token": theirs, "name": "carol", "password": PASSWORD}
    assert client.post("/signin", data=fields, follow_redirects=False).status_code == 403


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)", "http:/x"]
)
def test_next_never_leaves_the_site(client: TestClient, carol: str, target: str) -> None:
    signed = sign_in(client, "carol", next_path=target)
    assert signed.status_code == 303 and signed.headers["location"] == "/"
    form = client.get("/signin", params={"next": target}).text
    assert 'name="next" value="/"' in form


def test_a_local_next_is_kept(client: TestClient, carol: str) -> None:
    signed = sign_in(client, "carol", next_path="/console/consumer?lang=en")
    assert signed.headers["location"] == "/console/consumer?lang=en"


def test_wrong_password_then_lockout_are_said_on_the_form(client: TestClient, carol: str, settings: Settings) -> None:
    wrong = sign_in(client, "carol", password="guess guess 1")
    assert wrong.status_code == 401 and "账户名或密码错误。" in _text(wrong.text)
    for _ in range(settings.auth.login_max_failures - 1):
        assert sign_in(client, "carol", password="guess guess 1").status_code == 401
    locked = sign_in(client, "carol")
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    minutes = -(-int(locked.headers["retry-after"]) // 60)
    assert f"登录失败次数过多，请 {minutes} 分钟后再试。" in _text(locked.text)
    english = client.post(
        "/signin?lang=en",
        data={"csrf_token": form_token(client.get("/signin").text), "name": "carol", "password": PASSWORD},
    )
    assert f"Too many failed sign-ins. Try again in {minutes} minutes." in _text(english.text)


def test_account_forms_without_their_token_change_nothing(client: TestClient, carol: str) -> None:
    assert sign_in(client, "carol").status_code == 303
    before = _token_names(client, carol)
    for token in (None, "f" * 64):
        fields = {"name": "sneaky", "expires_in_days": "30"} | ({"csrf_token": token} if token else {})
        refused = client.post("/account/tokens", data=fields)
        assert refused.status_code == 403 and "text/html" in refused.headers["content-type"]
    initial = client.get("/api/v1/tokens", headers=bearer(carol)).json()["items"]
    token_id = next(item["id"] for item in initial if item["name"] == "initial")
    assert client.post(f"/account/tokens/{token_id}/revoke", data={}).status_code == 403
    assert client.post("/signout", data={"csrf_token": "0" * 64}).status_code == 403
    assert _token_names(client, carol) == before
    assert client.get("/account").status_code == 200  # still signed in


def test_the_account_page_creates_and_revokes_tokens(client: TestClient, carol: str) -> None:
    assert sign_in(client, "carol").status_code == 303
    token = form_token(client.get("/account").text)
    made = client.post("/account/tokens", data={"csrf_token": token, "name": "laptop", "expires_in_days": "30"})
    assert made.status_code == 201
    secret = re.search(r'class="new-token">(pdr_[^<]+)<', made.text)
    assert secret, made.text
    assert client.get("/api/v1/me", headers=bearer(secret.group(1))).json()["name"] == "carol"
    again = client.get("/account").text
    assert secret.group(1) not in again and "laptop" in again
    laptop = next(
        i["id"] for i in client.get("/api/v1/tokens", headers=bearer(carol)).json()["items"] if i["name"] == "laptop"
    )
    revoked = client.post(f"/account/tokens/{laptop}/revoke", data={"csrf_token": token}, follow_redirects=False)
    assert revoked.status_code == 303
    assert client.get("/api/v1/me", headers=bearer(secret.group(1))).status_code == 401
    bad = client.post("/account/tokens", data={"csrf_token": token, "name": "x", "expires_in_days": "-3"})
    assert bad.status_code == 422 and "令牌需要名称" in _text(bad.text)


def test_signing_out_revokes_the_session(client: TestClient, carol: str) -> None:
    assert sign_in(client, "carol").status_code == 303
    secret = client.cookies[SESSION_COOKIE]
    token = form_token(client.get("/account").text)
    out = client.post("/signout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/"
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401
    assert client.get("/account", follow_redirects=False).status_code == 303


def test_cookie_only_api_writes_need_the_csrf_header(client: TestClient, carol: str, settings: Settings) -> None:
    assert sign_in(client, "carol").status_code == 303
    secret = client.cookies[SESSION_COOKIE]
    refused = client.post("/api/v1/tokens", json={"name": "cross-site"})
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("application/problem+json")
    wrong = client.post("/api/v1/tokens", json={"name": "cross-site"}, headers={"X-CSRF-Token": "0" * 64})
    assert wrong.status_code == 403
    assert "cross-site" not in _token_names(client, carol)
    allowed = client.post(
        "/api/v1/tokens", json={"name": "scripted"}, headers={"X-CSRF-Token": csrf_token(settings.auth, secret)}
    )
    assert allowed.status_code == 201
    # A bearer token is not sent by a browser on its own: it needs no CSRF token.
    assert client.post("/api/v1/tokens", json={"name": "cli"}, headers=bearer(carol)).status_code == 201


@pytest.mark.parametrize("path", ["/console/consumer", "/account", "/console/consumer?lang=en"])
def test_a_signed_out_visitor_is_sent_to_sign_in(client: TestClient, carol: str, path: str) -> None:
    sent = client.get(path, follow_redirects=False)
    assert sent.status_code == 303
    assert sent.headers["location"].startswith("/signin?next=%2F")
    page = client.get(sent.headers["location"])
    assert page.status_code == 200 and "carol" not in page.text and "pdr_" not in page.text


def test_a_stale_session_cookie_signs_the_visitor_out(client: TestClient, carol: str) -> None:
    client.cookies.set(SESSION_COOKIE, "pdr_" + "x" * 43)
    sent = client.get("/account", follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"].startswith("/signin")
    assert f'{SESSION_COOKIE}=""' in sent.headers["set-cookie"] or "max-age=0" in sent.headers["set-cookie"].lower()


def test_public_pages_set_no_cookie_and_name_the_signed_in_account(client: TestClient, carol: str) -> None:
    for path in ("/", "/search", "/log"):
        visited = client.get(path)
        assert visited.status_code == 200 and "set-cookie" not in visited.headers, path
        assert 'href="/signin?next=' in visited.text and "/signout" not in visited.text
    assert sign_in(client, "carol").status_code == 303
    home = client.get("/")
    assert 'class="viewer">carol<' in home.text and 'action="/signout"' in home.text
    assert home.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("name", "consoles"),
    [
        ("consumer-x", ["/console/consumer"]),
        ("provider-1", ["/console/consumer", "/console/provider"]),
        ("operator-1", ["/console/operator"]),
    ],
)
def test_the_header_links_the_consoles_of_ones_role(
    client: TestClient, world: World, engine: Engine, name: str, consoles: list[str]
) -> None:
    give_password(engine, name)
    assert sign_in(client, name).status_code == 303
    home = client.get("/")
    assert re.findall(r'href="([^"]+)" class="console-link"', home.text) == consoles
    client.cookies.clear()
    assert 'class="console-link"' not in client.get("/").text
