"""axe-core finds no serious or critical violation on the portal's main pages, in Chinese and in English, signed
out and signed in, as the server sends them (with their Content-Security-Policy) in Debian's chromium."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.support.axe import Axe, describe
from tests.support.certificates import issue, ok, registered_resource
from tests.support.data import FakeClock, bearer
from tests.support.dataspace import offer_body
from tests.support.exchange import World, granted
from tests.support.live import serving
from tests.support.portal_sample import make_sample
from tests.support.signing_in import PASSWORD, give_password, in_notice


def _open_every_details(page: Any) -> None:
    """Open the collapsed forms (the notice board's objection forms), so that axe-core checks them too."""
    page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")


@dataclass(frozen=True)
class Checked:
    """A page to check: its name, its path (given what the test made), what it must show (CSS selectors), the account
    signed in to see it (None: signed out), what to do on it first, and whether it speaks the visitor's language (the
    verification page speaks both at once)."""

    name: str
    path: Callable[[dict[str, str]], str]
    shows: tuple[str, ...] = ("main h1",)
    account: str | None = None
    prepare: Callable[[Any], None] | None = None
    localised: bool = True


SEARCH = "/search?q=充电桩&theme=intelligent_vehicles&publisher={publisher}"
# Add a page here: its path from the ids `_make_world` returns (add an id there if it needs one), and the account
# that sees it (the world's accounts: consumer-x, provider-1, provider-2, operator-1, admin-1; each gets a password).
PAGES = [
    Checked("home", lambda made: "/", shows=(".figures",)),
    Checked("search", lambda made: SEARCH.format(**made), shows=(".hit mark", ".facets a.chosen")),
    Checked("search, second page", lambda made: "/search?sort=title&cursor=" + made["cursor"], shows=(".hit",)),
    Checked("dataset", lambda made: f"/datasets/{made['dataset']}", shows=("code.digest",)),
    Checked("publisher", lambda made: f"/entities/{made['publisher']}"),
    Checked("dataset with offers", lambda made: f"/datasets/{made['conditional']}", shows=("section.offers dl",)),
    Checked("notice board", lambda made: "/notices", shows=("form.objection",), prepare=_open_every_details),
    Checked("transparency log", lambda made: "/log", shows=(".log-size",)),
    Checked("certificate verification", lambda made: f"/verify/{made['certificate']}", localised=False),
    Checked("sign-in", lambda made: "/signin", shows=("#signin-password",)),
    Checked("account", lambda made: "/account", shows=("tr.token button",), account="consumer-x"),
    Checked("consumer console", lambda made: "/console/consumer", shows=("table.grants",), account="consumer-x"),
    Checked("notice board, signed in", lambda made: "/notices", shows=("form.objection",), account="consumer-x",
            prepare=_open_every_details),
    Checked("application for access", lambda made: f"/datasets/{made['conditional']}/apply", shows=("#apply-purpose",),
            account="consumer-x"),
    Checked("dataset with offers, signed in", lambda made: f"/datasets/{made['conditional']}",
            shows=("form.negotiate-offer",), account="consumer-x"),
    Checked("contract negotiations", lambda made: "/console/consumer/negotiations", shows=("table.negotiations",),
            account="consumer-x"),
    Checked("a contract negotiation", lambda made: f"/console/consumer/negotiations/{made['negotiation']}",
            shows=("form.negotiation-step", "dd.agreement-status"), account="consumer-x"),
    Checked("review queue", lambda made: "/console/operator", shows=("main h1",), account="operator-1"),
    Checked("registration review", lambda made: f"/console/operator/registrations/{made['notice']}",
            shows=("main h1",), account="operator-1"),
    Checked("objections", lambda made: "/console/operator/objections", shows=("main h1",), account="operator-1"),
    Checked("certificates", lambda made: "/console/operator/certificates", shows=("main h1",), account="operator-1"),
    Checked("a certificate", lambda made: f"/console/operator/certificates/{made['certificate']}",
            shows=("main h1",), account="operator-1"),
    Checked("entities", lambda made: "/console/operator/entities", shows=("main h1",), account="operator-1"),
    Checked("access requests to second", lambda made: "/console/operator/access-requests", shows=("main h1",),
            account="operator-1"),
    Checked("dashboard", lambda made: "/console/operator/dashboard", shows=("svg[role=img]",), account="operator-1",
            prepare=_open_every_details),
]  # fmt: skip
LANGUAGES: dict[str, dict[str, Any]] = {
    "zh": {"locale": "zh-CN"},
    "en": {"locale": "en-US", "extra_http_headers": {"Accept-Language": "en"}},
}


def _make_world(client: TestClient, world: World, engine: Engine, clock: FakeClock) -> dict[str, str]:
    """Public datasets, a certificate, a registration in notice, a grant to consumer-x, and passwords to sign in."""
    sample = make_sample(client, world.provider, world.other)
    granted(client, world, quota=3)
    for name in {checked.account for checked in PAGES if checked.account}:
        give_password(engine, name)
    resource = registered_resource(client, clock, world.provider, world.operator)
    certificate = ok(issue(client, world.operator, resource_id=resource["id"], rights=["holding"]))
    notice = in_notice(client, clock, world.provider, world.operator, "海珠区路灯运行数据")
    negotiation = _agreed_negotiation(client, world)
    first = client.get("/api/v1/datasets", params={"sort": "title", "limit": 1}).json()
    assert first["next_cursor"], first
    return {
        "dataset": sample.charging["id"],
        "publisher": world.provider.entity_id,
        "certificate": certificate["number"],
        "cursor": first["next_cursor"],
        "conditional": world.conditional,
        "notice": notice,
        "negotiation": negotiation,
    }


def _agreed_negotiation(client: TestClient, world: World) -> str:
    """consumer-x's negotiation on an offer of the conditional dataset, agreed by its provider; its id."""
    offer = client.post(
        f"/api/v1/datasets/{world.conditional}/offers", json=offer_body(), headers=bearer(world.provider.token)
    )
    assert offer.status_code == 201, offer.text
    made = client.post("/api/v1/negotiations", json={"offer_id": offer.json()["id"]}, headers=bearer(world.consumer))
    assert made.status_code == 201, made.text
    agreed = client.post(f"/api/v1/negotiations/{made.json()['id']}/agree", headers=bearer(world.provider.token))
    assert agreed.status_code == 200, agreed.text
    return str(made.json()["id"])


def _sign_in(page: Any, base_url: str, name: str) -> None:
    """Sign in on the portal's own form, as a person would; the page keeps the session's cookie."""
    page.goto(f"{base_url}/signin")
    page.locator("#signin-name").fill(name)
    page.locator("#signin-password").fill(PASSWORD)
    page.locator("#signin-password").press("Enter")
    page.wait_for_url(f"{base_url}/")
    assert page.locator("header .viewer").inner_text() == name


def _check(page: Any, axe: Axe, base_url: str, checked: Checked, made: dict[str, str], language: str) -> str | None:
    """What axe-core found on one page, described, or None."""
    shown = page.goto(base_url + checked.path(made))
    assert shown is not None and shown.status == 200, (checked.name, shown and shown.status)
    if checked.localised:
        assert page.locator("html").get_attribute("lang").startswith(language), checked.name
    for selector in checked.shows:
        assert page.locator(selector).count() > 0, f"{checked.name} shows no {selector}"
    if checked.prepare:
        checked.prepare(page)
    found = axe.blocking(page)
    return f"{checked.name} ({page.url}):\n{describe(found)}" if found else None


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_no_serious_or_critical_violation_on_the_main_pages(
    app: FastAPI,
    browser: Any,
    axe: Axe,
    client: TestClient,
    world: World,
    engine: Engine,
    clock: FakeClock,
    language: str,
) -> None:
    made = _make_world(client, world, engine, clock)
    problems: list[str] = []
    with serving(app) as base_url:
        for account in dict.fromkeys(checked.account for checked in PAGES):
            context = browser.new_context(**LANGUAGES[language])
            page = context.new_page()
            if account:
                _sign_in(page, base_url, account)
            for checked in [p for p in PAGES if p.account == account]:
                problems.append(_check(page, axe, base_url, checked, made, language) or "")
            context.close()
    failures = [problem for problem in problems if problem]
    assert not failures, "axe-core found serious or critical violations:\n" + "\n".join(failures)
