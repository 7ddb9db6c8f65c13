"""Plain helpers that make test data: accounts and tokens, valid USCCs, request bodies, a movable clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from sqlalchemy import Engine

from auth import service
from auth.caller import Caller
from auth.config import AuthSettings
from auth.roles import Role
from storage.db import session_scope


def make_account(
    engine: Engine,
    settings: AuthSettings,
    role: Role,
    *,
    name: str | None = None,
    entity_id: str | None = None,
    password: str | None = None,
) -> tuple[str, str]:
    """Create an account directly; return its id and token."""
    import uuid

    with session_scope(engine) as session:
        account, token = service.create_account(
            session,
            Caller(name="test"),
            settings,
            name=name or f"{role.value}-{uuid.uuid4().hex[:8]}",
            role=role,
            entity_id=entity_id,
            password=password,
        )
    return account.id, token.secret


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}


# ---------------------------------------------------------------- registry data

VALID_USCC = ("91110108551385082Q", "91350100M000100Y43")


def uscc_with_check(first17: str) -> str:
    """A valid USCC for 17 given characters: the GB 32100-2015 check character, computed independently."""
    charset = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    total = sum(charset.index(c) * pow(3, i, 31) for i, c in enumerate(first17))
    return first17 + charset[(31 - total % 31) % 31]


def new_uscc(serial: int) -> str:
    """A distinct valid USCC for a test entity in Guangzhou (region 440100)."""
    return uscc_with_check(f"91440100{serial:09d}")


def entity_body(serial: int = 1, **overrides: object) -> dict[str, object]:
    """A valid entity creation body."""
    body: dict[str, object] = {
        "name": f"广州市数据局测试单位{serial}",
        "kind": "data_source",
        "uscc": new_uscc(serial),
        "contact_name": "张三",
        "contact_phone": "020-12345678",
        "contact_email": "data@example.gov.cn",
    }
    body.update(overrides)
    return body


def resource_body(**overrides: object) -> dict[str, object]:
    """A valid data resource creation body."""
    body: dict[str, object] = {
        "name": "天河区公共充电桩分布数据",
        "name_en": "Public charging piles in Tianhe",
        "summary": "天河区公共充电桩的位置、功率与运营单位。",
        "formats": ["CSV", "JSON"],
        "data_items": [
            {"name": "pile_id", "type": "string", "description": "充电桩编号"},
            {"name": "power_kw", "type": "number"},
        ],
        "sharing_attribute": "unconditional",
        "open_attribute": "conditional",
        "open_conditions": "仅限交通规划研究使用",
        "security_level": "general",
        "update_cycle": "monthly",
        "record_count": 12000,
        "time_coverage_start": "2024-01-01",
        "time_coverage_end": "2026-06-30",
        "spatial_coverage": "广州市天河区",
        "storage_location": "广州市政务云",
        "source": "区交通运输局",
        "themes": ["intelligent_vehicles"],
        "keywords": ["充电桩", "新能源汽车"],
    }
    body.update(overrides)
    return body


class FakeClock:
    """A clock tests can set and move; install with `app.state.clock = clock`."""

    def __init__(self, day: date, hour: int = 10) -> None:
        self.now = datetime.now(UTC)
        self.set_china(day, hour)

    def __call__(self) -> datetime:
        """The current fake time."""
        return self.now

    def set_china(self, day: date, hour: int = 10) -> None:
        """Move to a given hour of a China calendar day."""
        self.now = datetime(day.year, day.month, day.day, hour, tzinfo=timezone(timedelta(hours=8))).astimezone(UTC)


# ---------------------------------------------------------------- catalog data


def dataset_body(**overrides: object) -> dict[str, object]:
    """A valid dataset creation body for the native catalog API."""
    body: dict[str, object] = {
        "title": "天河区公共充电桩分布数据",
        "title_en": "Public charging piles in Tianhe",
        "description": "天河区公共充电桩的位置、功率与运营单位，按月更新。",
        "keywords": ["充电桩", "新能源汽车"],
        "themes": ["intelligent_vehicles"],
        "licence": "cc-by-4.0",
        "temporal_start": "2022-01-01",
        "temporal_end": "2024-12-31",
        "spatial": "广州市天河区",
        "update_frequency": "monthly",
    }
    body.update(overrides)
    return body


def ckan_package(name: str, owner_org: str, **overrides: object) -> dict[str, object]:
    """A CKAN package dict as `ckanapi dump datasets` writes it."""
    package: dict[str, object] = {
        "name": name,
        "title": "海珠区停车场信息",
        "notes": "海珠区公共停车场的车位数与收费标准。Parking lots in Haizhu.",
        "tags": [{"name": "停车场"}, {"name": "交通"}],
        "groups": [{"name": "intelligent_vehicles"}],
        "owner_org": owner_org,
        "license_id": "cc-by-4.0",
        "state": "active",
        "metadata_modified": "2025-03-01T08:00:00",
        "resources": [{"url": "https://data.example.gov.cn/parking.csv", "format": "CSV", "name": "停车场CSV"}],
        "extras": [
            {"key": "title_en", "value": "Parking lots in Haizhu"},
            {"key": "temporal_start", "value": "2023-01-01"},
            {"key": "temporal_end", "value": "2024-12-31"},
        ],
    }
    package.update(overrides)
    return package
