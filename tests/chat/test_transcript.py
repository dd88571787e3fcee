"""Signed transcripts: any edit fails verification; HTML copies are checked too."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from factories import make_buyer, make_user, principal
from kefu.accounts.roles import Role
from kefu.chat import service, transcript
from kefu.kit.errors import NotFound
from kefu.settings import get_settings

from .helpers import make_shop, open_chat, say


async def _signed(session: AsyncSession) -> tuple[dict[str, Any], Any]:
    shop = await make_shop(session)
    buyer = await make_buyer(session)
    chat = await open_chat(session, buyer, shop.store, product=shop.product)
    await say(session, buyer, chat.id, "收到的衣服有破洞</script><b>x</b>")
    await service.post_auto_reply(session, chat.id, "亲，请提供照片", "after_sales")
    await say(session, shop.agents[0], chat.id, "抱歉，给您退款")
    document = await service.export_transcript(session, principal(buyer), chat.id)
    return document, (shop, buyer, chat)


async def test_a_transcript_verifies_and_any_edit_fails(session: AsyncSession) -> None:
    document, (_shop, _buyer, chat) = await _signed(session)
    assert document["message_count"] == 4 and document["conversation"]["id"] == chat.id
    assert [m["kind"] for m in document["messages"]] == [
        "product_card", "text", "auto_reply", "text"]
    assert document["messages"][2]["label"] == "自动回复"
    # Through JSON and back, as a file would travel.
    travelled = json.loads(json.dumps(document, ensure_ascii=False, indent=2))
    ok = service.verify_transcript(travelled)
    assert ok.valid and ok.conversation_id == chat.id and ok.message_count == 4

    def edited(change: Any) -> dict[str, Any]:
        copied = copy.deepcopy(document)
        change(copied)
        return copied

    edits = [
        lambda d: d["messages"][3].update(text="不退款"),
        lambda d: d["messages"][1].update(text=d["messages"][1]["text"] + " "),
        lambda d: d["messages"].pop(2),
        lambda d: d["messages"].reverse(),
        lambda d: d["messages"][0]["product"].update(price_fen=1),
        lambda d: d["conversation"].update(buyer_name="别人"),
        lambda d: d.update(message_count=3),
        lambda d: d.update(extra="field"),
        lambda d: d["signature"].update(value="0" * 64),
        lambda d: d["signature"].update(key_id="other"),
        lambda d: d.pop("signature"),
    ]
    for change in edits:
        assert not service.verify_transcript(edited(change)).valid
    for junk in ([], "text", None, {"format": "other"}):
        assert not service.verify_transcript(junk).valid


async def test_another_servers_key_does_not_verify(session: AsyncSession,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    document, _ = await _signed(session)
    monkeypatch.setattr(get_settings(), "secret_key", "another-server")
    result = service.verify_transcript(document)
    assert not result.valid and result.reason == "unknown_key"


async def test_the_printable_copy_is_checked_character_by_character(
        session: AsyncSession) -> None:
    document, _ = await _signed(session)
    html = transcript.render_html(document)
    assert "收到的衣服有破洞&lt;/script&gt;" in html and "<b>x</b>" not in html.split(
        '<script type="application/json"')[0]
    assert service.verify_transcript_html(html).valid
    visible, embedded = html.split('<script type="application/json"')
    # The visible text edited, the signed JSON left alone:
    tampered = visible.replace("抱歉，给您退款", "抱歉，不给退款") + \
        '<script type="application/json"' + embedded
    result = service.verify_transcript_html(tampered)
    assert not result.valid and result.reason == "html_edited"
    # Both edited: the signature no longer matches.
    both = html.replace("抱歉，给您退款", "抱歉，不给退款")
    assert service.verify_transcript_html(both).reason == "signature_mismatch"
    assert not service.verify_transcript_html("<html>nothing</html>").valid


async def test_who_may_export(session: AsyncSession) -> None:
    _document, (shop, buyer, chat) = await _signed(session)
    staff = await make_user(session, Role.PLATFORM_SUPERVISOR)
    for reader in (staff, shop.owner, shop.agents[0]):
        assert service.verify_transcript(
            await service.export_transcript(session, principal(reader), chat.id)).valid
    store_copy = await service.export_transcript(session, principal(shop.owner), chat.id)
    assert store_copy["exported_by"]["role"] == "merchant_owner"
    for outsider in (await make_buyer(session), (await make_shop(session)).owner):
        with pytest.raises(NotFound):
            await service.export_transcript(session, principal(outsider), chat.id)
    assert buyer.id == chat.buyer_id
