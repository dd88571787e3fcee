"""Signed chat transcripts: evidence for after-sales cases that nobody can edit unseen.

A transcript is a JSON document signed with HMAC-SHA256 over its canonical form (keys sorted,
no spaces, UTF-8). The key is derived from the server's secret key for this one purpose, so a
transcript signature can never be confused with a cookie or CSRF token; its ``key_id`` tells
which key signed it. The printable HTML carries the signed JSON inside it and is rendered
deterministically from it, so verifying an HTML copy checks the visible text too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment

from kefu.settings import get_settings

FORMAT = "kefu.chat.transcript/1"
ALGORITHM = "HMAC-SHA256"
_PURPOSE = b"kefu/chat/transcript/v1"


def _key() -> bytes:
    secret = get_settings().resolved_secret_key().encode()
    return hmac.new(secret, _PURPOSE, hashlib.sha256).digest()


def key_id(key: bytes | None = None) -> str:
    return hashlib.sha256(key or _key()).hexdigest()[:16]


def canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      allow_nan=False).encode()


def build(*, conversation: dict[str, Any], messages: list[dict[str, Any]],
          exported_at: datetime, exported_by: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "timezone": get_settings().timezone,
        "conversation": conversation,
        "messages": messages,
        "message_count": len(messages),
        "exported_at": exported_at.isoformat(),
        "exported_by": exported_by,
    }


def sign(body: dict[str, Any]) -> dict[str, Any]:
    key = _key()
    value = hmac.new(key, canonical(body), hashlib.sha256).hexdigest()
    return {**body, "signature": {"algorithm": ALGORITHM, "key_id": key_id(key),
                                  "value": value}}


@dataclass(frozen=True)
class Verification:
    valid: bool
    conversation_id: int | None = None
    message_count: int | None = None
    reason: str | None = None


def verify(document: Any) -> Verification:
    """Is this exactly a transcript this server signed? Any change — a character of a
    message, a message removed, a field added — makes it invalid."""
    if not isinstance(document, dict):
        return Verification(False, reason="not_a_transcript")
    signature = document.get("signature")
    body = {k: v for k, v in document.items() if k != "signature"}
    conversation = body.get("conversation")
    conversation_id = conversation.get("id") if isinstance(conversation, dict) else None
    conversation_id = conversation_id if isinstance(conversation_id, int) else None
    messages = body.get("messages")
    count = len(messages) if isinstance(messages, list) else None
    if body.get("format") != FORMAT or not isinstance(signature, dict):
        return Verification(False, conversation_id, count, "not_a_transcript")
    if signature.get("algorithm") != ALGORITHM:
        return Verification(False, conversation_id, count, "unknown_algorithm")
    key = _key()
    if signature.get("key_id") != key_id(key):
        return Verification(False, conversation_id, count, "unknown_key")
    value = signature.get("value")
    try:
        expected = hmac.new(key, canonical(body), hashlib.sha256).hexdigest()
    except (TypeError, ValueError):
        return Verification(False, conversation_id, count, "not_a_transcript")
    if not isinstance(value, str) or not hmac.compare_digest(expected, value):
        return Verification(False, conversation_id, count, "signature_mismatch")
    if count != body.get("message_count"):
        return Verification(False, conversation_id, count, "signature_mismatch")
    return Verification(True, conversation_id, count)


# --- printable HTML -------------------------------------------------------------------------

_TEMPLATE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>聊天记录 · {{ c.store_name }} · {{ c.buyer_name }}</title>
<style>
body{font-family:"PingFang SC","Microsoft YaHei","WenQuanYi Micro Hei",sans-serif;margin:24px;color:#222}
h1{font-size:20px;margin:0 0 8px}
.meta{font-size:12px;color:#555;margin-bottom:16px}
.meta dt{float:left;clear:left;width:7em;color:#888}
.meta dd{margin:0 0 2px 7.5em;word-break:break-all}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid #ddd;padding:6px 8px;text-align:left;vertical-align:top}
th{background:#f6f6f6}
.seq{color:#999;width:3em}
.when{white-space:nowrap;width:11em}
.who{white-space:nowrap;width:10em}
.label{display:inline-block;font-size:11px;color:#fff;background:#999;border-radius:3px;padding:0 4px;margin-left:4px}
.warning{color:#c60;font-size:12px}
.text{white-space:pre-wrap;word-break:break-word}
@media print{body{margin:0}.noprint{display:none}}
</style>
</head>
<body>
<h1>聊天记录</h1>
<dl class="meta">
<dt>店铺</dt><dd>{{ c.store_name }}（#{{ c.store_id }}）</dd>
<dt>买家</dt><dd>{{ c.buyer_name }}（#{{ c.buyer_id }}）</dd>
<dt>会话编号</dt><dd>{{ c.id }}</dd>
<dt>消息数</dt><dd>{{ doc.message_count }}</dd>
<dt>导出时间</dt><dd>{{ local(doc.exported_at) }}（{{ doc.timezone }}）</dd>
<dt>签名</dt><dd>{{ doc.signature.algorithm }} · {{ doc.signature.key_id }} · {{ doc.signature.value }}</dd>
</dl>
<table>
<thead><tr><th class="seq">#</th><th class="when">时间</th><th class="who">发送方</th><th>内容</th></tr></thead>
<tbody>
{%- for m in doc.messages %}
<tr>
<td class="seq">{{ m.seq }}</td>
<td class="when">{{ local(m.created_at) }}</td>
<td class="who">{{ m.sender_name }}{% if m.label %}<span class="label">{{ m.label }}</span>{% endif %}</td>
<td>
{%- if m.kind == "image" %}[图片] {{ m.image_url }}
{%- elif m.kind == "product_card" and m.product %}[商品] {{ m.product.title }} · ¥{{ yuan(m.product.price_fen) }} · #{{ m.product.id }}
{%- elif m.kind == "order_card" and m.order %}[订单] {{ m.order.order_no }} · {{ m.order.item_title }} · ¥{{ yuan(m.order.amount_fen) }} · {{ m.order.status_label }}
{%- else %}<span class="text">{{ m.text }}</span>{% endif %}
{%- if m.warning %}<div class="warning">{{ m.warning }}</div>{% endif -%}
</td>
</tr>
{%- endfor %}
</tbody>
</table>
<p class="meta noprint">本记录由 kefu 签名。核对方法：将下方的 JSON 或本页文件提交到 /api/transcripts/verify。</p>
<script type="application/json" id="kefu-transcript">{{ payload }}</script>
</body>
</html>
"""

