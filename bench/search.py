# ruff: noqa: E501 - the vocabulary tables read best one entry a line, and CJK counts double in line width.
"""Catalog search benchmark: generate bilingual datasets, import them, search on SQLite and PostgreSQL, and
serve the same rows with datasette (FTS5 trigram) as a peer. Prints JSON.

    .venv/bin/python bench/search.py                       # quick: 20,000 datasets, SQLite + datasette
    .venv/bin/python bench/search.py --n 1000000 --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

The generated catalog (``var/bench/catalog-N.jsonl``) and the loaded databases are kept and reused, so a long
run can be resumed: a database that finished loading is not loaded again (delete it to measure the import).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from support import ROOT, free_port

from auth.caller import Caller
from auth.roles import Role
from catalog.datasets.query import search_datasets
from catalog.interop import importer
from catalog.search import shared_words
from catalog.search.mirror import drop_mirror
from catalog.search.query import SearchQuery
from catalog.search.tokens import warm_up
from registry.models import Entity
from storage import migrate
from storage.db import DatabaseSettings, make_engine, session_scope

DISTRICTS = [
    ("越秀区", "Yuexiu"), ("海珠区", "Haizhu"), ("荔湾区", "Liwan"), ("天河区", "Tianhe"), ("白云区", "Baiyun"),
    ("黄埔区", "Huangpu"), ("番禺区", "Panyu"), ("花都区", "Huadu"), ("南沙区", "Nansha"), ("从化区", "Conghua"),
    ("增城区", "Zengcheng"),
]  # fmt: skip
DEPARTMENTS = [
    ("交通运输局", "Transport Bureau"), ("卫生健康委员会", "Health Commission"), ("教育局", "Education Bureau"),
    ("规划和自然资源局", "Planning and Natural Resources Bureau"), ("生态环境局", "Ecology and Environment Bureau"),
    ("市场监督管理局", "Market Regulation Administration"), ("住房和城乡建设局", "Housing and Construction Bureau"),
    ("民政局", "Civil Affairs Bureau"), ("人力资源和社会保障局", "Human Resources and Social Security Bureau"),
    ("文化广电旅游局", "Culture, Radio, TV and Tourism Bureau"), ("水务局", "Water Authority"),
    ("统计局", "Statistics Bureau"), ("商务局", "Commerce Bureau"), ("工业和信息化局", "Industry and IT Bureau"),
    ("城市管理和综合执法局", "Urban Management Bureau"), ("科学技术局", "Science and Technology Bureau"),
]  # fmt: skip
# Chinese subject, English subject, theme, keywords, fields described.
SUBJECTS = [
    ("公共充电桩", "public charging piles", "intelligent_vehicles", ["充电桩", "新能源汽车", "充电站"], "位置、功率、运营单位"),
    ("停车场", "parking lots", "intelligent_vehicles", ["停车场", "停车位", "智慧停车"], "车位数、收费标准、开放时间"),
    ("公交站点", "bus stops", "public_services", ["公交", "站点", "线路"], "站点名称、经纬度、途经线路"),
    ("地铁客流", "metro ridership", "public_services", ["地铁", "客流", "轨道交通"], "站点进出站人次、时段"),
    ("医疗机构", "medical institutions", "biomedicine_health", ["医院", "诊所", "医疗"], "机构名称、等级、床位数"),
    ("药店", "pharmacies", "biomedicine_health", ["药店", "药品", "零售"], "名称、地址、许可证号"),
    ("中小学校", "primary and secondary schools", "public_services", ["学校", "教育", "学位"], "学校名称、学位数"),
    ("幼儿园", "kindergartens", "public_services", ["幼儿园", "学前教育"], "园所名称、班级数、收费"),
    ("空气质量监测", "air quality monitoring", "public_services", ["空气质量", "PM2.5", "监测站"], "监测点、污染物浓度"),
    ("水质监测", "water quality monitoring", "public_services", ["水质", "河涌", "监测"], "断面、溶解氧、氨氮"),
    ("企业登记", "business registrations", "modern_commerce", ["企业", "登记", "市场主体"], "企业名称、统一社会信用代码"),
    ("食品经营许可", "food business licences", "fashion_consumer", ["食品", "许可证", "餐饮"], "经营者、许可范围、有效期"),
    ("建筑工地", "construction sites", "intelligent_construction", ["工地", "施工", "扬尘"], "项目名称、施工单位、工期"),
    ("道路交通事故", "road traffic accidents", "intelligent_vehicles", ["交通事故", "道路安全"], "时间、地点、伤亡"),
    ("旅游景点", "tourist attractions", "cultural_creative", ["景点", "旅游", "A级景区"], "景点名称、等级、票价"),
    ("文化场馆", "cultural venues", "cultural_creative", ["博物馆", "图书馆", "文化馆"], "场馆名称、开放时间"),
    ("养老机构", "elderly care homes", "public_services", ["养老", "长者", "护理"], "机构名称、床位、收费"),
    ("招聘岗位", "job vacancies", "professional_services", ["就业", "招聘", "岗位"], "岗位、薪资、学历要求"),
    ("社保参保", "social insurance enrolment", "public_services", ["社保", "参保", "养老保险"], "参保人数、险种"),
    ("降雨量", "rainfall", "public_services", ["降雨", "气象", "雨量站"], "站点、小时雨量"),
    ("低空飞行航线", "low-altitude flight routes", "low_altitude_aerospace", ["低空经济", "航线", "飞行"], "航线、高度"),
    ("无人机起降点", "drone take-off and landing sites", "unmanned_systems", ["无人机", "起降点", "低空"], "位置、容量"),
    ("5G基站", "5G base stations", "future_networks_quantum", ["5G", "基站", "通信"], "基站位置、运营商"),
    ("人工智能企业", "artificial intelligence companies", "artificial_intelligence", ["人工智能", "AI", "算法"], "企业、领域"),
    ("机器人产业园", "robotics industrial parks", "equipment_robotics", ["机器人", "产业园", "智能装备"], "园区、企业数"),
    ("新材料企业", "advanced materials companies", "advanced_materials", ["新材料", "企业", "研发"], "企业、产品"),
    ("银行网点", "bank branches", "modern_finance", ["银行", "网点", "金融服务"], "网点名称、营业时间"),
    ("批发市场", "wholesale markets", "modern_commerce", ["批发市场", "商贸", "专业市场"], "市场名称、经营品类"),
    ("专利授权", "patent grants", "professional_services", ["专利", "知识产权", "授权"], "专利号、权利人"),
    ("软件企业", "software companies", "software_internet", ["软件", "互联网", "信息技术"], "企业、营收"),
    ("具身智能实验室", "embodied intelligence labs", "embodied_intelligence", ["具身智能", "实验室"], "实验室、方向"),
    ("体育场馆", "sports venues", "public_services", ["体育", "场馆", "健身"], "场馆、开放时间"),
    ("公共厕所", "public toilets", "public_services", ["公厕", "环卫"], "位置、开放时间"),
    ("垃圾分类收集点", "waste sorting points", "public_services", ["垃圾分类", "环卫", "回收"], "位置、类别"),
    ("城市绿地", "urban green spaces", "public_services", ["绿地", "公园", "绿化"], "面积、位置"),
    ("消防栓", "fire hydrants", "public_services", ["消防", "消火栓", "应急"], "位置、口径"),
]  # fmt: skip
SUFFIXES = [
    ("分布数据", "distribution"), ("信息", "information"), ("统计", "statistics"), ("名录", "directory"),
    ("监测数据", "monitoring data"), ("年度报告", "annual report"), ("实时数据", "real-time data"),
]  # fmt: skip
FORMATS = ["CSV", "XLSX", "JSON", "API", "XML", "PDF", "SHP", "GEOJSON"]
LICENCES = ["cc-by-4.0", "gz-open-data", "odc-odbl"]
FREQUENCIES = ["daily", "weekly", "monthly", "quarterly", "annual", "irreg"]
EXTRA = [
    "数据经脱敏处理，可用于城市规划与产业研究。",
    "更新后将同步至广州市公共数据开放平台。",
    "字段说明见附件，坐标系为 CGCS2000。",
    "Data are provided under the city's open data programme.",
    "本数据与交通、环境等主题数据关联使用效果更佳。",
    "Records before 2018 were digitised from paper archives.",
]

QUERIES: list[tuple[str, dict[str, Any]]] = [
    ("数据", {}),  # broad zh
    ("天河区", {}),  # broad zh (a district)
    ("监测", {}),  # broad zh
    ("充电桩", {}),  # narrow zh
    ("天河区 充电桩", {}),  # two words
    ("番禺区停车场", {}),  # no space
    ("停车", {}),  # a two-character word
    ("空气质量", {"year_from": 2018, "year_to": 2020}),  # narrow zh with a year range
    ("无人机起降点", {}),
    ("data", {}),  # broad en
    ("parking", {}),  # word forms
    ("charging piles", {}),
    ("air quality", {"themes": ["public_services"]}),
    ("Tianhe parking", {}),
    ("Tianhe 充电桩", {}),  # mixed
    ("", {"themes": ["intelligent_vehicles"]}),  # filters only
]
FACETS = ["theme", "publisher", "format", "access", "year"]


def uscc(serial: int) -> str:
    """A valid unified social credit code."""
    charset = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    first = f"11440100{serial:09d}"
    total = sum(charset.index(c) * pow(3, i, 31) for i, c in enumerate(first))
    return first + charset[(31 - total % 31) % 31]


def publishers() -> list[tuple[str, str, str]]:
    """Entity id, Chinese name and English name of every publisher."""
    found = []
    for i, (dept, dept_en) in enumerate(DEPARTMENTS):
        found.append((f"bench-{i:04d}", f"广州市{dept}", f"Guangzhou {dept_en}"))
    for j, (district, district_en) in enumerate(DISTRICTS):
        for i, (dept, dept_en) in enumerate(DEPARTMENTS):
            found.append((f"bench-{(j + 1) * 100 + i:04d}", f"广州市{district}{dept}", f"{district_en} {dept_en}"))
    return found


def generate(path: Path, n: int, seed: int = 7) -> None:
    """Write n CKAN package dicts as JSON lines."""
    rng = random.Random(seed)
    pubs = publishers()
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        for i in range(n):
            district, district_en = rng.choice(DISTRICTS)
            subject, subject_en, theme, keywords, fields = rng.choice(SUBJECTS)
            suffix, suffix_en = rng.choice(SUFFIXES)
            start = rng.randint(2010, 2024)
            end = min(2026, start + rng.randint(0, 5))
            year_in_title = f"{start}年" if rng.random() < 0.3 else ""
            publisher = rng.choice(pubs)
            other = rng.choice(SUBJECTS)
            description = (
                f"本数据集收录{district}{subject}的{fields}等信息，由{publisher[1]}提供。"
                f"It covers {subject_en} in {district_en} District, Guangzhou, from {start} to {end}. "
                f"可与{other[0]}数据结合分析。{rng.choice(EXTRA)}"
            )
            access = rng.choices(["unconditional", "conditional", "not_open"], weights=[70, 25, 5])[0]
            formats = rng.sample(FORMATS, rng.randint(1, 3))
            package = {
                "name": f"gz-{i:07d}",
                "title": f"{district}{year_in_title}{subject}{suffix}",
                "notes": description,
                "tags": [{"name": k} for k in [*rng.sample(keywords, min(2, len(keywords))), district]],
                "groups": [{"name": theme}],
                "owner_org": publisher[0],
                "license_id": rng.choice(LICENCES),
                "metadata_created": f"{end}-01-15T08:00:00",
                "metadata_modified": datetime(2025, 1, 1, tzinfo=UTC)
                .replace(day=1 + i % 28, hour=i % 24, minute=i % 60, second=i % 59)
                .isoformat(),
                "state": "active",
                "resources": [
                    {"url": f"https://data.example.gov.cn/{i}/{j}.{f.lower()}", "format": f, "name": f"{subject}{f}"}
                    for j, f in enumerate(formats)
                ],
                "extras": [
                    {"key": "title_en", "value": f"{subject_en.capitalize()} in {district_en} ({suffix_en})"},
                    {"key": "access", "value": access},
                    {"key": "temporal_start", "value": f"{start}-01-01"},
                    {"key": "temporal_end", "value": f"{end}-12-31"},
                    {"key": "spatial_text", "value": f"广州市{district}"},
                    {"key": "frequency", "value": rng.choice(FREQUENCIES)},
                ],
            }
            out.write(json.dumps(package, ensure_ascii=False) + "\n")
    tmp.replace(path)


def prepare(engine: Engine) -> int:
    """Migrate and create the publishers (once); how many datasets the catalog holds."""
    migrate.upgrade(engine)
    with session_scope(engine) as session:
        if session.get(Entity, "bench-0000") is None:
            for serial, (entity_id, name, name_en) in enumerate(publishers()):
                session.add(
                    Entity(
                        id=entity_id, name=name, name_en=name_en, kind="data_source", uscc=uscc(serial),
                        region_code="440100", status="verified",
                    )
                )  # fmt: skip
            session.commit()
        return int(session.connection().execute(text("SELECT count(*) FROM dataset")).scalar_one())


def load(engine: Engine, source: Path, label: str) -> dict[str, Any]:
    """Migrate, create the publishers, import the catalog through the import path; report the rate."""
    loaded = prepare(engine)
    total = sum(1 for _ in source.open("rb"))
    if loaded >= total:
        return {"engine": label, "datasets": int(loaded), "import": "reused (already loaded)"}
    started = time.perf_counter()
    # The path `pdr catalog import` takes.
    report = importer.import_file(
        engine, source, caller=Caller(name="bench", role=Role.admin), batch_size=1000, progress=False
    )
    seconds = time.perf_counter() - started
    if label == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    return {
        "engine": label,
        "datasets": report.created + report.updated,
        "failed": report.failed,
        "import_seconds": round(seconds, 1),
        "import_per_second": round((report.created + report.updated) / seconds),
    }


def percentile(values: list[float], fraction: float) -> float:
    """The value below which the given fraction of values fall."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def summary(latencies: list[float]) -> dict[str, float]:
    """p50, p99, mean and max in milliseconds."""
    return {
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1),
    }


