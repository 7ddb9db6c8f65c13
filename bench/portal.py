"""The portal's pages, public and signed in: screenshots in Chinese for docs/screenshots/, and each page's weight.
Prints JSON.

    .venv/bin/python bench/portal.py [--out docs/screenshots]

Runs `pdr serve` on 127.0.0.1 (embedded SQLite and file store, in a temporary folder) and fills it over the API
(bench/portal_world.py): first with no public notice, so that two resources are registered and one has a
certificate, then, restarted with the default settings, with datasets, access requests, downloads and registrations
submitted, accepted and in notice. Debian's chromium (Playwright, headless, zh-CN) then signs in through the
portal's own form in one context per role (consumer, provider, operator; the visitor's pages in one of their own)
and saves a full-page PNG of each page. The weight of a page is the bytes of every response the browser loaded
for it, by kind (document, stylesheet, script, other), with the browser's cache off.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portal_world import CONSUMER, OPERATOR, PASSWORD, SCOPE, World
from support import ROOT, start_embedded


@dataclass(frozen=True)
class Shot:
    """A page to shoot: who looks at it, its path, and, for a form's answer, how to send the form found there."""

    name: str
    role: str | None  # the account signed in, or None for a visitor
    path: str
    then: Callable[[Any], None] | None = None


def _preview(page: Any) -> None:
    """Ask the certificate form for its preview: the scope typed in, the rights as the form proposes them."""
    page.fill("#scope", SCOPE)
    with page.expect_navigation():
        page.locator("form.issue-terms button[type=submit]").click()


def shots(ids: dict[str, str]) -> list[Shot]:
    """Every page shot, in order: the visitor's, the consumer's, the provider's and the operator's."""
    provider, console = "portal-provider-1", "/console/provider"
    operator = "/console/operator"
    return [
        Shot("home", None, "/"),
        Shot("search", None, "/search?q=充电桩"),
        Shot("dataset", None, f"/datasets/{ids['dataset']}"),
        Shot("signin", None, "/signin"),
        Shot("notices", None, "/notices"),
        Shot("verify", None, f"/verify/{ids['certificate']}"),
        Shot("apply", CONSUMER, f"/datasets/{ids['apply']}/apply"),
        Shot("consumer", CONSUMER, "/console/consumer"),
        Shot("provider", provider, console),
        Shot("provider-registrations", provider, f"{console}/registrations"),
        Shot("provider-dataset", provider, f"{console}/datasets/{ids['draft']}"),
        Shot("provider-requests", provider, f"{console}/requests"),
        Shot("provider-downloads", provider, f"{console}/downloads"),
        Shot("operator-queue", OPERATOR, operator),
        Shot("operator-registration", OPERATOR, f"{operator}/registrations/{ids['review']}"),
        Shot("operator-issue", OPERATOR, f"{operator}/registrations/{ids['to_issue']}/certificate", _preview),
        Shot("operator-certificate", OPERATOR, f"{operator}/certificates/{ids['certificate']}"),
        Shot("operator-dashboard", OPERATOR, f"{operator}/dashboard"),
    ]


def _fonts(work: Path) -> dict[str, str]:
    """An environment whose fontconfig also finds Noto Sans CJK, from the `noto-cjk-sans-otc` dependency."""
    # Without it a machine with no CJK system fonts shows every Chinese character as a box in the screenshots.
    from noto_cjk_sans_otc import FONT_PATH  # type: ignore[import-untyped]

    conf = work / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f'<include ignore_missing="yes">/etc/fonts/fonts.conf</include><dir>{Path(FONT_PATH).parent}</dir>'
        f"<cachedir>{work / 'fontcache'}</cachedir></fontconfig>"
    )
    return {**os.environ, "FONTCONFIG_FILE": str(conf)}


def _sign_in(page: Any, base: str, name: str) -> None:
    """Sign in through the portal's form as a person would: name, password, Enter."""
    page.goto(f"{base}/signin", wait_until="load")
    page.fill("#signin-name", name)
    page.fill("#signin-password", PASSWORD)
    with page.expect_navigation():
        page.press("#signin-password", "Enter")
    if "/signin" in page.url:
        raise RuntimeError(f"{name} could not sign in")


def _weigh(page: Any, shot: Shot, base: str) -> dict[str, int]:
    """Open the shot's page (and send its form) while counting the bytes of every response, by kind."""
    sizes = {"document": 0, "stylesheet": 0, "script": 0, "other": 0, "requests": 0}

    def count(response: Any) -> None:
        kind = response.request.resource_type
        # A redirect (or a 304, which the cache being off should never give) has no body of its own.
        empty = 300 <= response.status < 400
        sizes[kind if kind in sizes else "other"] += 0 if empty else len(response.body())
        sizes["requests"] += 1

    if shot.then is None:
        page.on("response", count)
        page.goto(f"{base}{shot.path}", wait_until="load")
    else:
        page.goto(f"{base}{shot.path}", wait_until="load")
        page.on("response", count)
        shot.then(page)
        page.wait_for_load_state("load")
    page.remove_listener("response", count)
    return sizes


def weigh_and_shoot(base: str, pages: list[Shot], out: Path, work: Path) -> dict[str, dict[str, int]]:
    """Each page's bytes by kind, with a full-page screenshot of it saved as out/NAME.png."""
    from playwright.sync_api import sync_playwright

    weights: dict[str, dict[str, int]] = {}
    with sync_playwright() as playwright:
        # The browser's own controls (a file input's button, a date's format) speak its language, in Chinese where
        # its Chinese strings are installed (Debian's chromium-l10n).
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--lang=zh-CN"], env=_fonts(work)
        )
        for role in dict.fromkeys(shot.role for shot in pages):
            context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
            page = context.new_page()
            # Every page is weighed whole, its stylesheet included, not as the second page of a visit.
            context.new_cdp_session(page).send("Network.setCacheDisabled", {"cacheDisabled": True})
            if role is not None:
                _sign_in(page, base, role)
            for shot in (shot for shot in pages if shot.role == role):
                weights[shot.name] = _weigh(page, shot, base)
                page.screenshot(path=str(out / f"{shot.name}.png"), full_page=True)
            context.close()
        browser.close()
    return weights


@contextmanager
def running(work: Path, **settings: str) -> Iterator[tuple[dict[str, str], str]]:
    """A pdr on the database and file store in `work`, with these settings; its settings and base URL."""
    server, env, base = start_embedded(work, **settings)
    try:
        yield env, base
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def main() -> None:
    """Start with no notice and register, restart with the defaults and fill the rest, shoot, print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        with running(work, PDR_NOTICE_WORKING_DAYS="0") as (env, base):
            world = World(base)
            world.registered(env)
        with running(work) as (_, base):
            world.base = base
            world.fill()
            weights = weigh_and_shoot(base, shots(world.ids), args.out, work)
    print(json.dumps({"pages": weights, "screenshots": str(args.out)}, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
