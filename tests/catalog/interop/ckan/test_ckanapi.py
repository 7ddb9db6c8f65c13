"""The real ckanapi client against the service on a local port: create, search, show, update and the errors."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import ckanapi
import pytest
import uvicorn
from sqlalchemy import Engine

from catalog.app import create_app
from catalog.settings import Settings
from tests.support.registry import Provider


@pytest.fixture
def server(settings: Settings, engine: Engine) -> Iterator[str]:
    """The service on a free port of 127.0.0.1, in a background thread; yields its base URL."""
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=0, log_config=None, access_log=False)
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not running.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    port = running.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(timeout=20)


def test_ckanapi_drives_the_catalog(server: str, provider: Provider, consumer: str) -> None:
    with ckanapi.RemoteCKAN(server, apikey=provider.token) as ckan:
        assert ckan.action.status_show()["ckan_version"]
        created = ckan.action.package_create(
            name="haizhu-parking",
            title="海珠区停车场",
            notes="海珠区公共停车场车位。Parking lots in Haizhu.",
            owner_org=provider.entity_id,
            tags=[{"name": "停车场"}],
            resources=[{"url": "https://example.org/parking.csv", "format": "CSV", "name": "CSV"}],
        )
        assert created["name"] == "haizhu-parking"
        found = ckan.action.package_search(q="parking", fq='res_format:"CSV"', facet_field=None)
        assert found["count"] == 1 and found["results"][0]["title"] == "海珠区停车场"
        chinese = ckan.action.package_search(q="停车")
        assert [p["name"] for p in chinese["results"]] == ["haizhu-parking"]
        assert ckan.action.package_show(id="haizhu-parking")["id"] == created["id"]
        updated = ckan.action.package_update(id=created["id"], title="海珠区停车场（2025）", notes="更新。")
        assert updated["title"] == "海珠区停车场（2025）"
        resource = ckan.action.resource_create(package_id=created["id"], url="https://example.org/api", format="API")
        assert ckan.action.resource_show(id=resource["id"])["url"] == "https://example.org/api"
        with pytest.raises(ckanapi.NotFound):
            ckan.action.package_show(id="no-such-package")
        with pytest.raises(ckanapi.ValidationError) as invalid:
            ckan.action.package_create(name="haizhu-parking", title="重复", owner_org=provider.entity_id)
        assert "name" in invalid.value.error_dict
    with ckanapi.RemoteCKAN(server, apikey=consumer) as outsider, pytest.raises(ckanapi.NotAuthorized):
        outsider.action.package_update(id="haizhu-parking", title="篡改")
    with ckanapi.RemoteCKAN(server) as anonymous:
        assert anonymous.action.package_list() == ["haizhu-parking"]
        with pytest.raises(ckanapi.NotAuthorized):
            anonymous.action.package_create(name="anon", title="匿名", owner_org=provider.entity_id)