def mix_query(q: str, filters: dict[str, Any]) -> SearchQuery:
    """One query of the mix as the search use case takes it: five facets, a page of 20."""
    return SearchQuery(q=q or None, facets=FACETS, limit=20, **filters)


def run_pdr(engine: Engine, rounds: int) -> dict[str, Any]:
    """The query mix through the search use case (search, five facets, a page of 20 views).

    A process first builds its mirror of the search rows (timed on its own). Then each query runs once with
    none of its words held yet and none stored by another process (``first_use``: the words' documents are asked
    of the full-text index, and stored for the others). A second process (a new mirror) then builds its mirror and
    runs each query once more (``first_use_shared``: the words' documents read as the first process stored them).
    Then ``rounds`` more times in the steady state, where every word of the mix is held and each search is
    evaluated from scratch over the mirror (there is no cache of answers).
    """
    caller = Caller(name="bench")
    warm_up()
    with session_scope(engine) as session:
        session.connection().execute(text("DELETE FROM search_word_set"))  # left by an earlier run
        session.commit()
    counts: dict[str, int] = {}

    def timed(q: str, filters: dict[str, Any]) -> tuple[float, int]:
        with session_scope(engine, write=False) as session:
            query = mix_query(q, filters)
            started = time.perf_counter()
            page = search_datasets(session, caller, query)
            return time.perf_counter() - started, page.count

    def new_process() -> tuple[float, dict[str, float]]:
        """A new mirror's build, then each query's first use."""
        drop_mirror(engine)
        build, _ = timed("", {"themes": ["public_services"], "year_from": 3000})
        first_use: dict[str, float] = {}
        for q, filters in QUERIES:
            first_use[q or str(filters)], counts[q or str(filters)] = timed(q, filters)
        return build, first_use

    build, first_use = new_process()
    shared_words.wait_stored()
    _, first_use_shared = new_process()
    steady: dict[str, list[float]] = {}
    for _ in range(rounds):
        for q, filters in QUERIES:
            steady.setdefault(q or str(filters), []).append(timed(q, filters)[0])
    every = [t for values in steady.values() for t in values]
    return {
        "mirror_build_seconds": round(build, 2),
        "first_use": summary(list(first_use.values())),
        "first_use_shared": summary(list(first_use_shared.values())),
        "steady": {**summary(every), "searches": len(every)},
        "per_query_first_use_ms": {k: round(v * 1000, 1) for k, v in first_use.items()},
        "per_query_first_use_shared_ms": {k: round(v * 1000, 1) for k, v in first_use_shared.items()},
        "per_query_steady_p50_ms": {k: round(percentile(v, 0.5) * 1000, 1) for k, v in steady.items()},
        "counts": counts,
    }


