"""Chat service: conversations, messages, cards, idempotency, scope, screens, reactions,
read marks, nudges, images, quick replies, hours, query counts."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import event, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from conftest import commit, is_postgres
from factories import make_buyer, make_order, make_product, make_user, principal
from kefu.accounts.roles import Role
from kefu.chat import hooks, service
from kefu.chat.models import Conversation, Message
from kefu.chat.schemas import DayHoursIO, HolidayIO
from kefu.kit import clock as clock_module
from kefu.kit.db import Database
from kefu.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from kefu.kit.models import AuditEvent

from .helpers import StatementCounter, capture, make_shop, open_chat, say


async def _seqs(session: AsyncSession, conversation_id: int) -> list[int]:
    rows = await session.execute(select(Message.seq).where(
        Message.conversation_id == conversation_id).order_by(Message.seq))
    return list(rows.scalars())


# --- conversations and cards ----------------------------------------------------------------


async def test_buyer_opens_from_a_product_page_once_per_store(session: AsyncSession) -> None:
    shop = await make_shop(session)
    buyer = await make_buyer(session)
    opened = await open_chat(session, buyer, shop.store, product=shop.product)
    assert opened.store_name == shop.store.name and opened.buyer_name == buyer.display_name
    assert opened.last_seq == 1 and opened.product_id == shop.product.id
    card = opened.last_message
    assert card is not None and card.kind == "product_card" and card.sender_side == "buyer"
    assert card.product is not None and card.product.title == shop.product.title
    assert card.product.price_fen == shop.product.price_fen
    # Same page again: same conversation, no second card.
    again = await open_chat(session, buyer, shop.store, product=shop.product)
    assert again.id == opened.id and again.last_seq == 1
    other = await make_product(session, shop.owner, title="碎花连衣裙")
    third = await open_chat(session, buyer, shop.store, product=other)
    assert third.id == opened.id and third.last_seq == 2 and third.product_id == other.id


async def test_order_card_only_for_the_buyers_own_order_of_that_store(
        session: AsyncSession) -> None:
    shop = await make_shop(session)
    buyer, stranger = await make_buyer(session), await make_buyer(session)
    order = await make_order(session, buyer, shop.product)
    opened = await service.open_conversation(session, principal(buyer), shop.store.id,
                                             order_id=order.id)
    assert opened.last_message is not None and opened.last_message.kind == "order_card"
    assert opened.last_message.order is not None
    assert opened.last_message.order.order_no == order.order_no
    assert opened.order_id == order.id
    with pytest.raises(InvalidInput) as refused:
        await service.open_conversation(session, principal(stranger), shop.store.id,
                                        order_id=order.id)
    assert refused.value.code == "order_not_allowed"
    other_shop = await make_shop(session, agents=0)
    with pytest.raises(InvalidInput):
        await service.open_conversation(session, principal(buyer), other_shop.store.id,
                                        order_id=order.id)
    with pytest.raises(InvalidInput):  # a product of another store
        await service.open_conversation(session, principal(buyer), other_shop.store.id,
                                        product_id=shop.product.id)


async def test_only_buyers_open_conversations(session: AsyncSession) -> None:
    shop = await make_shop(session)
    with pytest.raises(Forbidden):
        await service.open_conversation(session, principal(shop.agents[0]), shop.store.id)
    with pytest.raises(NotFound):
        await service.open_conversation(session, principal(await make_buyer(session)), 999_999)


# --- messages -------------------------------------------------------------------------------


async def test_messages_are_numbered_without_gaps_and_resends_return_the_original(
        session: AsyncSession) -> None:
    shop = await make_shop(session)
    buyer = await make_buyer(session)
    chat = await open_chat(session, buyer, shop.store)
    first = await say(session, buyer, chat.id, "在吗？", client_msg_id="m-1")
    reply = await say(session, shop.agents[0], chat.id, "在的，亲")
    again = await say(session, buyer, chat.id, "在吗？（重发）", client_msg_id="m-1")
    assert first.created and not again.created
    assert again.message.id == first.message.id and again.message.text == "在吗？"
    assert [first.message.seq, reply.message.seq] == [1, 2]
    assert await _seqs(session, chat.id) == [1, 2]
    view = await service.get_conversation(session, principal(buyer), chat.id)
    assert view.last_seq == 2 and view.buyer_read_seq == 1 and view.store_read_seq == 2
    assert view.unread_count == 1  # the agent's reply
    # The same client id from another sender is another message.
    other = await say(session, shop.agents[0], chat.id, "还有什么问题吗", client_msg_id="m-1")
    assert other.created and other.message.seq == 3


async def test_bad_input_is_refused_and_changes_nothing(session: AsyncSession) -> None:
    shop = await make_shop(session)
    buyer = await make_buyer(session)
    chat = await open_chat(session, buyer, shop.store)
    for text, code in [("   ", "empty_message"), ("好" * 2001, "message_too_long")]:
        with pytest.raises(InvalidInput) as error:
            await say(session, buyer, chat.id, text)
        assert error.value.code == code
    with pytest.raises(InvalidInput):
        await service.send_message(session, principal(buyer), chat.id, client_msg_id="x y",
                                   text="hi")
    with pytest.raises(InvalidInput):
        await service.send_message(session, principal(buyer), chat.id, client_msg_id="k",
                                   kind="sticker", text="hi")
    with pytest.raises(InvalidInput):
        await service.send_message(session, principal(buyer), chat.id, client_msg_id="k",
                                   kind="product_card")
    assert await _seqs(session, chat.id) == []
    cleaned = await say(session, buyer, chat.id, "你好\x00\x07！\n第二行")
    assert cleaned.message.text == "你好！\n第二行"


async def test_conversations_are_scoped(session: AsyncSession) -> None:
    shop = await make_shop(session)
    other_shop = await make_shop(session)
    buyer, other_buyer = await make_buyer(session), await make_buyer(session)
    chat = await open_chat(session, buyer, shop.store)
    await say(session, buyer, chat.id, "请问有L码吗")
    for outsider in (other_buyer, other_shop.agents[0], other_shop.owner):
        with pytest.raises(NotFound):
            await service.get_conversation(session, principal(outsider), chat.id)
        with pytest.raises(NotFound):
            await service.list_messages(session, principal(outsider), chat.id)
        with pytest.raises((NotFound, Forbidden)):
            await say(session, outsider, chat.id, "hi")
        assert chat.id not in [c.id for c in await service.list_conversations(
            session, principal(outsider))]
        assert await service.search(session, principal(outsider), "L码") == []
    staff = await make_user(session, Role.PLATFORM_AGENT)
    page = await service.list_messages(session, principal(staff), chat.id)
    assert [m.text for m in page.messages] == ["请问有L码吗"]
    with pytest.raises(Forbidden):
        await say(session, staff, chat.id, "平台客服介入")
    with pytest.raises(Forbidden):
        await service.mark_read(session, principal(staff), chat.id, 1)


async def test_agents_speak_in_their_own_or_queued_conversations(session: AsyncSession) -> None:
    shop = await make_shop(session, agents=2)
    first, second = shop.agents
    buyer = await make_buyer(session)
    chat = await open_chat(session, buyer, shop.store)
    assigned = chat.assigned_agent_id
    other = second if assigned == first.id else first
    with pytest.raises(Forbidden) as error:
        await say(session, other, chat.id, "我来回答")
    assert error.value.code == "assigned_to_other"
    # The owner may speak anywhere; agents may still read it.
    await say(session, shop.owner, chat.id, "店主来了")
    assert (await service.list_messages(session, principal(other), chat.id)).messages


async def test_history_pages_in_seq_order(session: AsyncSession) -> None:
    shop = await make_shop(session)
    buyer = await make_buyer(session)
    chat = await open_chat(session, buyer, shop.store)
    for n in range(1, 8):
        await say(session, buyer, chat.id, f"消息{n}")
    me = principal(buyer)
    latest = await service.list_messages(session, me, chat.id, limit=3)
    assert [m.seq for m in latest.messages] == [5, 6, 7] and latest.has_more
    older = await service.list_messages(session, me, chat.id, before_seq=5, limit=3)
    assert [m.seq for m in older.messages] == [2, 3, 4] and older.has_more
    oldest = await service.list_messages(session, me, chat.id, before_seq=2, limit=3)
    assert [m.seq for m in oldest.messages] == [1] and not oldest.has_more
    after = await service.list_messages(session, me, chat.id, after_seq=4, limit=2)
    assert [m.seq for m in after.messages] == [5, 6] and after.has_more
    tail = await service.list_messages(session, me, chat.id, after_seq=6, limit=50)
    assert [m.seq for m in tail.messages] == [7] and not tail.has_more
    with pytest.raises(InvalidInput):
        await service.list_messages(session, me, chat.id, after_seq=-1)


# --- auto-replies and system notes ------------------------------------------------------------


async def test_auto_replies_are_labelled_and_do_not_end_the_wait(session: AsyncSession) -> None:
    shop = await make_shop(session)
    buyer = await make_buyer(session)
    chat = await open_chat(session, buyer, shop.store)
    await say(session, buyer, chat.id, "发什么快递？")
    auto = await service.post_auto_reply(session, chat.id, "默认发中通快递", "faq",
                                         data={"rule_id": 3})
    view = await service.get_conversation(session, principal(buyer), chat.id)
    assert view.waiting_since is not None  # still waiting for a human
    out = view.last_message
    assert out is not None and out.id == auto.id and out.is_auto_reply
    assert out.label == "自动回复" and out.auto_reply_kind == "faq"
    assert out.sender_side == "store" and out.sender_name == shop.store.name
    assert await service.auto_reply_sent_in_open_wait(session, chat.id, "faq")
    assert not await service.auto_reply_sent_in_open_wait(session, chat.id, "off_hours")
    with pytest.raises(InvalidInput):
        await service.post_auto_reply(session, chat.id, "hi", "made_up")
    note = await service.post_system_note(session, chat.id, "买家发起了售后申请")
    assert note.sender_side == "system" and note.seq == 3


# --- screens and reactions ------------------------------------------------------------------


async def test_a_blocking_screen_stores_nothing_in_the_conversation(
        session: AsyncSession) -> None:
    shop = await make_shop(session)
    buyer = await make_buyer(session)
    chat = await open_chat(session, buyer, shop.store)
    await say(session, buyer, chat.id, "可以便宜点吗")
    seen: list[hooks.ScreenContext] = []

    async def no_wechat(s: AsyncSession, ctx: hooks.ScreenContext) -> hooks.Screening | None:
        seen.append(ctx)
        if ctx.sender_side == "store" and "vx" in (ctx.text or ""):
            s.add(AuditEvent(subject_type="violation", subject_id=ctx.store_id,
                             action="blocked", actor_id=ctx.sender_id, actor_role="test",
                             created_at=clock_module.now()))
            return hooks.Screening("block", code="wechat", reason="消息未发送：包含{label}",
                                   details={"channel": "wechat", "matched": "vx",
                                            "label": "微信"})
        return None

    hooks.register_screen("test", no_wechat)
    agent = shop.agents[0]
    await say(session, agent, chat.id, "亲，可以的")
    with pytest.raises(service.MessageBlocked) as blocked:
        await say(session, agent, chat.id, "加我vx: abc123", client_msg_id="blocked-1")
    error = blocked.value
    assert error.status_code == 422 and error.code == "diversion_blocked"
    assert error.details["channel"] == "wechat" and error.details["rule"] == "wechat"
    assert error.render() == "消息未发送：包含微信"
    assert session.info.pop("commit_on_error") is True  # the screen's record is kept
    assert await _seqs(session, chat.id) == [1, 2]
    kept = await session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.subject_type == "violation"))
    assert kept == 1
    context = seen[-1]
    assert context.sender_side == "store" and context.kind == "text"
    assert await context.recent_texts() == ("亲，可以的",)
    assert context.client_msg_id == "blocked-1"
    assert context.buyer_id == buyer.id and context.store_id == shop.store.id


async def test_a_warning_is_shown_to_its_sender_only(session: AsyncSession) -> None:
    shop = await make_shop(session)
    buyer = await make_buyer(session)
    chat = await open_chat(session, buyer, shop.store)

    async def warn_buyers(_s: AsyncSession, ctx: hooks.ScreenContext) -> hooks.Screening:
        return hooks.Screening("warn", reason="请勿站外交易") if ctx.sender_side == "buyer" \
            else hooks.Screening("deliver")

    hooks.register_screen("warn", warn_buyers)
    buyer_events = await capture(f"user:{buyer.id}")
    store_events = await capture(f"store:{shop.store.id}:owners")
    posted = await say(session, buyer, chat.id, "我微信是 abc")
    await commit(session)
    assert posted.message.warning == "请勿站外交易"
    as_agent = await service.list_messages(session, principal(shop.agents[0]), chat.id)
    assert as_agent.messages[-1].warning is None
    as_buyer = await service.list_messages(session, principal(buyer), chat.id)
    assert as_buyer.messages[-1].warning == "请勿站外交易"
    sent_to_buyer = [e for e in buyer_events.drain() if e["type"] == "message"]
    sent_to_store = [e for e in store_events.drain() if e["type"] == "message"]
    assert sent_to_buyer[-1]["message"]["warning"] == "请勿站外交易"
    assert sent_to_store[-1]["message"]["warning"] is None


async def test_a_failing_screen_does_not_stop_chat(session: AsyncSession) -> None:
    shop = await make_shop(session)
    buyer = await make_buyer(session)
    chat = await open_chat(session, buyer, shop.store)

    async def broken(_s: AsyncSession, _ctx: hooks.ScreenContext) -> hooks.Screening:
        raise RuntimeError("detector bug")

    hooks.register_screen("broken", broken)
    posted = await say(session, buyer, chat.id, "还在吗")
    assert posted.created and posted.message.warning is None


async def test_after_message_reactions_answer_in_the_same_transaction(
        session: AsyncSession) -> None:
    shop = await make_shop(session)
    buyer = await make_buyer(session)
    chat = await open_chat(session, buyer, shop.store)
    seen: list[hooks.MessagePosted] = []

    async def welcome(s: AsyncSession, posted: hooks.MessagePosted) -> None:
        seen.append(posted)
        if posted.wait_started:
            await service.post_auto_reply(s, posted.conversation_id, "您好，欢迎光临", "welcome")

    async def broken(s: AsyncSession, posted: hooks.MessagePosted) -> None:
        await service.post_auto_reply(s, posted.conversation_id, "不该出现", "faq")
        raise RuntimeError("boom")

    hooks.register_after_message("welcome", welcome)
    hooks.register_after_message("broken", broken)
    buyer_events = await capture(f"user:{buyer.id}")
    await say(session, buyer, chat.id, "你好")
    await commit(session)
    # The conversation's update is not lost with the failed reaction's events (it rides on
    # the last message event that really goes out: the welcome).
    sent = buyer_events.drain()
    assert [e["message"]["text"] for e in sent if e["type"] == "message"] == [
        "你好", "您好，欢迎光临"]
    updates = [e["conversation"] for e in sent if "conversation" in e]
    assert updates and updates[-1]["last_seq"] == 2
    await say(session, buyer, chat.id, "有优惠吗")
    await say(session, shop.agents[0], chat.id, "有的")  # store messages trigger nothing
    assert [(p.seq, p.wait_started, p.first_in_conversation, p.store_open) for p in seen] == [
        (1, True, True, True), (3, False, False, True)]
    texts = [m.text for m in (await service.list_messages(session, principal(buyer),
                                                          chat.id)).messages]
    assert texts == ["你好", "您好，欢迎光临", "有优惠吗", "有的"]
    assert await _seqs(session, chat.id) == [1, 2, 3, 4]


async def test_screens_and_reactions_that_do_not_apply_are_skipped_without_a_savepoint(
        session: AsyncSession) -> None:
    shop = await make_shop(session)
    buyer = await make_buyer(session)
    chat = await open_chat(session, buyer, shop.store)
    screened: list[str | None] = []
    reacted: list[str | None] = []

    async def screen(_s: AsyncSession, ctx: hooks.ScreenContext) -> hooks.Screening:
        screened.append(ctx.text)
        return hooks.Screening("warn", reason="看到问号了")

    async def react(s: AsyncSession, posted: hooks.MessagePosted) -> None:
        reacted.append(posted.text)
        await service.post_auto_reply(s, posted.conversation_id, "优惠见首页", "faq")

    def broken_check(_s: AsyncSession, _posted: hooks.MessagePosted) -> bool:
        raise RuntimeError("check bug")

    async def never(_s: AsyncSession, _posted: hooks.MessagePosted) -> None:
        raise AssertionError("its check failed: it must not run")

    hooks.register_screen("questions", screen, applies=lambda ctx: "？" in (ctx.text or ""))
    hooks.register_after_message("deals", react,
                                 applies=lambda _s, posted: "优惠" in (posted.text or ""))
    hooks.register_after_message("broken-check", never, applies=broken_check)
    savepoints: list[bool] = []

    def count_savepoints(_session: object, transaction: object) -> None:
        savepoints.append(bool(getattr(transaction, "nested", False)))

    sync_session = session.sync_session
    event.listen(sync_session, "after_transaction_create", count_savepoints)
    try:
        plain = await say(session, buyer, chat.id, "随便看看")
        assert not any(savepoints)  # nothing applied: no savepoint was begun
        asked = await say(session, buyer, chat.id, "有优惠吗？")
    finally:
        event.remove(sync_session, "after_transaction_create", count_savepoints)
    assert plain.message.warning is None and asked.message.warning == "看到问号了"
    assert screened == ["有优惠吗？"] and reacted == ["有优惠吗？"]
    texts = [m.text for m in (await service.list_messages(session, principal(buyer),
                                                          chat.id)).messages]
    assert texts == ["随便看看", "有优惠吗？", "优惠见首页"]


async def test_a_message_leaves_nothing_for_the_commit_to_flush(session: AsyncSession) -> None:
    # The conversation's counters are written by a plain UPDATE and marked written, as a
    # flush would: an object left marked modified costs every commit an empty flush.
    shop = await make_shop(session)
    buyer = await make_buyer(session)
    chat = await open_chat(session, buyer, shop.store)
    await commit(session)
    await say(session, buyer, chat.id, "还有货吗")
    assert not session.dirty and not session.new
    await commit(session)
    await say(session, shop.agents[0], chat.id, "有的")
    assert not session.dirty and not session.new


# --- read marks, events ---------------------------------------------------------------------


async def test_read_marks_only_move_forward_and_are_pushed(session: AsyncSession) -> None:
    shop = await make_shop(session)
    buyer = await make_buyer(session)
    chat = await open_chat(session, buyer, shop.store)
    agent = shop.agents[0]
    for text in ("一", "二", "三"):
        await say(session, buyer, chat.id, text)
    store_view = (await service.list_conversations(session, principal(agent)))[0]
    assert store_view.unread_count == 3
    events = await capture(f"user:{buyer.id}")
    assert await service.mark_read(session, principal(agent), chat.id, 2) == 2
    assert await service.mark_read(session, principal(agent), chat.id, 1) == 2
    assert await service.mark_read(session, principal(agent), chat.id, 99) == 3
    await commit(session)
    reads = [e for e in events.drain() if e["type"] == "read"]
    assert reads == [{"type": "read", "conversation_id": chat.id, "side": "store", "seq": 2},
                     {"type": "read", "conversation_id": chat.id, "side": "store", "seq": 3}]
    assert (await service.list_conversations(session, principal(agent)))[0].unread_count == 0


async def test_a_drifted_unread_count_is_repaired_by_reading_and_never_goes_negative(
        session: AsyncSession) -> None:
    """Counts a server of the release before them left wrong (it stored messages or moved
    marks without them, during an upgrade): a receipt never fails on them, and reading to
    the last message makes them right."""
    shop = await make_shop(session)
    buyer = await make_buyer(session)
    chat = await open_chat(session, buyer, shop.store)
    agent = principal(shop.agents[0])
    for text in ("一", "二", "三", "四"):
        await say(session, buyer, chat.id, text)

    async def drift(store_unread: int) -> None:
        await session.execute(update(Conversation).where(Conversation.id == chat.id)
                              .values(store_unread=store_unread))
        session.expire_all()

    async def shown() -> int:
        return (await service.list_conversations(session, agent))[0].unread_count

    await drift(1)  # two messages stored by an old server: too low
    assert await service.mark_read(session, agent, chat.id, 2) == 2  # passes two: not -1
    assert await shown() == 0
    await drift(9)  # marks moved by an old server: too high
    assert await service.mark_read(session, agent, chat.id, 3) == 3
    assert await shown() == 8  # a partial read only takes off what it passed
    assert await service.mark_read(session, agent, chat.id, 4) == 4
    assert await shown() == 0  # read to the end: right again


async def test_events_are_published_only_after_commit(session: AsyncSession, db: Database
                                                      ) -> None:
    shop = await make_shop(session)
    buyer = await make_buyer(session)
    chat = await open_chat(session, buyer, shop.store)
    await commit(session)
    agent = shop.agents[0]
    me = principal(buyer)  # the ORM objects expire on rollback
    events = await capture(f"user:{agent.id}")
    await service.send_message(session, me, chat.id, client_msg_id="r1", text="这条会回滚")
    assert events.drain() == []
    await session.rollback()
    session.info.pop("after_commit", None)  # what the request boundary does on rollback
    assert events.drain() == []
    await service.send_message(session, me, chat.id, client_msg_id="r2", text="这条会提交")
    await commit(session)
    got = events.drain()
    # One frame: the conversation's new state rides on its message event.
    assert [e["type"] for e in got] == ["message"]
    assert got[0]["message"]["text"] == "这条会提交"
    assert got[0]["conversation"]["id"] == chat.id and got[0]["conversation"]["waiting_since"]


# --- nudges ---------------------------------------------------------------------------------


async def test_nudge_once_per_wait_after_thirty_minutes(
        session: AsyncSession, clock: clock_module.TestClock) -> None:
    shop = await make_shop(session)
    buyer = await make_buyer(session)
    chat = await open_chat(session, buyer, shop.store)
    await say(session, buyer, chat.id, "请问什么时候发货")
    view = await service.get_conversation(session, principal(buyer), chat.id)
    assert view.nudge_available_at == clock.now() + timedelta(minutes=30)
    with pytest.raises(Conflict) as early:
        await service.nudge(session, principal(buyer), chat.id, client_msg_id="n1")
    assert early.value.code == "nudge_too_early"
    clock.advance(timedelta(minutes=30))
    nudged = await service.nudge(session, principal(buyer), chat.id, client_msg_id="n1")
    assert nudged.message.kind == "nudge" and nudged.message.text == "您好，请问在吗？"
    again = await service.nudge(session, principal(buyer), chat.id, client_msg_id="n1")
    assert not again.created and again.message.id == nudged.message.id
    with pytest.raises(Conflict) as twice:
        await service.nudge(session, principal(buyer), chat.id, client_msg_id="n2")
    assert twice.value.code == "nudge_used"
    assert (await service.get_conversation(session, principal(buyer), chat.id)
            ).nudge_available_at is None
    await say(session, shop.agents[0], chat.id, "今天发")
    with pytest.raises(Conflict) as answered:
        await service.nudge(session, principal(buyer), chat.id, client_msg_id="n3")
    assert answered.value.code == "no_open_wait"
    with pytest.raises(Forbidden):
        await service.nudge(session, principal(shop.agents[0]), chat.id, client_msg_id="n4")


# --- images ---------------------------------------------------------------------------------


def _png_with_exif() -> bytes:
    image = Image.new("RGB", (640, 480), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # camera make
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


async def test_images_are_checked_reencoded_and_thumbnailed(session: AsyncSession,
                                                            settings) -> None:  # type: ignore[no-untyped-def]
    shop = await make_shop(session)
    buyer = await make_buyer(session)
    chat = await open_chat(session, buyer, shop.store)
    data = _png_with_exif()
    posted = await service.send_image(session, principal(buyer), chat.id,
                                      client_msg_id="img-1", data=data)
    out = posted.message
    assert out.kind == "image" and out.image_url and out.thumbnail_url
    stored = (settings.upload_dir / out.image_url.removeprefix("/media/")).read_bytes()
    assert b"SecretCam" not in stored
    thumb = Image.open(settings.upload_dir / out.thumbnail_url.removeprefix("/media/"))
    assert max(thumb.size) <= 320
    with pytest.raises(InvalidInput) as not_image:
        await service.send_image(session, principal(buyer), chat.id, client_msg_id="img-2",
                                 data=b"GIF89a not really")
    assert not_image.value.code == "not_an_image"
    with pytest.raises(InvalidInput) as too_big:
        await service.send_image(session, principal(buyer), chat.id, client_msg_id="img-3",
                                 data=b"\xff" * (settings.image_max_bytes + 1))
    assert too_big.value.code == "image_too_large"
    assert await _seqs(session, chat.id) == [1]


# --- workbench ------------------------------------------------------------------------------


async def test_context_shows_the_buyers_orders_with_this_store(session: AsyncSession) -> None:
    shop = await make_shop(session)
    other_shop = await make_shop(session, agents=0)
    buyer = await make_buyer(session)
    mine = await make_order(session, buyer, shop.product)
    await make_order(session, buyer, other_shop.product)
    chat = await open_chat(session, buyer, shop.store, product=shop.product)
    context = await service.conversation_context(session, principal(shop.agents[0]), chat.id)
    assert [o.id for o in context.orders] == [mine.id]
    assert context.product is not None and context.product.id == shop.product.id
    assert context.buyer_name == buyer.display_name
    with pytest.raises(Forbidden):
        await service.conversation_context(session, principal(buyer), chat.id)


async def test_search_finds_text_in_visible_history(session: AsyncSession) -> None:
    shop = await make_shop(session)
    buyer = await make_buyer(session)
    chat = await open_chat(session, buyer, shop.store)
    await say(session, buyer, chat.id, "这件100%纯棉吗")
    await say(session, shop.agents[0], chat.id, "是的，100%纯棉")
    found = await service.search(session, principal(shop.owner), "100%纯棉")
    assert [m.seq for m in found] == [2, 1]
    assert await service.search(session, principal(buyer), "50%") == []  # % is literal
    with pytest.raises(InvalidInput):
        await service.search(session, principal(buyer), "  ")


async def test_quick_replies_store_wide_and_personal(session: AsyncSession) -> None:
    shop = await make_shop(session, agents=2)
    first, second = shop.agents
    store_wide = await service.add_quick_reply(session, principal(shop.owner), "亲，在的",
                                               "store")
    personal = await service.add_quick_reply(session, principal(first), "我是小王", "personal")
    with pytest.raises(Forbidden):
        await service.add_quick_reply(session, principal(first), "全店", "store")
    mine = await service.quick_replies(session, principal(first))
    theirs = await service.quick_replies(session, principal(second))
    assert [r.id for r in mine] == [store_wide.id, personal.id]
    assert [r.id for r in theirs] == [store_wide.id]
    with pytest.raises(NotFound):
        await service.delete_quick_reply(session, principal(second), personal.id)
    with pytest.raises(NotFound):
        await service.delete_quick_reply(session, principal(first), store_wide.id)
    await service.delete_quick_reply(session, principal(first), personal.id)
    await service.delete_quick_reply(session, principal(shop.owner), store_wide.id)
    assert await service.quick_replies(session, principal(first)) == []
    with pytest.raises(Forbidden):
        await service.quick_replies(session, principal(await make_buyer(session)))


async def test_store_hours_are_owner_editable_and_validated(session: AsyncSession) -> None:
    shop = await make_shop(session)
    default = await service.store_hours(session, shop.store.id)
    assert default.timezone == "Asia/Shanghai" and default.open_now
    assert [(d.opens, d.closes) for d in default.weekly] == [("09:00", "22:00")] * 7
    weekly = [DayHoursIO(weekday=i, opens="08:30", closes="24:00") for i in range(6)] + [
        DayHoursIO(weekday=6, closed=True)]
    holiday = HolidayIO(date=clock_module.now().date() + timedelta(days=1), closed=True,
                        note="端午节")
    changed = await service.set_store_hours(session, principal(shop.owner), weekly, [holiday])
    assert changed.weekly[0].closes == "24:00" and changed.weekly[6].closed
    assert [h.note for h in changed.holidays] == ["端午节"]
    with pytest.raises(Forbidden):
        await service.set_store_hours(session, principal(shop.agents[0]), weekly, [])
    bad_cases = [
        weekly[:6],
        [DayHoursIO(weekday=i, closed=True) for i in range(7)],
        [*weekly[:6], DayHoursIO(weekday=6, opens="22:00", closes="09:00")],
        [*weekly[:6], DayHoursIO(weekday=6, opens="25:00", closes="26:00")],
    ]
    for bad in bad_cases:
        with pytest.raises(InvalidInput):
            await service.set_store_hours(session, principal(shop.owner), bad, [])
    with pytest.raises(InvalidInput):
        await service.set_store_hours(session, principal(shop.owner), weekly,
                                      [holiday, holiday])
    assert (await service.store_hours(session, shop.store.id)).weekly[0].opens == "08:30"


# --- query counts ---------------------------------------------------------------------------


def fresh(session: AsyncSession) -> None:
    """Forget what the session remembers between statements, as a new request would."""
    for key in ("chat_names", "chat_schedules", "chat_last_posted", "chat_posted_by_seq"):
        session.info.pop(key, None)
    session.expunge_all()


async def test_the_send_path_and_the_inbox_take_a_fixed_number_of_queries(
        session: AsyncSession, db: Database) -> None:
    shop = await make_shop(session, capacity=50)
    agent = shop.agents[0]
    buyers = [await make_buyer(session) for _ in range(3)]
    chats = [await open_chat(session, b, shop.store) for b in buyers]
    for b, c in zip(buyers, chats, strict=True):
        await say(session, b, c.id, "第一条")
    await commit(session)
    fresh(session)
    with StatementCounter(db.engine) as steady:
        await say(session, buyers[0], chats[0].id, "第二条，等待已开始")
    # read conversation, resend check, lock, (PostgreSQL: resend re-check), insert message,
    # update conversation, the assignee's presence
    assert steady.count <= (7 if is_postgres() else 6), steady.statements
    fresh(session)
    with StatementCounter(db.engine) as reply:
        await say(session, agent, chats[0].id, "您好")
    # ending the wait: the store's hours (1), one update; the conversation event: user and
    # store names (1; the unread counts are kept on the conversation's row)
    assert reply.count <= (9 if is_postgres() else 8), reply.statements
    fresh(session)
    with StatementCounter(db.engine) as small_inbox:
        await service.list_conversations(session, principal(agent))
    for _ in range(12):
        b = await make_buyer(session)
        c = await open_chat(session, b, shop.store, product=shop.product)
        await say(session, b, c.id, "问一下")
    await commit(session)
    fresh(session)
    with StatementCounter(db.engine) as big_inbox:
        listed = await service.list_conversations(session, principal(agent))
    assert len(listed) == 15
    # conversations (with their unread counts), last messages, user names, store names
    assert big_inbox.count == small_inbox.count <= 4, big_inbox.statements


async def test_workbench_summary_counts_the_buyers_waiting(
        session: AsyncSession, clock: clock_module.TestClock, db: Database) -> None:
    shop = await make_shop(session, agents=1, capacity=2)
    agent = shop.agents[0]
    buyers = [await make_buyer(session) for _ in range(3)]
    chats = [await open_chat(session, b, shop.store) for b in buyers]  # the third is queued
    await say(session, buyers[0], chats[0].id, "一")
    await say(session, buyers[0], chats[0].id, "二")
    await say(session, buyers[1], chats[1].id, "在吗")
    await say(session, agent, chats[1].id, "在")
    clock.advance(timedelta(minutes=6))
    await say(session, buyers[2], chats[2].id, "有人吗")
    with StatementCounter(db.engine) as counted:
        mine = await service.workbench_summary(session, principal(agent))
    assert counted.count == 1  # the unread counts are kept on the rows
    # chats[0]: waiting, overdue, 2 unread; chats[1]: answered (read by answering);
    # chats[2]: queued, waiting, 1 unread
    assert (mine.open, mine.waiting_for_reply, mine.overdue, mine.queued, mine.unread) == (
        3, 2, 1, 1, 3)
    with pytest.raises(Forbidden):
        await service.workbench_summary(session, principal(buyers[0]))
