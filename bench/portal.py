"""The portal's main pages: screenshots in Chinese for docs/screenshots/, and each page's weight. Prints JSON.

    .venv/bin/python bench/portal.py [--out docs/screenshots]

Runs `pdr serve` on 127.0.0.1 (embedded SQLite and file store, in a temporary folder), fills it with a few
publishers and datasets over the API, then opens the home page, a search and a dataset page in Debian's chromium
(Playwright, headless, zh-CN) and saves a full-page PNG of each. The weight of a page is the bytes of every
response the browser loaded for it, by kind (document, stylesheet, script, other).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import httpx
from support import ROOT, start_embedded, token, uscc

PUBLISHERS = [
    ("广州市天河区交通运输局", "Tianhe District Transport Bureau"),
    ("广州市公共交通集团有限公司", "Guangzhou Public Transport Group"),
    ("广州市越秀区数据中心", "Yuexiu District Data Centre"),
]
# (publisher, title, English title, description, themes, keywords, file name)
DATASETS = [
    (
        0,
        "天河区公共充电桩分布数据",
        "Public charging piles in Tianhe",
        "天河区公共充电桩的位置、功率与运营单位，按月更新。",
        ["intelligent_vehicles"],
        ["充电桩", "新能源汽车"],
        "充电桩.csv",
    ),
    (
        0,
        "天河区充电桩使用时长统计",
        "Charging pile usage hours in Tianhe",
        "各充电站每日累计使用时长与充电量。",
        ["intelligent_vehicles", "public_services"],
        ["充电桩", "能源"],
        "使用时长.csv",
    ),
    (
        1,
        "广州市公交站点客流统计",
        "Passenger counts at Guangzhou bus stops",
        "全市公交站点的日均客流量，按站点与线路汇总。",
        ["public_services"],
        ["公交", "客流"],
        "客流.csv",
    ),
    (
        1,
        "广州市新能源公交车充电站点",
        "Charging stations of Guangzhou's electric buses",
        "新能源公交车专用充电站点与充电桩数量。",
        ["intelligent_vehicles"],
        ["充电桩", "公交"],
        "公交充电站.csv",
    ),
    (
        2,
        "越秀区停车场泊位信息",
        "Parking spaces in Yuexiu",
        "越秀区公共停车场的位置与泊位数。",
        ["public_services"],
        ["停车场"],
        "泊位.csv",
    ),
    (
        2,
        "越秀区低空飞行器起降点",
        "Drone take-off and landing sites in Yuexiu",
        "低空经济试点区域内的起降点位置与开放时段。",
        ["low_altitude_aerospace"],
        ["低空经济", "无人机"],
        "起降点.csv",
    ),
]
CSV = "站点编号,名称,经度,纬度,功率kW\nTH001,天河体育中心,113.3245,23.1371,120\nTH002,珠江新城,113.3219,23.1196,60\n"


def _token(env: dict[str, str], name: str, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(env, name, role)}"}


def _ok(response: httpx.Response) -> Any:
    response.raise_for_status()
    return response.json()


def fill(env: dict[str, str], base: str) -> str:
    """Publishers, datasets with a file each, and a few downloads; returns the first dataset's id."""
    operator = _token(env, "portal-operator", "operator")
    providers = []
    for serial, (name, name_en) in enumerate(PUBLISHERS, start=1):
        auth = _token(env, f"portal-provider-{serial}", "provider")
        body = {"name": name, "name_en": name_en, "kind": "data_source", "uscc": uscc(900 + serial)}
        entity = _ok(httpx.post(f"{base}/api/v1/entities", headers=auth, json=body))
        _ok(httpx.post(f"{base}/api/v1/entities/{entity['id']}/verify", headers=operator))
        providers.append(auth)
    ids = []
    for who, title, title_en, description, themes, keywords, file_name in DATASETS:
        auth = providers[who]
        body = {
            "title": title,
            "title_en": title_en,
            "description": description,
            "themes": themes,
            "keywords": keywords,
            "licence": "cc-by-4.0",
            "update_frequency": "monthly",
            "spatial": "广州市",
        }
        dataset = _ok(httpx.post(f"{base}/api/v1/datasets", headers=auth, json=body))
        files = f"{base}/api/v1/datasets/{dataset['id']}/files"
        sent = httpx.post(
            files, params={"name": file_name}, content=CSV.encode(), headers={**auth, "Content-Type": "text/csv"}
        )
        _ok(sent)
        _ok(httpx.post(f"{base}/api/v1/datasets/{dataset['id']}/publish", headers=auth))
        ids.append(dataset["id"])
        for _ in range(len(ids) % 3):
            httpx.get(f"{files}/{sent.json()['id']}/content").raise_for_status()
    return ids[0]


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


def weigh_and_shoot(base: str, pages: dict[str, str], out: Path, work: Path) -> dict[str, dict[str, int]]:
    """Each page's bytes by kind, with a full-page screenshot of it saved as out/NAME.png."""
    from playwright.sync_api import sync_playwright

    weights: dict[str, dict[str, int]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox"], env=_fonts(work)
        )
        for name, path in pages.items():
            context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
            page = context.new_page()
            sizes = {"document": 0, "stylesheet": 0, "script": 0, "other": 0, "requests": 0}

            def count(response: Any, sizes: dict[str, int] = sizes) -> None:
                kind = response.request.resource_type
                sizes[kind if kind in sizes else "other"] += len(response.body()) if response.status != 304 else 0
                sizes["requests"] += 1

            page.on("response", count)
            page.goto(f"{base}{path}", wait_until="load")
            page.screenshot(path=str(out / f"{name}.png"), full_page=True)
            weights[name] = sizes
            context.close()
        browser.close()
    return weights


def main() -> None:
    """Start, fill, shoot, print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        server, env, base = start_embedded(Path(folder))
        try:
            first = fill(env, base)
            pages = {"home": "/", "search": "/search?q=充电桩", "dataset": f"/datasets/{first}"}
            weights = weigh_and_shoot(base, pages, args.out, Path(folder))
        finally:
            server.terminate()
            server.wait()
    print(json.dumps({"pages": weights, "screenshots": str(args.out)}, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