def database_time(engine: Engine, rounds: int) -> dict[str, float]:
    """The steady searches' time in the database per search: each statement timed around the driver's call.

    A separate set of rounds, so that the timing events add nothing to the latencies of ``run_pdr``.
    """
    caller, spent, started = Caller(name="bench"), [], {}

    def before(connection: Any, *_: Any) -> None:
        started[id(connection)] = time.perf_counter()

    def after(connection: Any, *_: Any) -> None:
        spent[-1] += time.perf_counter() - started.pop(id(connection))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        for _ in range(rounds):
            for q, filters in QUERIES:
                spent.append(0.0)
                with session_scope(engine, write=False) as session:
                    search_datasets(session, caller, mix_query(q, filters))
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    return {"p50_ms": round(percentile(spent, 0.5) * 1000, 2), "mean_ms": round(statistics.fmean(spent) * 1000, 2)}


def datasette_db(source: Path, path: Path) -> None:
    """The same rows in a plain SQLite table with an FTS5 trigram index, as datasette users would build it."""
    if path.exists():
        return
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    db = sqlite3.connect(tmp)
    db.execute(
        "CREATE TABLE datasets (id INTEGER PRIMARY KEY, name TEXT, title TEXT, title_en TEXT, description TEXT, "
        "keywords TEXT, themes TEXT, publisher TEXT, formats TEXT, access TEXT, year_start INTEGER, year_end INTEGER)"
    )
    rows = []
    with source.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            p = json.loads(line)
            extras = {e["key"]: e["value"] for e in p["extras"]}
            if extras["access"] == "not_open":
                continue  # the public rows only, as the catalog shows them to anyone
            rows.append(
                (
                    number, p["name"], p["title"], extras["title_en"], p["notes"],
                    " ".join(t["name"] for t in p["tags"]), json.dumps([g["name"] for g in p["groups"]]),
                    p["owner_org"], json.dumps(sorted({r["format"] for r in p["resources"]})), extras["access"],
                    int(extras["temporal_start"][:4]), int(extras["temporal_end"][:4]),
                )
            )  # fmt: skip
            if len(rows) >= 10_000:
                db.executemany("INSERT INTO datasets VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
                rows.clear()
    db.executemany("INSERT INTO datasets VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    db.execute(
        "CREATE VIRTUAL TABLE datasets_fts USING fts5(title, title_en, keywords, description, "
        "content='datasets', content_rowid='id', tokenize='trigram')"
    )
    db.execute("INSERT INTO datasets_fts (datasets_fts) VALUES ('rebuild')")
    for column in ("publisher", "access", "year_start"):
        db.execute(f"CREATE INDEX ix_{column} ON datasets ({column})")
    db.commit()
    db.close()
    tmp.replace(path)


def run_datasette(path: Path, rounds: int) -> dict[str, Any]:
    """Start datasette on 127.0.0.1 and run the equivalent searches with the same five facets."""
    import httpx

    port = free_port()
    binary = Path(sys.executable).with_name("datasette")
    settings = [
        "--setting", "sql_time_limit_ms", "60000", "--setting", "facet_time_limit_ms", "60000",
        "--setting", "default_page_size", "20", "--setting", "num_sql_threads", "2",
    ]  # fmt: skip
    # Tell datasette which FTS table serves `_search` (its detection wants content="datasets" spelt its way).
    metadata = path.with_suffix(".metadata.json")
    metadata.write_text(
        json.dumps({"databases": {path.stem: {"tables": {"datasets": {"fts_table": "datasets_fts", "fts_pk": "id"}}}}})
    )
    process = subprocess.Popen(
        [str(binary), "serve", str(path), "--host", "127.0.0.1", "--port", str(port), "--immutable", str(path),
         "--metadata", str(metadata), *settings],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}/{path.stem}/datasets.json"
    latencies: list[float] = []
    counts: dict[str, int] = {}
    try:
        with httpx.Client(timeout=120) as client:
            for _ in range(100):
                try:
                    client.get(f"http://127.0.0.1:{port}/-/versions.json")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            for round_no in range(rounds + 1):
                for q, filters in QUERIES:
                    params: list[tuple[str, str]] = [
                        ("_facet", "publisher"), ("_facet", "access"), ("_facet", "year_start"),
                        ("_facet_array", "themes"), ("_facet_array", "formats"), ("_size", "20"),
                    ]  # fmt: skip
                    if q:
                        params.append(("_search", q))
                    if "year_from" in filters:
                        params += [
                            ("year_end__gte", str(filters["year_from"])),
                            ("year_start__lte", str(filters["year_to"])),
                        ]
                    for theme in filters.get("themes", []):
                        params.append(("themes__arraycontains", theme))
                    started = time.perf_counter()
                    response = client.get(base, params=params)
                    elapsed = time.perf_counter() - started
                    response.raise_for_status()
                    if round_no == 0:
                        counts[q or str(filters)] = int(response.json().get("filtered_table_rows_count") or 0)
                        continue
                    latencies.append(elapsed)
    finally:
        process.terminate()
        process.wait(timeout=30)
    return {**summary(latencies), "searches": len(latencies), "counts": counts}


def postgres_engine(url: str, n: int) -> Engine:
    """An engine on a schema of its own (bench_N), created if missing."""
    schema = f"bench_{n}"
    admin = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    admin.dispose()
    parsed = make_url(url)
    scoped = parsed.set(query={**dict(parsed.query), "options": f"-csearch_path={schema}"})
    return make_engine(DatabaseSettings(database_url=scoped.render_as_string(hide_password=False)))


def main() -> None:
    """Run the benchmark and print its figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20_000, help="datasets to generate (default 20000)")
    parser.add_argument("--data", type=Path, default=ROOT / "var" / "bench", help="where files and databases live")
    parser.add_argument("--postgres", help="PostgreSQL URL; a schema bench_N is used")
    parser.add_argument("--rounds", type=int, default=5, help="measured rounds of the query mix")
    parser.add_argument(
        "--database-time", action="store_true", help="then time the steady searches' statements in the database"
    )
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-datasette", action="store_true")
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    source = args.data / f"catalog-{args.n}.jsonl"
    result: dict[str, Any] = {"n": args.n, "cpus": os.cpu_count(), "queries": [q or str(f) for q, f in QUERIES]}
    started = time.perf_counter()
    if not source.exists():
        generate(source, args.n)
    result["generate_seconds"] = round(time.perf_counter() - started, 1)
    engines: list[tuple[str, Callable[[], Engine]]] = []
    if not args.no_sqlite:
        db = args.data / f"pdr-{args.n}.db"
        engines.append(("sqlite", lambda: make_engine(DatabaseSettings(database_url=f"sqlite:///{db}"))))
    if args.postgres:
        engines.append(("postgresql", lambda: postgres_engine(args.postgres, args.n)))
    for label, factory in engines:
        engine = factory()
        result[label] = {"load": load(engine, source, label)}
        result[label]["search"] = run_pdr(engine, args.rounds)
        if args.database_time:
            result[label]["search"]["steady_database_time"] = database_time(engine, args.rounds)
        engine.dispose()
    if not args.no_datasette:
        peer = args.data / f"datasette_public_{args.n}.db"
        started = time.perf_counter()
        datasette_db(source, peer)
        result["datasette"] = {"build_seconds": round(time.perf_counter() - started, 1)}
        result["datasette"]["search"] = run_datasette(peer, args.rounds)
        for label, _ in engines:
            ours, theirs = result[label]["search"]["steady"], result["datasette"]["search"]
            result[f"ratio_datasette_over_{label}"] = {
                "p50": round(theirs["p50_ms"] / max(ours["p50_ms"], 0.01), 2),
                "p99": round(theirs["p99_ms"] / max(ours["p99_ms"], 0.01), 2),
            }
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
