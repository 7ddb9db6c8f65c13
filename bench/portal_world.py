"""What bench/portal.py shows, filled over the HTTP API: accounts with passwords, publishers, datasets with files,
access requests and a grant, downloads, registrations at each step, and a certificate.

Registering takes a public notice of working days, and the service reads the wall clock, so the registered subjects
are made first by a pdr started with `PDR_NOTICE_WORKING_DAYS=0` (no notice: passing the review registers), and the
rest by a pdr with the default settings on the same database (`World.registered`, then `World.fill`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
from support import token, uscc

CHINA = timezone(timedelta(hours=8))
PASSWORD = "portal-bench-password"  # noqa: S105 (a throw-away pdr in a temporary folder)
OPERATOR, CONSUMER = "portal-operator", "portal-consumer"
PUBLISHERS = [
    ("广州市天河区交通运输局", "Tianhe District Transport Bureau"),
    ("广州市公共交通集团有限公司", "Guangzhou Public Transport Group"),
    ("广州市越秀区数据中心", "Yuexiu District Data Centre"),
]
# (publisher, title, English title, description, themes, keywords, file name, access)
DATASETS = [
    (
        0,
        "天河区公共充电桩分布数据",
        "Public charging piles in Tianhe",
        "天河区公共充电桩的位置、功率与运营单位，按月更新。",
        ["intelligent_vehicles"],
        ["充电桩", "新能源汽车"],
        "充电桩.csv",
        "unconditional",
    ),
    (
        0,
        "天河区充电桩使用时长统计",
        "Charging pile usage hours in Tianhe",
        "各充电站每日累计使用时长与充电量。",
        ["intelligent_vehicles", "public_services"],
        ["充电桩", "能源"],
        "使用时长.csv",
        "unconditional",
    ),
    (
        1,
        "广州市公交站点客流统计",
        "Passenger counts at Guangzhou bus stops",
        "全市公交站点的日均客流量，按站点与线路汇总。",
        ["public_services"],
        ["公交", "客流"],
        "客流.csv",
        "unconditional",
    ),
    (
        1,
        "广州市新能源公交车充电站点",
        "Charging stations of Guangzhou's electric buses",
        "新能源公交车专用充电站点与充电桩数量。",
        ["intelligent_vehicles"],
        ["充电桩", "公交"],
        "公交充电站.csv",
        "unconditional",
    ),
    (
        2,
        "越秀区停车场泊位信息",
        "Parking spaces in Yuexiu",
        "越秀区公共停车场的位置与泊位数。",
        ["public_services"],
        ["停车场"],
        "泊位.csv",
        "unconditional",
    ),
    (
        2,
        "越秀区低空飞行器起降点",
        "Drone take-off and landing sites in Yuexiu",
        "低空经济试点区域内的起降点位置与开放时段。",
        ["low_altitude_aerospace"],
        ["低空经济", "无人机"],
        "起降点.csv",
        "unconditional",
    ),
    (
        0,
        "天河区网约车订单热力数据",
        "Ride-hailing order heat in Tianhe",
        "按小时与网格汇总的网约车上下车订单量，已脱敏。",
        ["intelligent_vehicles"],
        ["网约车", "出行"],
        "订单热力.csv",
        "conditional",
    ),
    (
        0,
        "天河区道路卡口过车统计",
        "Vehicle counts at Tianhe road checkpoints",
        "主要道路卡口每小时过车数量，按车型汇总。",
        ["public_services"],
        ["道路", "车流"],
        "卡口过车.csv",
        "conditional",
    ),
    (
        0,
        "天河区交通信号配时方案",
        "Traffic signal timing plans in Tianhe",
        "主要路口信号灯配时方案与周期，按时段区分。",
        ["public_services"],
        ["信号灯", "路口"],
        "信号配时.csv",
        "conditional",
    ),
]
DRAFT = (
    "天河区充电站月度充电量",
    "Monthly energy at Tianhe charging stations",
    "各充电站每月充电量，按站点汇总。",
    ["intelligent_vehicles"],
    ["充电站", "能源"],
)
CSV = "站点编号,名称,经度,纬度,功率kW\nTH001,天河体育中心,113.3245,23.1371,120\nTH002,珠江新城,113.3219,23.1196,60\n"
# (publisher, name, English name, summary); the first two are registered, the rest stop at submitted, accepted and
# in notice.
RESOURCES = [
    (0, "天河区公共充电桩分布数据", "Public charging piles in Tianhe", "天河区公共充电桩的位置、功率与运营单位。"),
    (1, "广州市公交站点客流数据", "Bus stop passenger counts in Guangzhou", "全市公交站点的日均客流量。"),
    (0, "天河区道路停车泊位数据", "On-street parking in Tianhe", "天河区道路停车泊位的位置、数量与收费时段。"),
    (0, "天河区交通信号配时数据", "Traffic signal timing in Tianhe", "主要路口信号灯的配时方案与周期。"),
    (2, "越秀区低空飞行器起降点数据", "Drone sites in Yuexiu", "低空经济试点区域内起降点的位置与开放时段。"),
]
SCOPE = "在广州市范围内用于交通规划研究"


def _ok(response: httpx.Response) -> Any:
    response.raise_for_status()
    return response.json()


@dataclass
class World:
    """The accounts' tokens and the ids the pages are shot at."""

    base: str
    auth: dict[str, dict[str, str]] = field(default_factory=dict)  # account name -> Authorization header
    ids: dict[str, str] = field(default_factory=dict)

    def post(self, who: str, path: str, body: Any = None, **request: Any) -> Any:
        """POST as an account; the answer's JSON."""
        return _ok(httpx.post(f"{self.base}{path}", headers=self.auth[who], json=body, timeout=30, **request))

    def provider(self, serial: int) -> str:
        """The name of the account acting for the serial-th publisher (0-based)."""
        return f"portal-provider-{serial + 1}"

    def registered(self, env: dict[str, str]) -> None:
        """Accounts, verified publishers, two registered resources and a certificate (on a pdr with no notice)."""
        self._accounts(env)
        contact = {"contact_name": "张敏", "contact_phone": "020-83001234", "contact_email": "data@example.gov.cn"}
        for serial, (name, name_en) in enumerate(PUBLISHERS):
            entity = {"name": name, "name_en": name_en, "kind": "data_source", "uscc": uscc(901 + serial), **contact}
            made = self.post(self.provider(serial), "/api/v1/entities", entity)
            self.post(OPERATOR, f"/api/v1/entities/{made['id']}/verify")
        self.ids["certified"] = self._registration(0, ["submit", "accept", "pass-review"])
        self.ids["to_issue"] = self._registration(1, ["submit", "accept", "pass-review"])
        issue = {"registration_id": self.ids["certified"], "rights": ["holding", "processing_use"], "scope": SCOPE}
        self.ids["certificate"] = self.post(OPERATOR, "/api/v1/certificates", issue)["number"]

    def _accounts(self, env: dict[str, str]) -> None:
        """The operator, the consumer and a provider for each publisher, with passwords to sign in on the pages."""
        admin = {"Authorization": f"Bearer {token(env, 'portal-admin', 'admin')}"}
        roles = [(OPERATOR, "operator"), (CONSUMER, "consumer")]
        for name, role in roles + [(self.provider(n), "provider") for n in range(len(PUBLISHERS))]:
            body = {"name": name, "role": role, "password": PASSWORD}
            made = _ok(httpx.post(f"{self.base}/api/v1/accounts", headers=admin, json=body))
            self.auth[name] = {"Authorization": f"Bearer {made['token']}"}

    def fill(self) -> None:
        """Datasets, a draft with a file, requests and a grant, downloads, and registrations not yet registered."""
        self.ids["submitted"] = self._registration(2, ["submit"])
        self.ids["review"] = self._registration(3, ["submit", "accept"])
        self.ids["notice"] = self._registration(4, ["submit", "accept", "pass-review"])
        files = [self._dataset(*row) for row in DATASETS]
        for index, (dataset, file_id) in enumerate(files[:6]):
            for _ in range((index + 1) % 3):
                httpx.get(f"{self.base}/api/v1/datasets/{dataset}/files/{file_id}/content").raise_for_status()
        self.ids["dataset"] = files[0][0]
        granted, pending, self.ids["apply"] = (dataset for dataset, _ in files[6:])
        self._grant(granted, files[6][1])
        self._request(pending)
        draft = self.post(self.provider(0), "/api/v1/datasets", _dataset_body(*DRAFT, "unconditional"))
        self._upload(draft["id"], "充电量2026.csv")
        self.ids["draft"] = draft["id"]

    def _registration(self, row: int, steps: list[str]) -> str:
        """A resource and its first registration taken through these steps; the registration's id."""
        serial, name, name_en, summary = RESOURCES[row]
        provider = self.provider(serial)
        resource = self.post(provider, "/api/v1/resources", _resource_body(name, name_en, summary))
        body = {"type": "first", "subject": {"resource_id": resource["id"]}}
        registration: str = self.post(provider, "/api/v1/registrations", body)["id"]
        for action in steps:
            self.post(provider if action == "submit" else OPERATOR, f"/api/v1/registrations/{registration}/{action}")
        return registration

    def _dataset(self, who: int, *fields: Any) -> tuple[str, str]:
        """A published dataset with one file; its id and the file's."""
        title, title_en, description, themes, keywords, file_name, access = fields
        body = _dataset_body(title, title_en, description, themes, keywords, access)
        dataset = self.post(self.provider(who), "/api/v1/datasets", body)
        file_id = self._upload(dataset["id"], file_name, who)
        self.post(self.provider(who), f"/api/v1/datasets/{dataset['id']}/publish")
        return dataset["id"], file_id

    def _upload(self, dataset: str, name: str, who: int = 0) -> str:
        """One CSV file added to a dataset's draft version; the file's id."""
        headers = {**self.auth[self.provider(who)], "Content-Type": "text/csv"}
        sent = httpx.post(
            f"{self.base}/api/v1/datasets/{dataset}/files", params={"name": name}, content=CSV.encode(), headers=headers
        )
        return str(_ok(sent)["id"])

    def _request(self, dataset: str) -> str:
        """The consumer's application for a conditional dataset; its id."""
        start = datetime.now(CHINA).date()
        body = {
            "dataset_id": dataset,
            "purpose": "交通规划研究",
            "scenario": "天河区充电设施布局优化",
            "use_category": "public_welfare",
            "requested_from": start.isoformat(),
            "requested_until": (start + timedelta(days=180)).isoformat(),
        }
        return str(self.post(CONSUMER, "/api/v1/access-requests", body)["id"])

    def _grant(self, dataset: str, file_id: str) -> None:
        """An application the provider approves with five downloads, two of them used."""
        request = self._request(dataset)
        decision = {"reason": "同意用于交通规划研究", "download_quota": 5}
        self.post(self.provider(0), f"/api/v1/access-requests/{request}/approve", decision)
        for _ in range(2):
            url = f"{self.base}/api/v1/datasets/{dataset}/files/{file_id}/content"
            httpx.get(url, headers=self.auth[CONSUMER]).raise_for_status()


def _dataset_body(
    title: str, title_en: str, description: str, themes: list[str], keywords: list[str], access: str
) -> dict[str, Any]:
    return {
        "title": title,
        "title_en": title_en,
        "description": description,
        "themes": themes,
        "keywords": keywords,
        "licence": "cc-by-4.0",
        "update_frequency": "monthly",
        "spatial": "广州市",
        "access": access,
    }


def _resource_body(name: str, name_en: str, summary: str) -> dict[str, Any]:
    return {
        "name": name,
        "name_en": name_en,
        "summary": summary,
        "formats": ["CSV", "JSON"],
        "data_items": [{"name": "id", "type": "string", "description": "编号"}, {"name": "value", "type": "number"}],
        "sharing_attribute": "unconditional",
        "open_attribute": "conditional",
        "open_conditions": "仅限交通规划研究使用",
        "security_level": "general",
        "update_cycle": "monthly",
        "record_count": 12000,
        "time_coverage_start": "2024-01-01",
        "spatial_coverage": "广州市",
        "storage_location": "广州市政务云",
        "source": "区交通运输局",
        "themes": ["intelligent_vehicles"],
        "keywords": ["交通", "公共数据"],
    }
