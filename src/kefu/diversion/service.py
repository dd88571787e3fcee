"""Diversion policy: screen chat messages, record violations, penalise fairly, hear appeals.

- A merchant message with contact details is not delivered; the merchant is told why.
- A buyer message with contact details is delivered with a warning to the buyer.
- Every hit is a violation with its evidence. A store's first counted violation in
  ``violation_warning_window_days`` is a warning; later ones are a fine from the deposit
  (``diversion_fine_fen``) and a search demotion for ``demotion_days``.
- A merchant may appeal; a platform agent may reverse a penalty at any time: the fine comes
  back by a ledger reversal and the demotion ends.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.accounts.roles import SYSTEM_ROLE, Principal, Role
from kefu.deposit import service as deposit
from kefu.diversion import repository
from kefu.diversion.detector import Verdict, default_detector
from kefu.diversion.models import Violation
from kefu.kit import audit, clock
from kefu.kit.errors import Forbidden, InvalidInput, NotFound, _
from kefu.kit.statemachine import StateMachine, transition
from kefu.marketplace import ranking
from kefu.marketplace import service as marketplace
from kefu.notifications import service as notifications
from kefu.settings import get_settings

PLATFORM = (Role.PLATFORM_AGENT, Role.PLATFORM_SUPERVISOR, Role.PLATFORM_ADMIN)
VIOLATION_MACHINE = StateMachine(
    "violation", ["active", "appealed", "reversed", "upheld"],
    [
        transition("appeal", ["active"], "appealed", [Role.MERCHANT_OWNER, Role.MERCHANT_AGENT]),
        transition("reverse", ["active", "appealed", "upheld"], "reversed", PLATFORM),
        transition("uphold", ["appealed"], "upheld", PLATFORM),
    ],
)
CHANNEL_LABELS = {
    "wechat": _("微信"), "qq": "QQ", "phone": _("电话"), "external_platform": _("其他平台"),
    "link": _("站外链接"), "qr": _("二维码"), "other": _("其他联系方式"),
}
BUYER_WARNING = "为保障您的权益，请勿通过微信、QQ、电话等站外方式联系或交易，平台无法保障站外交易"


@dataclass(frozen=True)
class MessageVerdict:
    """What the policy decided about one message."""

    blocked: bool
    warning: str | None
    violation: Violation | None
    verdict: Verdict


def check_text(text: str, recent: Sequence[str] = ()) -> Verdict:
    return default_detector().detect(text, tuple(recent))


def text_needs_screening(text: str) -> bool:
    """Whether :func:`screen_message` could act on this text: a hit on its own, or a text
    that could continue a contact split over several messages. Pure and quick."""
    return check_text(text).is_diversion or default_detector().wants_window(text)


def check_image(data: bytes) -> Verdict:
    return default_detector().detect_image(data)


async def screen_message(session: AsyncSession, *, store_id: int, sender_id: int,
                         sender_side: str, text: str | None, recent_texts: Sequence[str] = (),
                         image: bytes | None = None, image_path: str | None = None,
                         conversation_id: int | None = None,
                         client_msg_id: str | None = None,
                         load_recent_texts: Callable[[], Awaitable[Sequence[str]]] | None = None
                         ) -> MessageVerdict | None:
    """Check a message before it is delivered; record and penalise a hit. The sender's
    recent texts are given, or read through ``load_recent_texts`` only when this message
    could continue a contact split over messages."""
    verdict = None
    if text:
        verdict = check_text(text, recent_texts)
        if not verdict.is_diversion and load_recent_texts is not None \
                and default_detector().wants_window(text):
            recent_texts = tuple(await load_recent_texts())
            if recent_texts:
                verdict = check_text(text, recent_texts)
    if (verdict is None or not verdict.is_diversion) and image:
        verdict = check_image(image)
    if verdict is None or not verdict.is_diversion:
        return None
    if not recent_texts and load_recent_texts is not None:
        recent_texts = tuple(await load_recent_texts())  # the context, kept as evidence
    if conversation_id is not None and client_msg_id:
        earlier = await repository.by_attempt(session, conversation_id, sender_id, client_msg_id)
        if earlier is not None:  # the client retried the same refused message
            return MessageVerdict(sender_side == "store",
                                  None if sender_side == "store" else BUYER_WARNING,
                                  earlier, verdict)
    violation = await record_violation(
        session, store_id=store_id, sender_id=sender_id, sender_side=sender_side,
        verdict=verdict, message_text=text or "", window_texts=list(recent_texts),
        image_path=image_path, conversation_id=conversation_id,
        delivered=sender_side != "store", client_msg_id=client_msg_id)
    if sender_side == "store":
        return MessageVerdict(True, None, violation, verdict)
    return MessageVerdict(False, BUYER_WARNING, violation, verdict)


async def record_violation(session: AsyncSession, *, store_id: int, sender_id: int,
                           sender_side: str, verdict: Verdict, message_text: str,
                           window_texts: list[str], image_path: str | None,
                           conversation_id: int | None, delivered: bool,
                           client_msg_id: str | None = None) -> Violation:
    now = clock.now()
    violation = Violation(
        store_id=store_id, conversation_id=conversation_id, client_msg_id=client_msg_id,
        sender_id=sender_id,
        sender_side=sender_side, channel=verdict.channel or "other", rule=verdict.rule[:64],
        matched=(verdict.matched or "")[:200], reason=verdict.reason[:500],
        message_text=message_text[:2000], window_texts=window_texts[-10:] or None,
        image_path=image_path, used_window=verdict.used_window, delivered=delivered,
        created_at=now, penalty="none", fine_fen=0, status="active",
        details=verdict.to_dict())
    session.add(violation)
    await session.flush()
    if sender_side == "store":
        await _penalise(session, violation, now)
    await audit.record(session, subject_type="violation", subject_id=violation.id,
                       action="recorded", actor_id=None, actor_role=SYSTEM_ROLE,
                       to_state=violation.penalty,
                       data={"channel": violation.channel, "store_id": store_id})
    return violation


async def _penalise(session: AsyncSession, violation: Violation, now: datetime) -> None:
    settings = get_settings()
    # One store's penalties are decided one at a time, so two quick hits cannot both be
    # "the first" and both end as warnings.
    await marketplace.lock_store(session, violation.store_id)
    since = now - timedelta(days=settings.violation_warning_window_days)
    earlier = await repository.counted_store_violations(session, violation.store_id, since,
                                                        excluding=violation.id)
    if earlier == 0:
        violation.penalty = "warning"
        title, body = _("导流违规警告"), _("检测到站外联系方式（{channel}），消息未发送。"
                                          "30 天内再次违规将罚款并降权。")
    else:
        violation.penalty = "fine"
        violation.fine_fen = settings.diversion_fine_fen
        posting = await deposit.charge_fine(
            session, store_id=violation.store_id, amount_fen=settings.diversion_fine_fen,
            cause_key=f"violation:{violation.id}", note=f"导流违规 #{violation.id}")
        violation.fine_entry_id = posting.entry.id
        violation.demoted_until = now + timedelta(days=settings.demotion_days)
        title, body = _("导流违规处罚"), _("再次检测到站外联系方式（{channel}）：罚款 {fine} 元，"
                                          "搜索降权 {days} 天。可在违规记录中申诉。")
    for user_id in await marketplace.store_member_ids(session, violation.store_id):
        await notifications.notify(
            session, user_id, kind="diversion_penalty", title=title, body=body,
            params={"channel": CHANNEL_LABELS.get(violation.channel, violation.channel),
                    "fine": f"{settings.diversion_fine_fen / 100:.0f}",
                    "days": settings.demotion_days},
            link=f"/store/violations/{violation.id}")


async def list_violations(session: AsyncSession, actor: Principal, *,
                          store_id: int | None = None, channel: str | None = None,
                          status: str | None = None, side: str | None = None,
                          limit: int = 50, offset: int = 0) -> list[Violation]:
    if not (actor.is_platform or actor.is_merchant):
        raise Forbidden(_("您没有权限查看违规记录"))
    if channel and channel not in CHANNEL_LABELS:
        raise InvalidInput(_("未知的渠道"), code="bad_channel")
    if status and status not in VIOLATION_MACHINE.states:
        raise InvalidInput(_("未知的状态"), code="bad_status")
    return await repository.list_visible(session, actor, store_id=store_id, channel=channel,
                                         status=status, side=side,
                                         limit=min(max(limit, 1), 200), offset=max(offset, 0))


async def get_violation(session: AsyncSession, actor: Principal, violation_id: int) -> Violation:
    violation = await repository.visible(session, actor, violation_id)
    if violation is None:
        raise NotFound(_("违规记录不存在"))
    return violation


async def _transition(session: AsyncSession, actor: Principal, violation_id: int,
                      action: str, data: dict[str, Any] | None = None
                      ) -> tuple[Violation, bool]:
    await get_violation(session, actor, violation_id)
    violation = await repository.lock(session, violation_id)
    assert violation is not None
    target = next(t.target for t in VIOLATION_MACHINE.transitions if t.action == action)
    if violation.status == target:
        return violation, False  # a retry
    t = VIOLATION_MACHINE.check(action, violation.status, actor.role)
    before = violation.status
    violation.status = t.target
    await audit.record(session, subject_type="violation", subject_id=violation.id, action=action,
                       actor_id=actor.user_id, actor_role=actor.role, from_state=before,
                       to_state=t.target, data=data)
    return violation, True


async def appeal(session: AsyncSession, actor: Principal, violation_id: int, text: str
                 ) -> Violation:
    text = text.strip()
    if not 5 <= len(text) <= 1000:
        raise InvalidInput(_("申诉理由须为 5–1000 个字"), code="bad_appeal")
    violation, changed = await _transition(session, actor, violation_id, "appeal")
    if changed:
        violation.appeal_text = text
        violation.appealed_at = clock.now()
    return violation


async def reverse(session: AsyncSession, actor: Principal, violation_id: int, note: str
                  ) -> Violation:
    """Undo a penalty: the fine comes back by a ledger entry and the demotion ends."""
    if not note.strip():
        raise InvalidInput(_("请填写处理说明"), code="note_required")
    violation, changed = await _transition(session, actor, violation_id, "reverse",
                                           {"note": note[:500]})
    if not changed:
        return violation
    now = clock.now()
    violation.decided_by_id = actor.user_id
    violation.decided_at = now
    violation.decision_note = note.strip()[:500]
    if violation.fine_entry_id is not None:
        posting = await deposit.reverse(session, entry_id=violation.fine_entry_id,
                                        cause_key=f"violation:{violation.id}",
                                        note=f"导流违规 #{violation.id} 撤销",
                                        actor_role=actor.role, actor_id=actor.user_id)
        violation.reversal_entry_id = posting.entry.id
    violation.demoted_until = None
    if violation.sender_side == "store":
        for user_id in await marketplace.store_member_ids(session, violation.store_id):
            await notifications.notify(session, user_id, kind="diversion_reversed",
                                       title=_("违规处罚已撤销"),
                                       body=_("违规记录 #{id} 已撤销，罚款已退回保证金"),
                                       params={"id": violation.id},
                                       link=f"/store/violations/{violation.id}")
    return violation


async def uphold(session: AsyncSession, actor: Principal, violation_id: int, note: str
                 ) -> Violation:
    if not note.strip():
        raise InvalidInput(_("请填写处理说明"), code="note_required")
    violation, changed = await _transition(session, actor, violation_id, "uphold",
                                           {"note": note[:500]})
    if changed:
        violation.decided_by_id = actor.user_id
        violation.decided_at = clock.now()
        violation.decision_note = note.strip()[:500]
        for user_id in await marketplace.store_member_ids(session, violation.store_id):
            await notifications.notify(session, user_id, kind="diversion_upheld",
                                       title=_("申诉未通过"),
                                       body=_("违规记录 #{id} 的申诉未通过：{note}"),
                                       params={"id": violation.id, "note": note[:200]},
                                       link=f"/store/violations/{violation.id}")
    return violation


async def demotion_weights(session: AsyncSession, store_ids: Sequence[int], now: datetime
                           ) -> dict[int, ranking.WeightFactor]:
    """Store weight provider: a demoted store ranks much lower until the demotion ends."""
    factor = get_settings().demotion_weight
    return {store_id: ranking.WeightFactor(factor, "导流违规降权中", until)
            for store_id, until in (await repository.demotions(session, store_ids, now)).items()}


ranking.register_weight_provider("diversion_demotion", demotion_weights)
