"""The HTML of the public certificate verification page: rendering only, from what the verification found."""

from __future__ import annotations

from html import escape
from typing import Any

from registry.certificate_credential import describe_rights

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


def render_verification(view: dict[str, Any]) -> str:
    """The verification page of a certificate, from what the verification found."""
    zh, en, fg, bg = _STATUS_TEXT[view["status"]]
    subject_zh = "数据资源" if view["subject"]["type"] == "resource" else "数据产品"
    rights = "<br>".join(
        f"{escape(label_zh)} <span class=en>{escape(label_en)}</span>"
        for _, label_zh, label_en in describe_rights(view["rights"])
    )
    fields = [
        ("证书编号", "Certificate No.", escape(view["number"])),
        ("持有人", "Holder", escape(str(view["holder"]["name"]))),
        ("统一社会信用代码", "USCC", escape(view["holder"]["uscc"])),
        (f"{subject_zh}", "Registered data", escape(str(view["subject"]["name"]))),
        ("编码", "Code", escape(str(view["subject"]["code"]))),
        ("登记编号", "Registration No.", escape(str(view["subject"]["registration_code"]))),
        ("权利", "Rights", rights),
        ("范围", "Scope", escape(view["scope"])),
        ("有效期", "Validity", f"{escape(view['valid_from'])} — {escape(view['valid_until'])}"),
        ("签名", "Signature", _mark(view["signature_ok"])),
        ("日志收录", "Log inclusion", _mark(view["log_inclusion_ok"])),
        ("签发者", "Issuer", f"<code>{escape(str(view['issuer']))}</code>"),
    ]
    rows = "\n".join(f"<dt>{zh_}<br><span class=en>{en_}</span></dt><dd>{value}</dd>" for zh_, en_, value in fields)
    checks = "\n".join(
        f"<li>{escape(c['name'])}: {_mark(c['ok'])} <span class=en>{escape(c['detail'])}</span></li>"
        for c in view["checks"]
    )
    body = f"""<h1>数据产权登记证书核验 <span class=en>Certificate verification</span></h1>
<p><span class="badge" style="color:{fg};background:{bg}">{zh} {en}</span></p>
<dl>
{rows}
</dl>
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
