"""The real ckanapi client against the service on a local port: create, search, show, update and the errors; uploaded
files as resources, and `ckanapi dump datasets` of one pdr imported into another."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import ckanapi
import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from catalog.app import create_app
from catalog.cli import app as cli
from catalog.settings import Settings
from registry.models import Entity
from storage import migrate
from storage.db import DatabaseSettings, make_engine, session_scope
from tests.support.data import bearer, new_uscc
from tests.support.exchange import World
from tests.support.live import serving
from tests.support.registry import Provider


@pytest.fixture
def server(settings: Settings, engine: Engine) -> Iterator[str]:
    """The service on a free port of 127.0.0.1, in a background thread; yields its base URL."""
    with serving(create_app(settings)) as base_url:
        yield base_url


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


def _upload(client: TestClient, token: str, dataset_id: str, name: str, body: bytes, media_type: str) -> str:
    uploaded = client.post(
        f"/api/v1/datasets/{dataset_id}/files",
        content=body,
        params={"name": name},
        headers={**bearer(token), "Content-Type": media_type},
    )
    assert uploaded.status_code == 201, uploaded.text
    return str(uploaded.json()["id"])


def _three_versions(client: TestClient, world: World) -> tuple[str, str, str, str]:
    """The open dataset's v1 file, a published v2 with a CSV file and a link, a draft v3 with a file; their ids."""
    token, dataset_id = world.provider.token, world.open_dataset
    assert client.post(f"/api/v1/datasets/{dataset_id}/versions", headers=bearer(token)).status_code == 201
    csv_file = _upload(client, token, dataset_id, "停车场.csv", CSV, "text/csv")
    link = client.post(
        f"/api/v1/datasets/{dataset_id}/distributions",
        json={"name": "API", "url": "https://example.org/parking/api", "format": "API"},
        headers=bearer(token),
    )
    assert link.status_code == 201, link.text
    assert client.post(f"/api/v1/datasets/{dataset_id}/publish", headers=bearer(token)).status_code == 200
    assert client.post(f"/api/v1/datasets/{dataset_id}/versions", headers=bearer(token)).status_code == 201
    draft_file = _upload(client, token, dataset_id, "draft.json", b"{}", "application/json")
    return world.open_file, csv_file, str(link.json()["id"]), draft_file


CSV = "车位,收费\n120,5\n".encode()


def test_uploaded_files_are_resources_with_their_download(
    client: TestClient, world: World, server: str, settings: Settings
) -> None:
    v1_file, csv_file, link, draft_file = _three_versions(client, world)
    listed = client.get(f"/api/v1/datasets/{world.not_open}/files", headers=bearer(world.provider.token))
    not_open_file = listed.json()[0]["id"]
    with ckanapi.RemoteCKAN(server) as anonymous:
        package = anonymous.action.package_show(id=world.open_dataset)
        assert [r["id"] for r in package["resources"]] == [csv_file, v1_file, link]  # files newest first, then links
        assert package["num_resources"] == 3
        resource = package["resources"][0]
        assert resource["url"] == f"{settings.base_url}/api/v1/datasets/{world.open_dataset}/files/{csv_file}/content"
        assert (resource["format"], resource["mimetype"], resource["size"]) == ("CSV", "text/csv", len(CSV))
        assert resource["hash"] == "sha256:" + hashlib.sha256(CSV).hexdigest()
        assert resource["last_modified"] and resource["url_type"] == "upload"
        assert anonymous.action.resource_show(id=csv_file) == resource
        downloaded = httpx.get(resource["url"].replace(settings.base_url, server))
        assert downloaded.status_code == 200 and downloaded.content == CSV
        found = anonymous.action.package_search(q="*:*", rows=10)["results"]
        shown = {p["id"]: [r["id"] for r in p["resources"]] for p in found}
        assert shown[world.open_dataset] == [csv_file, v1_file, link]
        assert shown[world.conditional] == [world.conditional_file]
        # A conditional file is listed; its URL is the download endpoint, which asks for a grant.
        conditional = anonymous.action.resource_show(id=world.conditional_file)
        assert httpx.get(conditional["url"].replace(settings.base_url, server)).status_code in (401, 403)
        # Nothing of a draft version, nor of a dataset the public may not see.
        for hidden in (draft_file, not_open_file):
            with pytest.raises(ckanapi.NotFound):
                anonymous.action.resource_show(id=hidden)
        with pytest.raises(ckanapi.NotFound):
            anonymous.action.package_show(id=world.not_open)
    with ckanapi.RemoteCKAN(server, apikey=world.provider.token) as owner:
        package = owner.action.package_show(id=world.open_dataset)
        assert [r["id"] for r in package["resources"]] == [draft_file, csv_file, v1_file, link]
        assert owner.action.resource_show(id=draft_file)["format"] == "JSON"
        assert [r["id"] for r in owner.action.package_show(id=world.not_open)["resources"]] == [not_open_file]
        # Show, edit, update: the files sent back stay files and do not come back as links.
        updated = owner.action.package_update(**{**package, "title": "停车场（修订）"})
        assert [r["id"] for r in updated["resources"]][:3] == [draft_file, csv_file, v1_file]
        assert updated["num_resources"] == 4


def test_ckanapi_dump_of_one_pdr_imports_into_another_with_every_resource(
    client: TestClient,
    world: World,
    server: str,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _three_versions(client, world)
    dump = tmp_path / "dump.jsonl"
    command = Path(sys.executable).with_name("ckanapi")
    # The dump's workers are `ckanapi` processes found on the PATH.
    path = f"{command.parent}{os.pathsep}{os.environ.get('PATH', '')}"
    done = subprocess.run(
        [str(command), "dump", "datasets", "--all", "-r", server, "-O", str(dump), "-p", "1", "-q"],
        env={**os.environ, "PATH": path},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    dumped = {p["name"]: p for p in map(json.loads, dump.read_text(encoding="utf-8").splitlines())}
    assert {p["id"] for p in dumped.values()} == {world.open_dataset, world.conditional}
    urls = {name: sorted(r["url"] for r in p["resources"]) for name, p in dumped.items()}
    assert [len(u) for u in urls.values()] in ([3, 1], [1, 3])  # two files and a link; one file

    # Another pdr, whose entity of the same name publishes what the first one's did.
    publisher_name = client.get(f"/api/v1/entities/{world.provider.entity_id}").json()["name"]
    other = make_engine(DatabaseSettings(database_url=database_url))
    try:
        migrate.upgrade(other)
        with session_scope(other) as session:
            session.add(
                Entity(
                    name=publisher_name, kind="data_source", uscc=new_uscc(700), region_code="440100", status="verified"
                )
            )
            session.commit()
        monkeypatch.setenv("PDR_DATABASE_URL", database_url)
        result = CliRunner().invoke(cli, ["catalog", "import", str(dump), "--no-progress"])
        assert result.exit_code == 0, result.output
        assert "created 2, updated 0, failed 0" in result.output and "2 matched by title" in result.output
        with other.connect() as connection:
            rows = connection.execute(
                text("SELECT d.name, x.url FROM dataset_distribution x JOIN dataset d ON d.id = x.dataset_id")
            ).all()
    finally:
        other.dispose()
    imported: dict[str, list[str]] = {}
    for name, url in rows:
        imported.setdefault(name, []).append(url)
    assert {name: sorted(found) for name, found in imported.items()} == urls