_environment = Environment(autoescape=True, keep_trailing_newline=True)
_template = _environment.from_string(_TEMPLATE)
_EMBEDDED = re.compile(
    r'<script type="application/json" id="kefu-transcript">(.*?)</script>', re.DOTALL)


def _embed(document: dict[str, Any]) -> str:
    # "</" would end the script element early; "<\\/" is the same JSON string.
    return json.dumps(document, ensure_ascii=False, sort_keys=True).replace("</", "<\\/")


def render_html(document: dict[str, Any]) -> str:
    """A printable page of a signed transcript, rendered only from the document itself."""
    from markupsafe import Markup

    zone = ZoneInfo(str(document.get("timezone") or "Asia/Shanghai"))

    def local(value: str) -> str:
        try:
            return datetime.fromisoformat(value).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
        except (TypeError, ValueError):
            return str(value)

    def yuan(fen: int) -> str:
        return f"{fen / 100:.2f}"

    return _template.render(doc=document, c=document.get("conversation", {}), local=local,
                            yuan=yuan, payload=Markup(_embed(document)))


def extract_from_html(html: str) -> Any:
    match = _EMBEDDED.search(html)
    if match is None:
        return None
    try:
        return json.loads(match.group(1))
    except ValueError:
        return None


def verify_html(html: str) -> Verification:
    """Verify a printed transcript: its embedded JSON must be validly signed, and the page
    must be exactly what that JSON renders to (so the visible text was not edited either)."""
    document = extract_from_html(html)
    result = verify(document)
    if not result.valid:
        return result
    assert isinstance(document, dict)
    if render_html(document).replace("\r\n", "\n").strip() != html.replace("\r\n", "\n").strip():
        return Verification(False, result.conversation_id, result.message_count, "html_edited")
    return result
