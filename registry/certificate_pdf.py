"""The printable certificate: one A4 page, bilingual, its Chinese set in an embedded (subset) Noto Sans CJK SC.

The font comes from the ``noto-cjk-sans-otc`` package, a project dependency, so ``pip install`` is all a
machine needs; fpdf2 embeds only the glyphs the page uses. The QR code, drawn as vector squares, points at the
public verification page.
"""

from __future__ import annotations

import functools
from datetime import datetime

import segno
from fontTools.ttLib import TTCollection  # type: ignore[import-untyped]
from fpdf import FPDF
from fpdf.enums import Align, WrapMode, XPos, YPos
from noto_cjk_sans_otc import FONT_PATH  # type: ignore[import-untyped]

from registry.certificate_credential import EXPIRED, REVOKED_STATUS, describe_rights, issuer_id, issuer_names
from registry.deadlines import china_date
from registry.models import Certificate

FONT_FAMILY = "NotoSansCJKSC"
FONT_NAME = "Noto Sans CJK SC"
SUBJECT_LABELS = {"resource": ("数据资源", "Data resource"), "product": ("数据产品", "Data product")}
INK = (30, 41, 59)
ACCENT = (153, 27, 27)
MUTED = (100, 116, 139)
# The table of fields ends above the issuer block and the QR code.
TABLE_BOTTOM = 210.0
# The issuer block's width, left of the QR code.
ISSUER_WIDTH = 125.0
TRUNCATED = "……（全文见核验页 full text on the verification page）"


def font_path() -> str:
    """The Noto Sans CJK collection installed with the project."""
    return str(FONT_PATH)


@functools.lru_cache(maxsize=1)
def _font_number() -> int:
    # Find the Simplified Chinese face by name rather than trusting its position in the collection.
    collection = TTCollection(font_path(), lazy=True)
    for number, font in enumerate(collection.fonts):
        if font["name"].getDebugName(4) == FONT_NAME:
            return number
    raise RuntimeError(f"{FONT_NAME} is missing from {font_path()}")


def _qr(pdf: FPDF, url: str, x: float, y: float, size: float) -> None:
    code = segno.make(url, error="m")
    matrix = code.matrix
    module = size / len(matrix)
    pdf.set_fill_color(0, 0, 0)
    for row, cells in enumerate(matrix):
        col = 0
        # One rectangle per run of dark modules keeps the page small and the code crisp at any zoom.
        while col < len(cells):
            if cells[col]:
                start = col
                while col < len(cells) and cells[col]:
                    col += 1
                pdf.rect(x + start * module, y + row * module, (col - start) * module, module, style="F")
            else:
                col += 1


def _row_height(pdf: FPDF, value: str, width: float, size: float) -> float:
    pdf.set_font(FONT_FAMILY, size=size)
    lines = pdf.multi_cell(width, size * 0.57, value, dry_run=True, output="LINES", wrapmode=WrapMode.CHAR)
    count = len(lines) if isinstance(lines, list) else 1
    return max(12.0, size * 0.57 * count + 4)


def _fit(
    pdf: FPDF, rows: list[tuple[str, str, str]], width: float, room: float
) -> tuple[float, list[tuple[str, str, str]]]:
    """A font size at which the rows fit the room; past the smallest, the longest value is shortened."""
    for size in (10.5, 9.5, 8.5, 7.5):
        if sum(_row_height(pdf, value, width, size) for _, _, value in rows) <= room:
            return size, rows
    # A scope of 2,000 characters cannot fit one page; the verification page shows it whole.
    longest = max(range(len(rows)), key=lambda i: len(rows[i][2]))
    zh, en, value = rows[longest]
    while len(value) > 20:
        value = value[: int(len(value) * 0.9)]
        shortened = [*rows[:longest], (zh, en, value + TRUNCATED), *rows[longest + 1 :]]
        if sum(_row_height(pdf, v, width, 7.5) for _, _, v in shortened) <= room:
            return 7.5, shortened
    return 7.5, [*rows[:longest], (zh, en, value + TRUNCATED), *rows[longest + 1 :]]


def _day(moment: datetime) -> str:
    day = china_date(moment)
    return f"{day.year}年{day.month}月{day.day}日 ({day.isoformat()})"


def _document(number: str) -> FPDF:
    """An empty A4 page with the embedded font."""
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=False)
    pdf.set_title(f"数据产权登记证书 {number}")
    pdf.set_creator("pdr")
    pdf.add_font(FONT_FAMILY, fname=font_path(), collection_font_number=_font_number())
    pdf.add_page()
    return pdf


def _frame_and_title(pdf: FPDF, number: str) -> None:
    """The double frame, the bilingual title and the certificate number."""
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, 190, 277)
    pdf.set_line_width(0.3)
    pdf.rect(13, 13, 184, 271)

    pdf.set_text_color(*ACCENT)
    pdf.set_font(FONT_FAMILY, size=26)
    pdf.set_xy(20, 26)
    pdf.cell(170, 14, "数据产权登记证书", align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT_FAMILY, size=12)
    pdf.set_x(20)
    pdf.cell(170, 7, "Data Property Right Certificate", align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*INK)
    pdf.set_font(FONT_FAMILY, size=11)
    pdf.set_x(20)
    pdf.cell(170, 9, f"证书编号 Certificate No.  {number}", align=Align.C)


