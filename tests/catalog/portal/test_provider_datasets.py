"""The provider console's datasets over HTTP: create, edit, upload through the form (its CSRF field read from the
multipart body before anything is stored) and through the API with the page's token, publish, open a new version."""

from __future__ import annotations

import hashlib
import re
from html import unescape
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from catalog.datasets.models import Dataset, DatasetFile
from catalog.portal.render import file_size
from tests.support.data import bearer
from tests.support.exchange import World
from tests.support.registry import Provider
from tests.support.signing_in import form_token, give_password, sign_in

PAYLOAD = "站点,功率\nA01,60\nA02,120\n".encode() * 100
DATASET_FORM = {
    "title": "白云区充电站功率数据",
    "title_en": "Charging station power in Baiyun",
    "description": "白云区各充电站的额定功率。",
    "keywords": "充电站，功率",
    "access": "unconditional",
    "licence": "CC-BY-4.0",
    "temporal_start": "2025-01-01",
    "temporal_end": "2025-06-30",
}


def page_text(html: str) -> str:
    """What a person reads on a page: its text without tags, spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def signed_in(client: TestClient, engine: Engine, name: str = "provider-1") -> str:
    """Sign an account in on the pages; returns the token its forms carry."""
    give_password(engine, name)
    assert sign_in(client, name).status_code == 303
    return form_token(client.get("/console/provider/datasets/new").text)


def objects(tmp_path: Path) -> list[Path]:
    """The objects the file store holds (named by their SHA-256)."""
    return [p for p in (tmp_path / "objects").rglob("*") if p.is_file() and re.fullmatch(r"[0-9a-f]{64}", p.name)]


def file_rows(engine: Engine) -> int:
    """How many file rows the catalog holds."""
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(DatasetFile)).one())


def created(client: TestClient, token: str) -> str:
    """A draft dataset made through the console's form; returns its id."""
    made = client.post("/console/provider/datasets", data=DATASET_FORM | {"csrf_token": token}, follow_redirects=False)
    assert made.status_code == 303, made.text
    return made.headers["location"].split("/")[-1].split("?")[0]


def test_create_upload_without_script_and_publish(
    client: TestClient, engine: Engine, provider: Provider, tmp_path: Path
) -> None:
    token = signed_in(client, engine)
    dataset_id = created(client, token)
    shown = page_text(client.get(f"/console/provider/datasets/{dataset_id}", params={"done": "created"}).text)
    assert "数据集已创建为草稿。" in shown and "草稿（未公开）" in shown and "此版本没有文件。" in shown
    upload = client.post(
        f"/console/provider/datasets/{dataset_id}/files",
        data={"csrf_token": token},
        files={"file": ("功率.csv", PAYLOAD, "text/csv")},
        follow_redirects=False,
    )
    assert upload.status_code == 303
    page = client.get(upload.headers["location"])
    text = page_text(page.text)
    assert "文件已上传。" in text and "功率.csv" in text and file_size(len(PAYLOAD)) in text
    assert hashlib.sha256(PAYLOAD).hexdigest() in text
    published = client.post(
        f"/console/provider/datasets/{dataset_id}/publish", data={"csrf_token": token}, follow_redirects=False
    )
    assert published.status_code == 303
    after = page_text(client.get(published.headers["location"]).text)
    assert "数据集已发布，现已进入公开目录。" in after and "已发布" in after and "新建第 2 版" in after
    client.cookies.clear()
    assert client.get(f"/console/provider/datasets/{dataset_id}", follow_redirects=False).status_code == 303
    public = page_text(client.get(f"/datasets/{dataset_id}").text)
    assert "白云区充电站功率数据" in public and "功率.csv" in public
    assert len(objects(tmp_path)) == 1


