"""The auto-reply reaction on the chat's buyer messages (registered with ``kefu.chat.hooks``)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.autoreply import service
from kefu.chat import hooks
from kefu.chat import service as chat

# Cards and nudges are not questions; text messages are.
ANSWERABLE_KINDS = frozenset({"text"})


async def answer_buyer_message(session: AsyncSession, posted: hooks.MessagePosted) -> None:
    # The settings and the rules' version in one query; no rule changes before decide().
    settings, rules_version = await service.settings_and_rules_version(session,
                                                                       posted.store_id)
    if posted.wait_started:
        # Once per wait: outside working hours the off-hours notice; else the welcome, unless
        # this buyer was welcomed a little while ago (welcome_repeat_hours).
        if not posted.store_open and settings.off_hours_enabled:
            await _send(session, posted, settings.off_hours_text, "off_hours")
        elif posted.store_open and settings.welcome_enabled \
                and not await service.welcomed_recently(session, posted.conversation_id):
            await _send(session, posted, settings.welcome_text, "welcome")
    if posted.kind not in ANSWERABLE_KINDS or not (posted.text or "").strip():
        return
    decision = await service.decide(session, posted.store_id, posted.text or "",
                                    product_id=posted.product_id,
                                    rules_version=rules_version, settings=settings)
    if decision.reply_kind == "after_sales" and decision.reply_text:
        link = f"/orders/{posted.order_id}" if posted.order_id else "/orders"
        await _send(session, posted, decision.reply_text, "after_sales",
                    data={"link": link, "category": decision.after_sales,
                          "order_id": posted.order_id})
    elif decision.reply_kind in ("faq", "keyword") and decision.reply_text \
            and decision.match is not None and decision.match.entry is not None:
        entry = decision.match.entry
        await _send(session, posted, decision.reply_text, decision.reply_kind,
                    data={"rule_id": int(entry.key) if entry.key.isdigit() else None,
                          "question": entry.question, "score": round(decision.match.score, 4)},
                    rule_id=int(entry.key) if entry.key.isdigit() else None,
                    intent=entry.intent, score=decision.match.score)


async def _send(session: AsyncSession, posted: hooks.MessagePosted, text: str, kind: str, *,
                data: dict[str, object] | None = None, rule_id: int | None = None,
                intent: str | None = None, score: float | None = None) -> None:
    if not text.strip():
        return
    await chat.post_auto_reply(session, posted.conversation_id, text, kind, data=data)
    await service.log_reply(session, store_id=posted.store_id,
                            conversation_id=posted.conversation_id,
                            question_message_id=posted.message_id, kind=kind,
                            question_text=posted.text or "", rule_id=rule_id, intent=intent,
                            score=score)


def may_answer(session: AsyncSession, posted: hooks.MessagePosted) -> bool:
    """False only when this process's caches show that :func:`answer_buyer_message` would
    send nothing: no off-hours notice or welcome due, and no answer to the text."""
    cached = service.cached_settings(session, posted.store_id)
    if cached is None:
        return True
    settings, _rules_version = cached
    if posted.wait_started:
        if not posted.store_open and settings.off_hours_enabled:
            return True
        if posted.store_open and settings.welcome_enabled \
                and not service.known_welcomed(posted.conversation_id):
            return True
    if posted.kind not in ANSWERABLE_KINDS or not (posted.text or "").strip():
        return False
    decision = service.decide_from_cache(session, posted.store_id, posted.text or "",
                                         product_id=posted.product_id)
    return decision is None or decision.reply_text is not None


hooks.register_after_message("autoreply", answer_buyer_message, applies=may_answer)