def _field_rows(certificate: Certificate) -> list[tuple[str, str, str]]:
    """(Chinese label, English label, value) for each field the certificate shows."""
    holder = certificate.credential.get("credentialSubject", {})
    data = holder.get("registeredData", {})
    subject_zh, subject_en = SUBJECT_LABELS.get(str(data.get("subjectType")), ("登记对象", "Registered data"))
    rights = describe_rights(certificate.rights)
    return [
        ("持有人", "Holder", str(holder.get("name", ""))),
        ("统一社会信用代码", "USCC", str(holder.get("uscc", ""))),
        (f"{subject_zh}名称", f"{subject_en}", str(data.get("name", ""))),
        (f"{subject_zh}编码", "Code", str(data.get("code", ""))),
        ("登记编号", "Registration No.", str(data.get("registrationCode", ""))),
        ("权利类型", "Rights", "\n".join(f"{zh}  {en}" for _, zh, en in rights)),
        ("权利范围", "Scope", certificate.scope),
        ("有效期", "Valid", f"{_day(certificate.valid_from)} 至 to {_day(certificate.valid_until)}"),
        ("发证日期", "Issued on", _day(certificate.valid_from)),
    ]


def _fields(pdf: FPDF, rows: list[tuple[str, str, str]]) -> None:
    """The table of fields, its font made small enough (and its longest value cut) to end above TABLE_BOTTOM."""
    label_w, value_w, left, top = 48.0, 122.0, 20.0, 62.0
    size, rows = _fit(pdf, rows, value_w, TABLE_BOTTOM - top)
    line_h = size * 0.57
    y = top
    pdf.set_draw_color(203, 213, 225)
    pdf.set_line_width(0.2)
    for zh, en, value in rows:
        height = _row_height(pdf, value, value_w, size)
        pdf.set_xy(left, y + 2)
        pdf.set_text_color(*INK)
        pdf.set_font(FONT_FAMILY, size=10.5)
        pdf.cell(label_w, 5, zh)
        pdf.set_xy(left, y + 7)
        pdf.set_text_color(*MUTED)
        pdf.set_font(FONT_FAMILY, size=7.5)
        pdf.cell(label_w, 4, en)
        pdf.set_text_color(*INK)
        pdf.set_font(FONT_FAMILY, size=size)
        pdf.set_xy(left + label_w, y + 2)
        pdf.multi_cell(value_w, line_h, value, wrapmode=WrapMode.CHAR, align=Align.L)
        y += height
        pdf.line(left, y, left + label_w + value_w, y)


def _qr_code(pdf: FPDF, verify_url: str) -> None:
    """The QR code to the verification page, with its caption."""
    qr_size = 38.0
    qr_x, qr_y = 152.0, 214.0
    _qr(pdf, verify_url, qr_x, qr_y, qr_size)
    pdf.set_font(FONT_FAMILY, size=7.5)
    pdf.set_text_color(*MUTED)
    pdf.set_xy(qr_x - 6, qr_y + qr_size + 1)
    pdf.cell(qr_size + 12, 4, "扫码核验 Scan to verify", align=Align.C)


def _one_line(pdf: FPDF, text: str, size: float, width: float = ISSUER_WIDTH) -> None:
    """One line of text at the largest size up to `size` at which it fits the width, then the next line."""
    pdf.set_font(FONT_FAMILY, size=size)
    while size > 5.0 and pdf.get_string_width(text) > width:
        size -= 0.5
        pdf.set_font(FONT_FAMILY, size=size)
    pdf.cell(width, size * 0.6 + 0.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _issuer(pdf: FPDF, certificate: Certificate, verify_url: str) -> None:
    """The issuing body and the cryptographic details: signature, log entry, digest and verification URL."""
    # The name the credential was signed with: a later change of the setting does not rewrite issued certificates.
    chinese, english = issuer_names(certificate.credential)
    pdf.set_text_color(*INK)
    pdf.set_xy(20, 216)
    _one_line(pdf, f"发证机构：{chinese or '（凭证未载明名称）'}", 11.0)
    pdf.set_x(20)
    _one_line(pdf, f"Issued by {english or '(not named in the credential)'}", 8.5)
    pdf.set_text_color(*MUTED)
    pdf.set_font(FONT_FAMILY, size=6.5)
    details = (
        f"本证书为带 eddsa-jcs-2022 签名的 W3C 可验证凭证，签发事件记录于透明日志第 {certificate.log_index} 条。\n"
        f"A W3C Verifiable Credential signed with eddsa-jcs-2022; its issuance is entry {certificate.log_index} "
        f"of the registry's transparency log.\n"
        f"Issuer: {issuer_id(certificate.credential)}\n"
        f"SHA-256 (RFC 8785): {certificate.credential_sha256}\n"
        f"{verify_url}"
    )
    pdf.set_xy(20, 232)
    pdf.multi_cell(125, 3.6, details, wrapmode=WrapMode.CHAR, align=Align.L)


def _stamp(pdf: FPDF, status: str) -> None:
    """A slanted REVOKED or EXPIRED stamp across the page; nothing on a valid certificate."""
    if status not in (REVOKED_STATUS, EXPIRED):
        return
    stamp = "已撤销 REVOKED" if status == REVOKED_STATUS else "已过期 EXPIRED"
    pdf.set_text_color(*ACCENT)
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(0.8)
    pdf.set_font(FONT_FAMILY, size=22)
    pdf.set_fill_color(255, 255, 255)
    with pdf.rotation(18, x=105, y=150), pdf.local_context(fill_opacity=0.85):
        pdf.set_xy(55, 142)
        pdf.cell(100, 16, stamp, border=1, align=Align.C, fill=True)


def render(certificate: Certificate, verify_url: str, status: str) -> bytes:
    """The certificate as a one-page A4 PDF."""
    pdf = _document(certificate.number)
    _frame_and_title(pdf, certificate.number)
    _fields(pdf, _field_rows(certificate))
    _qr_code(pdf, verify_url)
    _issuer(pdf, certificate, verify_url)
    _stamp(pdf, status)
    return bytes(pdf.output())
