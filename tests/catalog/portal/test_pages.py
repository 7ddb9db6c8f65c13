"""The portal's public pages as a signed-out visitor gets them: what they show, in which language, and what not."""

from __future__ import annotations

import hashlib
import re
from datetime import date
from html import unescape

import pytest
from fastapi.testclient import TestClient

from tests.support.certificates import issue, ok, registered_resource
from tests.support.data import FakeClock, bearer
from tests.support.portal_sample import CSV, Sample, make_sample, upload
from tests.support.registry import Provider
from tests.support.workflow import apply, new_resource, step


@pytest.fixture
def sample(client: TestClient, provider: Provider, other_provider: Provider) -> Sample:
    """The sample catalog."""
    return make_sample(client, provider, other_provider)


def _text(html: str) -> str:
    """What a reader sees of a page: its text without tags, spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _result_count(html: str) -> int:
    found = re.search(r'class="result-count"[^>]*>\s*(?:找到\s*)?([0-9,]+)', html)
    assert found, html
    return int(found.group(1).replace(",", ""))


def test_home_shows_themes_figures_and_newest_in_chinese(client: TestClient, sample: Sample) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["content-language"] == "zh"
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
    assert '<html lang="zh-CN">' in page.text
    text = _text(page.text)
    assert "已发布 3 个数据集。" in text
    assert "智能网联与新能源汽车 2 个数据集" in text and "公共服务 1 个数据集" in text
    assert "已核验主体 2" in text
    for shown in (sample.charging, sample.buses, sample.parking):
        assert shown["title"] in text
    assert sample.draft["title"] not in text and sample.closed["title"] not in text


def test_english_by_accept_language_and_by_the_switch(client: TestClient, sample: Sample) -> None:
    by_header = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9,zh;q=0.5"})
    assert '<html lang="en">' in by_header.text and "Find public data" in by_header.text
    assert "Intelligent connected and new-energy vehicles 2 datasets" in _text(by_header.text)
    # Links of a page whose language came from the header stay plain.
    assert 'href="/search?theme=intelligent_vehicles"' in by_header.text
    switched = client.get("/?lang=en", headers={"Accept-Language": "zh-CN"})
    assert "Find public data" in switched.text
    assert 'href="/search?theme=intelligent_vehicles&amp;lang=en"' in switched.text
    assert 'href="/?lang=zh"' in switched.text  # the way back
    assert "查找公共数据" in client.get("/", headers={"Accept-Language": "fr, de;q=0.8"}).text
    assert "查找公共数据" in client.get("/?lang=xx").text


def test_search_counts_marks_words_and_hides_what_is_not_public(client: TestClient, sample: Sample) -> None:
    page = client.get("/search", params={"q": "充电桩"})
    assert page.status_code == 200
    assert _result_count(page.text) == 1
    assert "<mark>充电桩</mark>" in page.text
    assert f'href="/datasets/{sample.charging["id"]}"' in page.text
    assert sample.draft["title"] not in page.text and sample.closed["title"] not in page.text
    english = client.get("/search", params={"q": "parking", "lang": "en"})
    assert _result_count(english.text) == 1 and "<mark>Parking</mark> spaces in Yuexiu" in english.text
    assert "1 dataset found" in _text(english.text)


def test_facets_narrow_the_results_through_links(client: TestClient, sample: Sample) -> None:
    everything = client.get("/search")
    assert _result_count(everything.text) == 3
    link = re.search(r'href="([^"]+)" data-facet="theme" data-value="intelligent_vehicles"', everything.text)
    assert link, everything.text
    by_theme = client.get(unescape(link.group(1)))
    assert _result_count(by_theme.text) == 2
    assert sample.buses["title"] not in _text(by_theme.text.split('class="results"')[1])
    link = re.search(r'href="([^"]+)" data-facet="access" data-value="unconditional"', by_theme.text)
    assert link, by_theme.text
    narrowed = client.get(unescape(link.group(1)))
    assert _result_count(narrowed.text) == 1
    assert sample.charging["title"] in narrowed.text and sample.parking["title"] not in narrowed.text
    # A chosen filter's link takes it off again.
    chosen = re.search(r'href="([^"]+)" data-facet="access" data-value="unconditional"\s+aria-current', narrowed.text)
    assert chosen and _result_count(client.get(unescape(chosen.group(1))).text) == 2


def test_search_pages_by_cursor_and_sorts(client: TestClient, sample: Sample) -> None:
    first = client.get("/search", params={"sort": "title"})
    assert _result_count(first.text) == 3
    # 20 results a page: three fit on one.
    assert 'rel="next"' not in first.text
    titles = re.findall(r'<h3><a href="/datasets/[^"]+">([^<]+)</a></h3>', first.text)
    assert len(titles) == 3


def test_bad_search_input_gets_a_4xx_page(client: TestClient, sample: Sample) -> None:
    unknown = client.get("/search", params={"theme": "astrology"})
    assert unknown.status_code == 422
    assert unknown.headers["content-type"].startswith("text/html") and "astrology" in unknown.text
    broken = client.get("/search", params={"cursor": "garbage"})
    assert broken.status_code == 422 and broken.headers["content-type"].startswith("text/html")
    assert client.get("/notices", params={"cursor": "garbage"}).status_code == 422
    assert client.get("/search", params={"sort": "random"}).status_code == 422
    assert client.get("/search", params={"q": "x" * 501}).status_code == 422


def test_dataset_page_shows_files_and_no_unpublished_version(client: TestClient, sample: Sample) -> None:
    page = client.get(f"/datasets/{sample.charging['id']}")
    assert page.status_code == 200
    text = _text(page.text)
    assert sample.charging["title"] in text and "Public charging piles in Tianhe" in text
    assert "充电桩.csv" in text and hashlib.sha256(CSV).hexdigest() in text
    download = f"/api/v1/datasets/{sample.charging['id']}/files/{sample.charging_file['id']}/content"
    assert f'href="{download}"' in page.text
    assert "unpublished-v2.csv" not in page.text
    assert "第 1 版" in text and "第 2 版" not in text  # the version in the making is not shown at all
    assert f'href="/dcat/datasets/{sample.charging["id"]}.ttl"' in page.text
    assert client.get(download).content == CSV


def test_the_publisher_sees_its_own_unpublished_version(client: TestClient, sample: Sample, provider: Provider) -> None:
    page = client.get(f"/datasets/{sample.charging['id']}", headers=bearer(provider.token))
    assert "unpublished-v2.csv" in page.text and "第 2 版" in page.text
    draft = client.get(f"/datasets/{sample.draft['id']}", headers=bearer(provider.token))
    assert draft.status_code == 200 and sample.draft["title"] in draft.text


@pytest.mark.parametrize("which", ["draft", "closed"])
def test_private_datasets_are_not_found_when_signed_out(client: TestClient, sample: Sample, which: str) -> None:
    hidden = getattr(sample, which)
    page = client.get(f"/datasets/{hidden['id']}")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert hidden["title"] not in page.text and "未找到" in page.text


def test_text_is_escaped(client: TestClient, provider: Provider, other_provider: Provider) -> None:
    made = make_sample(client, provider, other_provider)
    renamed = client.patch(
        f"/api/v1/datasets/{made.buses['id']}",
        json={"title": "<script>alert(1)</script>公交"},
        headers=bearer(other_provider.token),
    )
    assert renamed.status_code == 200, renamed.text
    page = client.get(f"/datasets/{made.buses['id']}")
    assert "<script>alert(1)" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;公交" in page.text
    found = client.get("/search", params={"q": "公交"})
    assert "<script>alert" not in found.text and "&lt;script&gt;" in found.text


def test_publisher_page_lists_its_public_datasets(client: TestClient, sample: Sample, provider: Provider) -> None:
    page = client.get(f"/entities/{provider.entity_id}")
    assert page.status_code == 200
    text = _text(page.text)
    assert "数据集（2）" in text
    assert sample.charging["title"] in text and sample.parking["title"] in text
    assert sample.draft["title"] not in text and sample.closed["title"] not in text
    assert client.get("/entities/01HZZZZZZZZZZZZZZZZZZZZZZZ").status_code == 404


def test_downloads_show_on_the_home_page(client: TestClient, sample: Sample, provider: Provider) -> None:
    before = _text(client.get("/").text)
    assert "本月下载次数 0" in before
    file_id = sample.charging_file["id"]
    assert client.get(f"/api/v1/datasets/{sample.charging['id']}/files/{file_id}/content").status_code == 200
    # The publisher fetches its own draft's file twice: counted, but the draft is listed nowhere public.
    draft_file = upload(client, provider.token, sample.draft["id"], "draft.csv")
    for _ in range(2):
        fetched = client.get(
            f"/api/v1/datasets/{sample.draft['id']}/files/{draft_file['id']}/content", headers=bearer(provider.token)
        )
        assert fetched.status_code == 200
    after = client.get("/").text
    assert "本月下载次数 3" in _text(after)
    popular = after.split('id="popular-heading"')[1]
    assert sample.charging["title"] in popular and sample.buses["title"] not in popular
    assert sample.draft["title"] not in after


def test_notice_board_shows_registrations_in_notice(
    client: TestClient, provider: Provider, operator: str, clock: FakeClock
) -> None:
    empty = client.get("/notices")
    assert empty.status_code == 200 and "今日没有公示中的登记申请。" in empty.text
    resource = new_resource(client, provider, name="海珠区路灯运行数据")
    registration = apply(client, provider, resource["id"])
    step(client, provider.token, registration, "submit")
    step(client, operator, registration, "accept")
    passed = step(client, operator, registration, "pass-review")
    clock.set_china(date.fromisoformat(passed["notice_starts_on"]))
    board = _text(client.get("/notices", params={"lang": "en"}).text)
    assert "1 registration in notice" in board
    assert "海珠区路灯运行数据" in board and "First registration" in board


def test_certificate_badge_links_to_verification(
    client: TestClient, provider: Provider, operator: str, clock: FakeClock
) -> None:
    resource = registered_resource(client, clock, provider, operator)
    number = ok(issue(client, operator, resource_id=resource["id"], rights=["holding"]))["number"]
    created = client.post(
        "/api/v1/datasets",
        json={"title": "天河区充电桩登记数据", "resource_id": resource["id"]},
        headers=bearer(provider.token),
    )
    assert created.status_code == 201, created.text
    dataset_id = created.json()["id"]
    upload(client, provider.token, dataset_id, "piles.csv")
    assert client.post(f"/api/v1/datasets/{dataset_id}/publish", headers=bearer(provider.token)).status_code == 200
    page = client.get(f"/datasets/{dataset_id}")
    assert f'href="/verify/{number}"' in page.text and "已登记" in _text(page.text)
    # The resource is open on conditions: its files take a grant.
    assert "下载（需授权）" in page.text
    assert client.get(f"/verify/{number}").status_code == 200
    log = client.get("/log")
    size = re.search(r'class="log-size">([0-9,]+)<', log.text)
    assert size and int(size.group(1).replace(",", "")) >= 1
    assert client.get("/log/checkpoint").text.splitlines()[1] == size.group(1).replace(",", "")


def test_the_log_page_before_anything_is_logged(client: TestClient) -> None:
    page = client.get("/log", params={"lang": "en"})
    assert page.status_code == 200 and "Verify it yourself" in page.text


def test_the_stylesheet_is_served_and_nothing_else(client: TestClient) -> None:
    sheet = client.get("/static/portal/portal.css")
    assert sheet.status_code == 200 and sheet.headers["content-type"] == "text/css; charset=utf-8"
    assert b"focus-visible" in sheet.content
    for name in ("portal.js", "..%2F__init__.py", "../router.py"):
        assert client.get(f"/static/portal/{name}").status_code == 404
