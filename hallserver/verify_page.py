"""The page a citizen's phone opens from a printed document's QR code.

It says plainly whether the paper is genuine: the document must be registered
by the counter and its signature must check against the hall's public key.
"""

from __future__ import annotations

from html import escape

from sqlalchemy.orm import Session

from hallclient.signing import verify_fields
from hallserver.models import Document, Hall

DECISIONS = {"accept": "受理", "correct": "补正", "reject": "不予受理", "complete": "办结"}
KINDS = {
    "receipt": "受理通知书",
    "correction": "一次性补正告知书",
    "rejection": "不予受理通知书",
    "approval": "准予行政许可决定书",
    "pickup": "办理结果领取凭证",
    "visit_receipt": "一件事一次办回执",
}

_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 0; background: #f4f6f8; color: #1d2b36; }}
main {{ max-width: 34em; margin: 0 auto; padding: 1.5em; }}
.banner {{ padding: 1em 1.2em; border-radius: 6px; color: #fff; font-size: 1.25em; }}
.ok {{ background: #1f7a3f; }} .bad {{ background: #b3261e; }} .unknown {{ background: #8a6d00; }}
dl {{ background: #fff; padding: 1em 1.2em; border-radius: 6px; }}
dt {{ color: #5b6b78; font-size: 0.9em; margin-top: 0.6em; }} dd {{ margin: 0; font-size: 1.1em; }}
p.note {{ color: #5b6b78; font-size: 0.9em; }}
</style></head>
<body><main><div class="banner {css}">{title}</div>{body}</main></body></html>
"""


def render(s: Session, doc_id: str, signature: str) -> tuple[int, str]:
    doc = s.get(Document, doc_id)
    if doc is None:
        body = (
            "<p>系统中没有找到这份文书。若文书是刚刚打印的，窗口电脑可能尚未上传，请稍后再扫；"
            "若仍查不到，请向大厅咨询，这份文书可能不是本大厅出具的。</p>"
        )
        return 404, _PAGE.format(title="未找到该文书", css="unknown", body=body)
    fields = {str(k): str(v) for k, v in doc.fields.items()}
    hall = s.get(Hall, fields.get("hall_code", "")) or _hall_of_case(s, doc.case_no)
    genuine = (
        hall is not None
        and bool(hall.public_key)
        and signature == doc.signature
        and verify_fields(hall.public_key, fields, signature)
    )
    if not genuine:
        body = (
            "<p>这份文书的签名与大厅登记的不一致，可能被改动或伪造。"
            "请勿凭此办理任何事务，并向大厅或 12345 热线反映。</p>"
        )
        return 200, _PAGE.format(title="验证未通过：文书可能是伪造的", css="bad", body=body)
    rows = [
        ("文书", KINDS.get(doc.kind, doc.kind)),
        ("办件编号", fields.get("case_no", "")),
        ("事项", fields.get("item_name", "")),
        ("办理结果", DECISIONS.get(fields.get("decision", ""), fields.get("decision", ""))),
        ("办理日期", fields.get("decided_on", "")),
        ("承诺办结日期", fields.get("promised_date", "") or "—"),
        ("出具单位", fields.get("hall", "")),
    ]
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows)
    note = "<p class='note'>本页面只显示文书的办理信息，不显示申请人的个人信息。</p>"
    return 200, _PAGE.format(title="验证通过：文书真实有效", css="ok", body=f"<dl>{items}</dl>{note}")


def _hall_of_case(s: Session, case_no: str) -> Hall | None:
    # Case numbers begin with the hall code: {hall}-{yyyymmdd}-{window}-{seq}.
    return s.get(Hall, case_no.rsplit("-", 3)[0]) if case_no.count("-") >= 3 else None
