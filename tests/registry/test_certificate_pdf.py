"""The printable certificate: a one-page A4 PDF with its Chinese in an embedded CJK font and a QR code."""

from __future__ import annotations

import io
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pypdf import PdfReader

from registry.config import IssuerName
from tests.support.certificates import issue, ok, post, registered_resource
from tests.support.data import FakeClock
from tests.support.registry import Provider


def _fonts(reader: PdfReader) -> list[dict[str, Any]]:
    fonts = []
    for page in reader.pages:
        resources: Any = page["/Resources"]
        for font in resources["/Font"].values():
            font = font.get_object()
            descendants = [d.get_object() for d in font.get("/DescendantFonts", [])]
            descriptors = [d["/FontDescriptor"].get_object() for d in descendants if "/FontDescriptor" in d]
            fonts.append({"name": str(font["/BaseFont"]), "descriptors": descriptors})
    return fonts


def _text(reader: PdfReader) -> str:
    # pypdf reads the font's embedded encoding CMap (codes to CIDs) as if it were one byte per code and emits a
    # NUL beside each character (poppler's pdftotext reads it right); compare without NULs and whitespace.
    text = "".join(page.extract_text() or "" for page in reader.pages).replace("\x00", "")
    return "".join(text.split())


def test_pdf_is_a4_with_embedded_cjk_font_and_the_number(
    client: TestClient, clock: FakeClock, provider: Provider, operator: str
) -> None:
    resource = registered_resource(client, clock, provider, operator)
    bundle = ok(issue(client, operator, resource_id=resource["id"], rights=["holding", "processing_use"]))
    number = bundle["number"]
    response = client.get(f"/api/v1/certificates/{number}.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert f'filename="certificate-{number}.pdf"' in response.headers["content-disposition"]
    assert response.content.startswith(b"%PDF-")
    # A subset, not the 19 MB collection.
    assert len(response.content) < 300_000

    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width) * 25.4 / 72), round(float(box.height) * 25.4 / 72)) == (210, 297)

    text = _text(reader)
    assert number in text
    for expected in (
        "数据产权登记证书",
        "广州市数据局测试单位1",
        "天河区公共充电桩分布数据",
        "数据资源持有权",
        "数据加工使用权",
    ):
        assert expected in text
    assert resource["registration"]["code"] in text
    assert f"http://testserver/verify/{number}" in text

    fonts = _fonts(reader)
    assert fonts, "the page uses no font"
    for font in fonts:
        # "ABCDEF+Name": a subset, and the font program itself is in the file.
        assert "+NotoSansCJKSC" in font["name"]
        assert any(key in d for d in font["descriptors"] for key in ("/FontFile", "/FontFile2", "/FontFile3"))


def test_a_revoked_certificate_is_stamped(
    client: TestClient, clock: FakeClock, provider: Provider, operator: str
) -> None:
    resource = registered_resource(client, clock, provider, operator)
    number = ok(issue(client, operator, resource_id=resource["id"], rights=["holding"]))["number"]
    before = _text(PdfReader(io.BytesIO(client.get(f"/api/v1/certificates/{number}.pdf").content)))
    assert "REVOKED" not in before
    ok(post(client, f"/api/v1/certificates/{number}/revoke", operator, {"reason": "测试撤销"}))
    after = _text(PdfReader(io.BytesIO(client.get(f"/api/v1/certificates/{number}.pdf").content)))
    assert "已撤销REVOKED" in after


def test_a_long_scope_still_fits_one_page(
    client: TestClient, clock: FakeClock, provider: Provider, operator: str
) -> None:
    resource = registered_resource(client, clock, provider, operator)
    scope = "仅限广州市天河区交通规划与充电设施布局研究使用，不得转授权第三方。" * 60
    bundle = ok(issue(client, operator, resource_id=resource["id"], rights=["holding"], scope=scope[:2000]))
    reader = PdfReader(io.BytesIO(client.get(f"/api/v1/certificates/{bundle['number']}.pdf").content))
    assert len(reader.pages) == 1
    text = _text(reader)
    assert "全文见核验页" in text  # shortened on paper; the verification page has it whole
    assert bundle["number"] in text
    assert f"http://testserver/verify/{bundle['number']}" in text


def test_the_issuing_body_is_the_name_the_credential_records(
    app: FastAPI, client: TestClient, clock: FakeClock, provider: Provider, operator: str
) -> None:
    resource = registered_resource(client, clock, provider, operator)
    before = ok(issue(client, operator, resource_id=resource["id"], rights=["holding"]))["number"]
    # What create_app takes from PDR_ISSUER_NAME and PDR_ISSUER_NAME_EN.
    app.state.issuer_name = IssuerName(zh="广州数据交易所数据登记中心", en="Guangzhou Data Registration Centre")
    after = ok(issue(client, operator, resource_id=resource["id"], rights=["processing_use"]))["number"]

    named = _text(PdfReader(io.BytesIO(client.get(f"/api/v1/certificates/{after}.pdf").content)))
    assert "发证机构：广州数据交易所数据登记中心" in named
    assert "IssuedbyGuangzhouDataRegistrationCentre" in named
    assert "公共数据登记机构" not in named
    # The certificate issued before shows the name it was signed with, not the one set since.
    earlier = _text(PdfReader(io.BytesIO(client.get(f"/api/v1/certificates/{before}.pdf").content)))
    assert "发证机构：公共数据登记机构" in earlier
    assert "IssuedbyPublicDataRegistrationBody" in earlier
    assert "广州数据交易所" not in earlier
