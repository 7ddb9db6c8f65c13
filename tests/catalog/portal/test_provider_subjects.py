"""The provider console's data resources and products over HTTP: creating and editing them through the registry's
use cases, what the lists show, and what is refused (bad input, a missing CSRF token, another entity's record)."""

from __future__ import annotations

import re
from html import unescape

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from registry.models import DataProduct, DataResource
from tests.support.data import bearer
from tests.support.registry import Provider
from tests.support.signing_in import form_token, give_password, sign_in
from tests.support.workflow import new_resource

RESOURCE_FORM = {
    "name": "越秀区公共停车场数据",
    "name_en": "Public car parks in Yuexiu",
    "summary": "越秀区公共停车场的位置与泊位数。",
    "formats": "CSV，JSON",
    "sharing_attribute": "unconditional",
    "open_attribute": "conditional",
    "open_conditions": "仅限交通规划研究",
    "security_level": "general",
    "update_cycle": "monthly",
    "record_count": "350",
    "time_coverage_start": "2025-01-01",
    "time_coverage_end": "2025-12-31",
    "keywords": "停车场、泊位",
}


def page_text(html: str) -> str:
    """What a person reads on a page: its text without tags, spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def signed_in(client: TestClient, engine: Engine, provider: Provider, name: str = "provider-1") -> str:
    """Sign the provider's account in on the pages; returns the token its forms carry."""
    give_password(engine, name)
    assert sign_in(client, name).status_code == 303
    return form_token(client.get("/console/provider/resources/new").text)


def count(engine: Engine, table: type[DataResource] | type[DataProduct]) -> int:
    """How many rows a table holds."""
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


def test_a_provider_creates_lists_and_edits_a_resource(client: TestClient, engine: Engine, provider: Provider) -> None:
    token = signed_in(client, engine, provider)
    fields = RESOURCE_FORM | {"csrf_token": token, "themes": ["intelligent_vehicles", "public_services"]}
    made = client.post("/console/provider/resources", data=fields, follow_redirects=False)
    assert made.status_code == 303
    resource_id = made.headers["location"].split("/")[-1].split("?")[0]
    shown = client.get(made.headers["location"])
    assert "数据资源已创建为草稿。" in page_text(shown.text)
    stored = client.get(f"/api/v1/resources/{resource_id}", headers=bearer(provider.token)).json()
    assert stored["formats"] == ["CSV", "JSON"] and stored["keywords"] == ["停车场", "泊位"]
    assert stored["themes"] == ["intelligent_vehicles", "public_services"] and stored["record_count"] == 350
    listed = client.get("/console/provider/resources")
    text = page_text(listed.text)
    assert "1 项数据资源" in text and "越秀区公共停车场数据" in text and "未登记" in text and "尚未申请" in text
    edit = fields | {"name": "越秀区公共停车场与泊位数据", "record_count": "", "spatial_coverage": "广州市越秀区"}
    saved = client.post(f"/console/provider/resources/{resource_id}", data=edit, follow_redirects=False)
    assert saved.status_code == 303
    assert "修改已保存。" in page_text(client.get(saved.headers["location"]).text)
    after = client.get(f"/api/v1/resources/{resource_id}", headers=bearer(provider.token)).json()
    assert after["name"] == "越秀区公共停车场与泊位数据" and after["record_count"] is None
    assert after["spatial_coverage"] == "广州市越秀区" and after["data_items"] == stored["data_items"]


def test_bad_input_is_said_next_to_the_field_and_nothing_is_written(
    client: TestClient, engine: Engine, provider: Provider
) -> None:
    token = signed_in(client, engine, provider)
    fields = RESOURCE_FORM | {"csrf_token": token, "open_conditions": "", "record_count": "many"}
    refused = client.post("/console/provider/resources", data=fields)
    assert refused.status_code == 422
    assert 'id="open_conditions-problem"' in refused.text and 'id="record_count-problem"' in refused.text
    assert "表单未保存。" in page_text(refused.text) and 'value="越秀区公共停车场数据"' in refused.text
    assert count(engine, DataResource) == 0
    english = client.post("/console/provider/resources", data=fields, params={"lang": "en"})
    assert english.status_code == 422 and "Check this field:" in page_text(english.text)


def test_a_form_without_its_token_is_refused_and_changes_nothing(
    client: TestClient, engine: Engine, provider: Provider
) -> None:
    signed_in(client, engine, provider)
    for token in ({}, {"csrf_token": "0" * 64}):
        refused = client.post("/console/provider/resources", data=RESOURCE_FORM | token)
        assert refused.status_code == 403 and "text/html" in refused.headers["content-type"]
    assert count(engine, DataResource) == 0
    resource = new_resource(client, provider)
    edit = client.post(f"/console/provider/resources/{resource['id']}", data=RESOURCE_FORM)
    assert edit.status_code == 403
    name = client.get(f"/api/v1/resources/{resource['id']}", headers=bearer(provider.token)).json()["name"]
    assert name == resource["name"]


def test_another_provider_neither_sees_nor_edits_the_resource(
    client: TestClient, engine: Engine, provider: Provider, other_provider: Provider
) -> None:
    resource = new_resource(client, provider)
    token = signed_in(client, engine, other_provider, "provider-2")
    assert client.get(f"/console/provider/resources/{resource['id']}").status_code == 404
    changed = client.post(f"/console/provider/resources/{resource['id']}", data=RESOURCE_FORM | {"csrf_token": token})
    assert changed.status_code == 404
    assert resource["name"] not in client.get("/console/provider/resources").text
    name = client.get(f"/api/v1/resources/{resource['id']}", headers=bearer(provider.token)).json()["name"]
    assert name == resource["name"]


def test_a_provider_creates_a_product_from_its_resources(
    client: TestClient, engine: Engine, provider: Provider
) -> None:
    resource = new_resource(client, provider)
    token = signed_in(client, engine, provider)
    form = client.get("/console/provider/products/new")
    assert resource["name"] in page_text(form.text)
    fields = {
        "csrf_token": token,
        "name": "充电桩选址分析报告",
        "summary": "选址分析。",
        "form": "report",
        "scenario": "新能源汽车充电设施规划",
    }
    sourceless = client.post("/console/provider/products", data=fields)
    assert sourceless.status_code == 422 and 'id="source_resource_ids-problem"' in sourceless.text
    assert count(engine, DataProduct) == 0
    made = client.post(
        "/console/provider/products", data=fields | {"source_resource_ids": resource["id"]}, follow_redirects=False
    )
    assert made.status_code == 303
    shown = page_text(client.get(made.headers["location"]).text)
    assert "数据产品已创建为草稿。" in shown and "分析报告" in shown and "尚无登记申请。" in shown
    listed = page_text(client.get("/console/provider/products").text)
    assert "1 项数据产品" in listed and "充电桩选址分析报告" in listed


def test_the_list_shows_fifty_rows_and_a_link_to_the_next_page(
    client: TestClient, engine: Engine, provider: Provider
) -> None:
    for number in range(51):
        new_resource(client, provider, name=f"资源{number:02d}")
    signed_in(client, engine, provider)
    first = client.get("/console/provider/resources")
    assert "51 项数据资源" in page_text(first.text) and first.text.count('<tr class="resource">') == 50
    following = re.search(r'<a rel="next" href="([^"]+)"', first.text)
    assert following is not None
    second = client.get(unescape(following.group(1)))
    assert second.text.count('<tr class="resource">') == 1 and "资源00" in page_text(second.text)
    assert 'rel="next"' not in second.text
