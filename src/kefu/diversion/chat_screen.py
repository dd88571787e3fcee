"""The diversion screen on the chat's send path (registered with ``kefu.chat.hooks``)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.chat import hooks
from kefu.diversion import service
from kefu.kit.errors import _


async def screen_chat_message(session: AsyncSession, ctx: hooks.ScreenContext
                              ) -> hooks.Screening | None:
    result = await service.screen_message(
        session, store_id=ctx.store_id, sender_id=ctx.sender_id, sender_side=ctx.sender_side,
        text=ctx.text, load_recent_texts=ctx.recent_texts, image=ctx.image,
        conversation_id=ctx.conversation_id, client_msg_id=ctx.client_msg_id,
        image_path=ctx.image_path)
    if result is None:
        return None
    verdict = result.verdict
    details = {
        "channel": verdict.channel, "matched": verdict.matched, "reason": verdict.reason,
        "rule": verdict.rule, "used_window": verdict.used_window,
        "violation_id": result.violation.id if result.violation else None,
        "penalty": result.violation.penalty if result.violation else None,
    }
    if result.blocked:
        return hooks.Screening(
            "block", code="diversion_blocked",
            reason=_("消息未发送：包含站外联系方式（{channel_label}）。请在平台内沟通，导流会被罚款并降权。"),
            details={**details, "channel_label": service.CHANNEL_LABELS.get(
                verdict.channel or "other", "")})
    return hooks.Screening("warn", code="diversion_warning", reason=service.BUYER_WARNING,
                           details=details)


def screen_applies(ctx: hooks.ScreenContext) -> bool:
    """Only images and texts that hit or could continue a split contact need the screen."""
    return bool(ctx.image) or (bool(ctx.text) and service.text_needs_screening(ctx.text or ""))


hooks.register_screen("diversion", screen_chat_message, applies=screen_applies)
