"""A visitor in a real browser (Debian's chromium through Playwright): searching in Chinese and in English,
narrowing by facets, downloading a file, using the keyboard, and never seeing what is not public."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.support.live import serving
from tests.support.portal_sample import CSV, Sample, make_sample
from tests.support.registry import Provider


@pytest.fixture
def sample(client: TestClient, provider: Provider, other_provider: Provider) -> Sample:
    """The sample catalog."""
    return make_sample(client, provider, other_provider)


def test_a_visitor_searches_in_chinese_and_downloads_a_file(
    app: FastAPI, browser: Any, sample: Sample, tmp_path: Path
) -> None:
    with serving(app) as base_url:
        page = browser.new_page(accept_downloads=True, locale="zh-CN")
        asked: list[str] = []
        page.on("request", lambda request: asked.append(request.url))
        page.goto(f"{base_url}/")
        assert page.locator("h1").inner_text() == "查找公共数据"
        page.get_by_label("搜索数据集").fill("充电桩")
        page.get_by_label("搜索数据集").press("Enter")
        page.wait_for_url("**/search?q=*")
        assert page.locator(".result-count").inner_text().strip() == "找到 1 个数据集"
        hit = page.locator(".hit h3 a")
        assert hit.all_inner_texts() == [sample.charging["title"]]
        assert page.locator(".hit mark").first.inner_text() == "充电桩"
        hit.click()
        page.wait_for_url(f"**/datasets/{sample.charging['id']}")
        assert page.locator("h1").inner_text() == sample.charging["title"]
        shown_digest = page.locator("code.digest").first.inner_text()
        with page.expect_download() as started:
            page.get_by_role("link", name="下载 充电桩.csv").click()
        saved = tmp_path / "got.csv"
        started.value.save_as(saved)
        page.close()
    assert saved.read_bytes() == CSV
    assert shown_digest == hashlib.sha256(saved.read_bytes()).hexdigest()
    assert {urlsplit(url).netloc for url in asked} == {urlsplit(base_url).netloc}, asked
    assert not [url for url in asked if url.endswith(".js")]


def test_a_visitor_narrows_an_english_search_with_facets(app: FastAPI, browser: Any, sample: Sample) -> None:
    with serving(app) as base_url:
        page = browser.new_page(locale="en-US", extra_http_headers={"Accept-Language": "en-US,en;q=0.9"})
        page.goto(f"{base_url}/")
        assert page.locator("h1").inner_text() == "Find public data"
        page.get_by_role("button", name="Search").click()
        assert page.locator(".result-count").inner_text().strip() == "3 datasets found"
        page.locator(".facets").get_by_role("link", name="Intelligent connected and new-energy vehicles").click()
        assert page.locator(".result-count").inner_text().strip() == "2 datasets found"
        titles = page.locator(".hit h3 a").all_inner_texts()
        assert sorted(titles) == sorted([sample.charging["title_en"], sample.parking["title_en"]])
        page.locator(".facets section", has_text="Access").get_by_role("link", name="Open (1)").click()
        assert page.locator(".result-count").inner_text().strip() == "1 dataset found"
        assert page.locator(".hit h3 a").all_inner_texts() == [sample.charging["title_en"]]
        shared = page.url
        page.close()
        again = browser.new_page(extra_http_headers={"Accept-Language": "en"})
        again.goto(shared)
        assert again.locator(".result-count").inner_text().strip() == "1 dataset found"
        again.close()


def test_the_keyboard_reaches_the_page_with_a_visible_focus(app: FastAPI, browser: Any, sample: Sample) -> None:
    with serving(app) as base_url:
        page = browser.new_page(locale="zh-CN")
        page.goto(f"{base_url}/")
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.textContent")
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        page.keyboard.press("Enter")
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        in_main = page.evaluate("document.querySelector('main').contains(document.activeElement)")
        page.close()
    assert focused == "跳到正文" and outline != "none"
    assert in_main


def test_a_signed_out_visitor_sees_nothing_private(app: FastAPI, browser: Any, sample: Sample) -> None:
    with serving(app) as base_url:
        page = browser.new_page(locale="zh-CN")
        page.goto(f"{base_url}/search?q=充电桩")
        results = page.locator("main").inner_text()
        page.goto(f"{base_url}/datasets/{sample.charging['id']}")
        dataset = page.locator("main").inner_text()
        draft = page.goto(f"{base_url}/datasets/{sample.draft['id']}")
        assert draft is not None and draft.status == 404
        not_found = page.locator("h1").inner_text()
        page.close()
    assert sample.draft["title"] not in results and sample.closed["title"] not in results
    assert "unpublished-v2.csv" not in dataset
    assert not_found == "未找到"
