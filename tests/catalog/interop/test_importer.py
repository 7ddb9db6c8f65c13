"""Bulk import: CKAN JSON lines and DCAT, idempotent by name, errors per record, the `pdr catalog import` command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from catalog.cli import app as cli
from catalog.interop import importer
from catalog.interop.ckan import read as ckan_read
from catalog.interop.org_map import read_org_map
from catalog.interop.records import ImportRecord, RecordError
from catalog.settings import Settings
from registry.models import Entity
from storage.db import session_scope
from tests.support.catalog import SYSTEM, add_entities
from tests.support.data import ckan_package, new_uscc
from tests.support.exchange import dataset_with_file
from tests.support.registry import Provider

TURTLE = """
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

<https://example.org/ds/air> a dcat:Dataset ;
    dct:identifier "air-quality-2024" ;
    dct:title "空气质量监测数据"@zh, "Air quality monitoring"@en ;
    dct:description "全市空气质量监测站小时数据。"@zh ;
    dcat:keyword "空气质量"@zh, "PM2.5" ;
    dcat:theme <https://pdr.example/dcat/themes/public_services> ;
    dct:publisher [ a foaf:Agent ; foaf:name "生态环境局" ; dct:identifier "pub-a" ] ;
    dct:accessRights <http://publications.europa.eu/resource/authority/access-right/RESTRICTED> ;
    dct:accrualPeriodicity <http://publications.europa.eu/resource/authority/frequency/DAILY> ;
    dct:temporal [ a dct:PeriodOfTime ; dcat:startDate "2024-01-01"^^xsd:date ; dcat:endDate "2024-12-31"^^xsd:date ] ;
    dcat:distribution [ a dcat:Distribution ; dcat:accessURL <https://example.org/air.csv> ;
        dct:format <http://publications.europa.eu/resource/authority/file-type/CSV> ] .

<https://example.org/ds/broken> a dcat:Dataset ;
    dct:identifier "broken-one" ;
    dct:description "没有标题。"@zh .
"""


def _write_lines(path: Path, lines: list[Any]) -> Path:
    path.write_text(
        "\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines) + "\n",
        encoding="utf-8",
    )
    return path


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())  # noqa: S608


def test_a_publisher_first_named_in_a_later_batch_is_found(client: TestClient, engine: Engine, tmp_path: Path) -> None:
    # Each batch commits, which gives the session's connection back: the publishers' lookups must not keep the
    # first batch's connection.
    add_entities(engine, ["pub-a", "pub-b", "pub-c"])
    source = _write_lines(
        tmp_path / "dump.jsonl",
        [ckan_package(f"set-{index}", publisher) for index, publisher in enumerate(["pub-a", "pub-b", "pub-c"] * 2)],
    )
    report = importer.import_file(engine, source, caller=SYSTEM, batch_size=1, progress=False)
    assert (report.created, report.failed, report.errors) == (6, 0, [])
    assert _count(engine, "dataset") == 6


def test_ckan_lines_import_with_errors_per_line_and_reimport_updates(
    client: TestClient, engine: Engine, tmp_path: Path
) -> None:
    add_entities(engine, ["pub-a"])
    source = _write_lines(
        tmp_path / "dump.jsonl",
        [
            ckan_package("parking-haizhu", "pub-a"),
            "{not json",
            ckan_package("Bad Name!", "pub-a"),
            ckan_package("unknown-org", "nobody"),
            ckan_package("charging", "pub-a", title="充电桩", resources=[{"url": "ftp://x", "format": "CSV"}]),
            ckan_package("second", "pub-a", title="番禺区停车场", state="draft"),
        ],
    )
    report = importer.import_file(engine, source, caller=SYSTEM, progress=False)
    assert (report.created, report.updated) == (2, 0)
    assert [where for where, _ in report.errors] == ["line 2", "line 3", "line 4", "line 5"]
    messages = dict(report.errors)
    assert "not JSON" in messages["line 2"] and "name" in messages["line 3"]
    assert "nobody" in messages["line 4"] and "http" in messages["line 5"]
    found = client.get("/api/v1/datasets", params={"q": "停车场"}).json()
    assert [i["name"] for i in found["items"]] == ["parking-haizhu"]  # the draft is not public
    item = found["items"][0]
    assert item["title_en"] == "Parking lots in Haizhu" and item["formats"] == ["CSV"]
    assert item["modified_at"] == "2025-03-01T08:00:00Z"

    # Again, changed: the same names update, nothing is duplicated.
    changed = ckan_package("parking-haizhu", "pub-a", title="海珠区停车场（修订）", resources=[])
    again = importer.import_file(
        engine, _write_lines(tmp_path / "again.jsonl", [changed]), caller=SYSTEM, progress=False
    )
    assert (again.created, again.updated, again.failed) == (0, 1, 0)
    assert _count(engine, "dataset") == 2 and _count(engine, "dataset_search") == 2
    assert _count(engine, "dataset_distribution") == 1  # only the draft's link is left
    view = client.get("/api/v1/datasets/parking-haizhu").json()
    assert view["title"] == "海珠区停车场（修订）" and view["formats"] == []


def test_duplicate_names_in_one_file_update_in_order(engine: Engine, tmp_path: Path) -> None:
    add_entities(engine, ["pub-a"])
    lines = [ckan_package("same", "pub-a", title="第一"), ckan_package("same", "pub-a", title="第二")]
    report = importer.import_file(engine, _write_lines(tmp_path / "d.jsonl", lines), caller=SYSTEM, progress=False)
    assert (report.created, report.updated) == (1, 1)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT title FROM dataset")).scalar_one() == "第二"


def test_publisher_option_overrides_organizations(engine: Engine, tmp_path: Path) -> None:
    add_entities(engine, ["pub-b"])
    lines = [ckan_package("a-1", "unknown"), ckan_package("a-2", "")]
    report = importer.import_file(
        engine, _write_lines(tmp_path / "p.jsonl", lines), caller=SYSTEM, publisher="pub-b", progress=False
    )
    assert report.created == 2 and report.errors == []


def test_dcat_turtle_import(client: TestClient, engine: Engine, tmp_path: Path) -> None:
    add_entities(engine, ["pub-a"])
    path = tmp_path / "catalog.ttl"
    path.write_text(TURTLE, encoding="utf-8")
    report = importer.import_file(engine, path, caller=SYSTEM, progress=False)
    assert report.created == 1
    assert report.errors and report.errors[0][0] == "https://example.org/ds/broken"
    view = client.get("/api/v1/datasets/air-quality-2024").json()
    assert view["title"] == "空气质量监测数据" and view["title_en"] == "Air quality monitoring"
    assert view["access"] == "conditional" and view["update_frequency"] == "daily"
    assert view["themes"] == ["public_services"] and view["formats"] == ["CSV"]
    assert view["temporal_end"] == "2024-12-31"


def test_unknown_file_type_is_refused(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "catalog.csv"
    path.write_text("a,b\n", encoding="utf-8")
    with pytest.raises(RecordError):
        importer.import_file(engine, path, caller=SYSTEM, progress=False)


def test_cli_import(engine: Engine, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    add_entities(engine, ["pub-a"])
    monkeypatch.setenv("PDR_DATABASE_URL", settings.db.database_url)
    good = _write_lines(tmp_path / "good.jsonl", [ckan_package(f"cli-{i}", "pub-a") for i in range(3)])
    result = CliRunner().invoke(cli, ["catalog", "import", str(good), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "created 3, updated 0, failed 0" in result.output
    bad = _write_lines(tmp_path / "bad.jsonl", [ckan_package("cli-0", "pub-a"), "[]"])
    result = CliRunner().invoke(cli, ["catalog", "import", str(bad)])
    assert result.exit_code == 1
    assert "created 0, updated 1, failed 1" in result.output


def test_parsing_in_worker_processes_gives_the_same_records_in_order(tmp_path: Path) -> None:
    lines: list[Any] = [ckan_package(f"ds-{i}", "pub-a", title=f"停车场{i}") for i in range(2500)]
    lines[7] = "{not json"
    lines[1800] = ckan_package("Bad Name", "pub-a")
    source = _write_lines(tmp_path / "many.jsonl", lines)
    here = list(ckan_read.read_ckan_lines(source, workers=0))
    there = list(ckan_read.read_ckan_lines(source, workers=2))
    assert [_comparable(r) for r in there] == [_comparable(r) for r in here]
    assert sum(isinstance(r, RecordError) for r in here) == 2


def _comparable(record: ImportRecord | RecordError) -> Any:
    if isinstance(record, RecordError):
        return str(record)
    fields = record.fields.model_dump()
    return (record.where, record.name, fields, record.distributions, record.text, record.modified_at, record.extras)


def test_large_files_are_parsed_by_one_process_a_core(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = _write_lines(tmp_path / "one.jsonl", [ckan_package("one", "pub-a")])
    assert ckan_read.parse_workers(source) == 0
    monkeypatch.setattr(ckan_read, "PARALLEL_FROM_BYTES", 1)
    monkeypatch.setattr(ckan_read.os, "cpu_count", lambda: 4)
    assert ckan_read.parse_workers(source) == 4


def test_a_large_import_refreshes_postgresql_statistics_as_it_grows(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("planner statistics are PostgreSQL's")
    add_entities(engine, ["pub-a"])
    records = (ckan_read.ckan_record(ckan_package(f"ds-{i}", "pub-a"), f"line {i}") for i in range(1200))
    report = importer.import_records(engine, iter(records), caller=SYSTEM, batch_size=500)
    assert report.created == 1200
    with engine.connect() as connection:
        analyzed = connection.execute(
            text(
                "SELECT reltuples FROM pg_class WHERE relname = 'dataset_search' AND relnamespace = "
                "(SELECT oid FROM pg_namespace WHERE nspname = current_schema())"
            )
        ).scalar_one()
    assert analyzed >= 1000  # the planner saw the table after the doubling point, not as empty


def _foreign(name: str, org_name: str, org_title: str, **overrides: object) -> dict[str, Any]:
    """A package of another CKAN portal: its owner_org is that portal's UUID, its organisation a slug and a title."""
    organization = {"id": f"uuid-of-{org_name}", "name": org_name, "title": org_title, "is_organization": True}
    return ckan_package(name, f"uuid-of-{org_name}", organization=organization, **overrides)


def _entity(engine: Engine, name: str, serial: int) -> tuple[str, str]:
    """A verified entity of the given name; its id and USCC."""
    with session_scope(engine) as session:
        entity = Entity(name=name, kind="data_source", uscc=new_uscc(serial), region_code="440100", status="verified")
        session.add(entity)
        session.commit()
        return entity.id, entity.uscc


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


GROUPS = [
    {"name": "intelligent_vehicles", "title": "Vehicles"},
    {"name": "welfare", "title": "公共服务"},
    {"name": "transport", "title": "交通出行"},
    {"name": "long", "title": "长" * 101},
]


def test_foreign_ckan_dump_with_org_map_titles_and_groups_as_keywords(
    engine: Engine, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    environment_id, _ = _entity(engine, "广州市生态环境局", 601)
    traffic_id, traffic_uscc = _entity(engine, "广州市交通运输局", 602)
    source = _write_lines(
        tmp_path / "foreign.jsonl",
        [
            _foreign("air-quality", "sthjj", "广州市生态环境局", groups=GROUPS),  # by title
            _foreign("bus-lines", "jtj", "交通局", groups=[{"name": "transport", "title": "交通出行"}]),  # mapped
            _foreign("metro", "gzmtr", "广州地铁"),  # mapped by its title
            _foreign("weather", "qxj", "气象局"),  # unknown
            _foreign("rain", "qxj", "气象局"),  # unknown
        ],
    )
    org_map = tmp_path / "orgs.csv"
    org_map.write_text(f"organization,entity\n# the traffic bureau\njtj,{traffic_uscc}\n广州地铁,{traffic_id}\n")
    monkeypatch.setenv("PDR_DATABASE_URL", settings.db.database_url)
    result = CliRunner().invoke(cli, ["catalog", "import", str(source), "--org-map", str(org_map), "--no-progress"])
    assert result.exit_code == 1, result.output  # the unknown organisation's records failed
    assert "created 3, updated 0, failed 2" in result.output
    assert "2 records mapped by --org-map, 1 matched by title, 2 dropped for 1 unknown organizations" in result.output
    assert "unknown 'qxj' (气象局): 2 records" in result.output
    assert "groups: 3 taken as themes, 2 kept as keywords, 1 dropped" in result.output
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT name, entity_id, keywords, themes FROM dataset ORDER BY name")).all()
    # SQLite gives JSON columns back as text to a plain SELECT, PostgreSQL as lists.
    found = {name: (entity_id, *(_json(keywords), _json(themes))) for name, entity_id, keywords, themes in rows}
    assert found["air-quality"][0] == environment_id
    assert found["air-quality"][1] == ["停车场", "交通", "交通出行"]
    assert found["air-quality"][2] == ["intelligent_vehicles", "public_services"]
    assert found["bus-lines"][0] == found["metro"][0] == traffic_id
    assert "交通出行" in found["bus-lines"][1]


def test_org_map_in_json_and_an_entry_naming_no_entity(engine: Engine, tmp_path: Path) -> None:
    entity_id, _ = _entity(engine, "广州市交通运输局", 603)
    source = _write_lines(tmp_path / "d.jsonl", [_foreign("bus", "JTJ", "交通局")])
    good = tmp_path / "orgs.json"
    good.write_text(json.dumps({" jtj ": entity_id}), encoding="utf-8")  # compared without case and spaces
    report = importer.import_file(engine, source, caller=SYSTEM, org_map=read_org_map(good), progress=False)
    assert (report.created, report.mapped, report.errors) == (1, 1, [])
    unknown_target = tmp_path / "bad.json"
    unknown_target.write_text(json.dumps({"jtj": "91440100MA59XXXXXX"}), encoding="utf-8")
    with pytest.raises(RecordError, match="91440100MA59XXXXXX"):
        importer.import_file(engine, source, caller=SYSTEM, org_map=read_org_map(unknown_target), progress=False)
    assert _count(engine, "dataset") == 1  # the refused run wrote nothing


def test_an_entity_name_several_entities_share_matches_none(engine: Engine, tmp_path: Path) -> None:
    _entity(engine, "区数据局", 604)
    _entity(engine, "区数据局", 605)
    source = _write_lines(tmp_path / "d.jsonl", [_foreign("shared", "qsjj", "区数据局")])
    report = importer.import_file(engine, source, caller=SYSTEM, progress=False)
    assert report.created == 0 and "--org-map" in report.errors[0][1]


def test_a_dump_imported_back_keeps_files_as_files(
    client: TestClient, engine: Engine, provider: Provider, tmp_path: Path
) -> None:
    dataset_id, file_id = dataset_with_file(client, provider, "unconditional")
    package = client.get("/api/3/action/package_show", params={"id": dataset_id}).json()["result"]
    assert [r["id"] for r in package["resources"]] == [file_id]
    changed = {**package, "title": "充电桩（修订）"}
    report = importer.import_file(engine, _write_lines(tmp_path / "d.jsonl", [changed]), caller=SYSTEM, progress=False)
    assert (report.updated, report.errors) == (1, [])
    assert _count(engine, "dataset_distribution") == 0
    again = client.get("/api/3/action/package_show", params={"id": dataset_id}).json()["result"]
    assert again["title"] == "充电桩（修订）" and [r["id"] for r in again["resources"]] == [file_id]