def test_an_upload_without_its_token_stores_nothing(
    client: TestClient, engine: Engine, provider: Provider, tmp_path: Path
) -> None:
    token = signed_in(client, engine)
    dataset_id = created(client, token)
    for fields in ({}, {"csrf_token": "f" * 64}):
        refused = client.post(
            f"/console/provider/datasets/{dataset_id}/files",
            data=fields,
            files={"file": ("a.csv", PAYLOAD, "text/csv")},
        )
        assert refused.status_code == 403 and "text/html" in refused.headers["content-type"]
    assert file_rows(engine) == 0 and objects(tmp_path) == []
    # The script's path: the API with the session cookie needs the page's token in its header.
    api = f"/api/v1/datasets/{dataset_id}/files"
    bare = client.post(api, params={"name": "a.csv"}, content=PAYLOAD, headers={"Content-Type": "text/csv"})
    assert bare.status_code == 403 and file_rows(engine) == 0 and objects(tmp_path) == []
    sent = client.post(
        api, params={"name": "a.csv"}, content=PAYLOAD, headers={"Content-Type": "text/csv", "X-CSRF-Token": token}
    )
    assert sent.status_code == 201 and sent.json()["sha256"] == hashlib.sha256(PAYLOAD).hexdigest()
    assert file_rows(engine) == 1 and len(objects(tmp_path)) == 1


def test_an_upload_without_a_file_says_so(client: TestClient, engine: Engine, provider: Provider) -> None:
    token = signed_in(client, engine)
    dataset_id = created(client, token)
    empty = client.post(
        f"/console/provider/datasets/{dataset_id}/files",
        data={"csrf_token": token},
        files={"file": ("", b"", "application/octet-stream")},
    )
    assert empty.status_code == 422 and "请选择要上传的文件。" in page_text(empty.text)
    assert file_rows(engine) == 0


def test_edit_bad_input_and_a_new_version(client: TestClient, engine: Engine, provider: Provider) -> None:
    token = signed_in(client, engine)
    dataset_id = created(client, token)
    bad = client.post(
        f"/console/provider/datasets/{dataset_id}/edit",
        data=DATASET_FORM | {"csrf_token": token, "temporal_end": "2024-01-01", "landing_page": "ftp://x"},
    )
    assert bad.status_code == 422 and 'id="landing_page-problem"' in bad.text
    assert "表单未保存。" in page_text(bad.text)
    saved = client.post(
        f"/console/provider/datasets/{dataset_id}/edit",
        data=DATASET_FORM | {"csrf_token": token, "title": "白云区充电站功率数据（修订）", "licence": ""},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    body = client.get(f"/api/v1/datasets/{dataset_id}", headers=bearer(provider.token)).json()
    assert body["title"] == "白云区充电站功率数据（修订）" and body["licence"] is None
    assert body["keywords"] == ["充电站", "功率"]
    early = client.post(f"/console/provider/datasets/{dataset_id}/versions", data={"csrf_token": token})
    assert early.status_code == 409 and "表单未保存。" in page_text(early.text)
    client.post(f"/console/provider/datasets/{dataset_id}/publish", data={"csrf_token": token})
    opened = client.post(
        f"/console/provider/datasets/{dataset_id}/versions",
        data={"csrf_token": token, "notes": "2025 年下半年数据"},
        follow_redirects=False,
    )
    assert opened.status_code == 303
    text = page_text(client.get(opened.headers["location"]).text)
    assert "已新建草稿版本" in text and "向第 2 版上传文件" in text and "发布第 2 版" in text
    listed = page_text(client.get("/console/provider/datasets").text)
    assert "1 个数据集" in listed and "白云区充电站功率数据（修订）" in listed


def test_another_provider_cannot_touch_the_dataset(
    client: TestClient, engine: Engine, world: World, tmp_path: Path
) -> None:
    before = len(objects(tmp_path))
    token = signed_in(client, engine, "provider-2")
    for path in (
        f"/console/provider/datasets/{world.open_dataset}",
        f"/console/provider/datasets/{world.not_open}/edit",
    ):
        assert client.get(path).status_code == 404
    refused = client.post(
        f"/console/provider/datasets/{world.open_dataset}/files",
        data={"csrf_token": token},
        files={"file": ("b.csv", b"other", "text/csv")},
    )
    assert refused.status_code == 403
    edit = client.post(
        f"/console/provider/datasets/{world.open_dataset}/edit", data=DATASET_FORM | {"csrf_token": token}
    )
    assert edit.status_code == 404
    assert len(objects(tmp_path)) == before
    with Session(engine) as session:
        title = session.get(Dataset, world.open_dataset)
        assert title is not None and title.title != DATASET_FORM["title"]
    assert "0 个数据集" in page_text(client.get("/console/provider/datasets").text)
