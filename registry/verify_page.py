"""The HTML of the public certificate verification page: rendering only, from what the verification found."""

from __future__ import annotations

import re
from html import escape
from typing import Any

from registry.certificate_credential import describe_rights, parse_rfc3339
from registry.deadlines import CHINA_TIME

BEIJING_LABEL = "北京时间 (UTC+8)"
# An RFC 3339 time in UTC as the verifier's details write it (registry.certificate_credential.rfc3339).
_UTC_TIME = re.compile(r"\b[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")

_STATUS_TEXT = {
    "valid": ("有效", "Valid", "#166534", "#dcfce7"),
    "revoked": ("已撤销", "Revoked", "#991b1b", "#fee2e2"),
    "expired": ("已过期", "Expired", "#92400e", "#fef3c7"),
}
_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body{{font-family:system-ui,"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;margin:0;background:#f8fafc;
color:#1e293b}}
main{{max-width:44rem;margin:2rem auto;padding:1.5rem 2rem;background:#fff;border:1px solid #e2e8f0;border-radius:8px}}
h1{{font-size:1.4rem;margin:0 0 .2rem}} .en{{color:#64748b;font-size:.85em}}
.badge{{display:inline-block;padding:.3rem .8rem;border-radius:999px;font-weight:600}}
dl{{display:grid;grid-template-columns:11rem 1fr;gap:.5rem 1rem}} dt{{color:#475569}}
dd{{margin:0;word-break:break-all}}
.ok{{color:#166534}} .bad{{color:#991b1b}} .skip{{color:#64748b}} code{{font-size:.8em}}
</style></head><body><main>
{body}
</main></body></html>
"""


def _mark(ok: bool | None) -> str:
    if ok is None:
        return '<span class="skip">— 未检查 not checked</span>'
    return '<span class="ok">✓ 通过 passed</span>' if ok else '<span class="bad">✗ 未通过 failed</span>'


def beijing_time(text: str) -> str:
    """An RFC 3339 time as Beijing time, labelled as such: ``2026-12-08 10:00:00 北京时间 (UTC+8)``."""
    moment = parse_rfc3339(text).astimezone(CHINA_TIME)
    return f"{moment:%Y-%m-%d %H:%M:%S} {BEIJING_LABEL}"


def _in_beijing_time(text: str) -> str:
    """A check's detail with the UTC times the verifier writes shown in Beijing time, like the rest of the page."""
    return _UTC_TIME.sub(lambda found: beijing_time(found.group()), text)


def _issuer(view: dict[str, Any]) -> str:
    names = [escape(str(view[key])) for key in ("issuer_name", "issuer_name_en") if view.get(key)]
    named = "<br>".join(names) if names else "（凭证未载明名称）<span class=en>not named in the credential</span>"
    return f"{named}<br><code>{escape(str(view['issuer']))}</code>"


def _revocation(view: dict[str, Any]) -> list[tuple[str, str, str]]:
    if view["status"] != "revoked":
        return []
    revoked_at = beijing_time(view["revoked_at"]) if view.get("revoked_at") else "—"
    return [
        ("撤销日期", "Revoked on", escape(revoked_at)),
        ("撤销原因", "Reason for revocation", escape(str(view.get("revoked_reason") or "—"))),
    ]


def _fields(view: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(Chinese label, English label, HTML value) of each field the page shows."""
    subject_zh = "数据资源" if view["subject"]["type"] == "resource" else "数据产品"
    rights = "<br>".join(
        f"{escape(label_zh)} <span class=en>{escape(label_en)}</span>"
        for _, label_zh, label_en in describe_rights(view["rights"])
    )
    validity = f"{beijing_time(view['valid_from'])} 至 to {beijing_time(view['valid_until'])}"
    return [
        ("证书编号", "Certificate No.", escape(view["number"])),
        ("持有人", "Holder", escape(str(view["holder"]["name"]))),
        ("统一社会信用代码", "USCC", escape(view["holder"]["uscc"])),
        (f"{subject_zh}", "Registered data", escape(str(view["subject"]["name"]))),
        ("编码", "Code", escape(str(view["subject"]["code"]))),
        ("登记编号", "Registration No.", escape(str(view["subject"]["registration_code"]))),
        ("权利", "Rights", rights),
        ("范围", "Scope", escape(view["scope"])),
        ("有效期", "Validity", escape(validity)),
        ("发证机构", "Issuing body", _issuer(view)),
        ("发证日期", "Issued on", escape(beijing_time(view["issued_at"]))),
        *_revocation(view),
        ("签名", "Signature", _mark(view["signature_ok"])),
        ("日志收录", "Log inclusion", _mark(view["log_inclusion_ok"])),
    ]


def render_verification(view: dict[str, Any]) -> str:
    """The verification page of a certificate, from what the verification found."""
    zh, en, fg, bg = _STATUS_TEXT[view["status"]]
    rows = "\n".join(
        f"<dt>{zh_}<br><span class=en>{en_}</span></dt><dd>{value}</dd>" for zh_, en_, value in _fields(view)
    )
    checks = "\n".join(
        f"<li>{escape(c['name'])}: {_mark(c['ok'])} <span class=en>{escape(_in_beijing_time(c['detail']))}</span></li>"
        for c in view["checks"]
    )
    body = f"""<h1>数据产权登记证书核验 <span class=en>Certificate verification</span></h1>
<p><span class="badge" style="color:{fg};background:{bg}">{zh} {en}</span></p>
<dl>
{rows}
</dl>
<p class=en>时间均为北京时间（UTC+8）。 All times are Beijing time (UTC+8).</p>
<h2 style="font-size:1rem">核验明细 <span class=en>Checks</span></h2>
<ul>
{checks}
</ul>
<p class=en><a href="{escape(view["bundle_url"])}">bundle (JSON)</a> ·
<a href="{escape(view["pdf_url"])}">PDF</a></p>"""
    return _PAGE.format(title=escape(f"证书核验 {view['number']}"), body=body)


def render_not_found(number: str) -> str:
    """The page for a certificate number the registry does not know."""
    body = f"<h1>未找到证书 <span class=en>No such certificate</span></h1><p>{escape(number)}</p>"
    return _PAGE.format(title="证书核验 Certificate verification", body=body)
