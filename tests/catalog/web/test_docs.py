"""`/docs` works without the internet: Swagger UI's files come from the installed package and the page asks no
other host for anything."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.support.live import serving


def test_the_page_names_only_its_own_files(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    references = re.findall(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""", page.text)
    assert references, page.text
    assert all(urlsplit(ref).netloc == "" for ref in references), references
    assert "validatorUrl" in page.text  # off: no badge fetched from validator.swagger.io


def test_the_assets_are_served_and_nothing_else_is(client: TestClient) -> None:
    bundle = client.get("/docs/assets/swagger-ui-bundle.js")
    assert (bundle.status_code, bundle.headers["content-type"]) == (200, "text/javascript; charset=utf-8")
    assert b"SwaggerUIBundle" in bundle.content
    assert client.get("/docs/assets/swagger-ui.css").headers["content-type"] == "text/css; charset=utf-8"
    assert client.get("/docs/assets/favicon-32x32.png").content.startswith(b"\x89PNG")
    for name in ("__init__.py", "..%2F__init__.py", "swagger-ui-bundle.js.map"):
        assert client.get(f"/docs/assets/{name}").status_code == 404
    # ReDoc would come from a CDN: it is not offered.
    assert client.get("/redoc").status_code == 404


def test_a_browser_renders_the_api_without_leaving_the_host(app: FastAPI, browser: Any) -> None:
    with serving(app) as base_url:
        page = browser.new_page()
        asked: list[str] = []
        page.on("request", lambda request: asked.append(request.url))
        page.goto(f"{base_url}/docs")
        page.wait_for_selector(".opblock-summary", timeout=30_000)
        operations = page.locator(".opblock-summary-path").all_inner_texts()
        page.close()
    assert any("/api/v1/datasets" in path for path in operations), operations[:5]
    hosts = {urlsplit(url).netloc for url in asked if not url.startswith("data:")}
    assert hosts == {urlsplit(base_url).netloc}, asked
