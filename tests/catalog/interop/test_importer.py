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
from catalog.interop.records import ImportRecord, RecordError
from catalog.settings import Settings
from tests.support.catalog import SYSTEM, add_entities
from tests.support.data import ckan_package

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


def test_large_files_are_parsed_by_all_but_one_core(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = _write_lines(tmp_path / "one.jsonl", [ckan_package("one", "pub-a")])
    assert ckan_read.parse_workers(source) == 0
    monkeypatch.setattr(ckan_read, "PARALLEL_FROM_BYTES", 1)
    monkeypatch.setattr(ckan_read.os, "cpu_count", lambda: 4)
    assert ckan_read.parse_workers(source) == 3


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
