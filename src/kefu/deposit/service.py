"""Deposit (保证金) rules: every movement is an append-only, idempotent ledger entry.

The balance is never stored: it is the sum of the entries. A cause can move money once: the
same idempotency key posted again returns the first entry (and refuses if its amount differs).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.accounts.roles import SYSTEM_ROLE, Principal
from kefu.deposit import repository
from kefu.deposit.models import DepositEntry
from kefu.kit import audit, clock
from kefu.kit.errors import Conflict, Forbidden, InvalidInput, NotFound, _
from kefu.settings import get_settings

MAX_TOP_UP_FEN = 100_000_000  # one million yuan: a typo guard, not a business rule

_SIGN = {"top_up": 1, "fine": -1, "forced_refund": -1, "withdrawal": -1}


@dataclass(frozen=True)
class Posting:
    entry: DepositEntry
    created: bool


async def post(session: AsyncSession, *, store_id: int, kind: str, amount_fen: int,
               idempotency_key: str, actor_role: str, actor_id: int | None = None,
               note: str = "", reverses_entry_id: int | None = None) -> Posting:
    """Append one entry, or return the entry already posted for this key."""
    if kind not in (*_SIGN, "reversal"):
        raise InvalidInput(_("未知的保证金变动类型"), code="bad_kind")
    if kind != "reversal" and (amount_fen == 0 or (amount_fen > 0) != (_SIGN[kind] > 0)):
        raise InvalidInput(_("金额方向与变动类型不符"), code="bad_amount")
    if not idempotency_key or len(idempotency_key) > 128:
        raise InvalidInput(_("缺少幂等键"), code="bad_idempotency_key")
    new_id = await repository.insert_if_new(session, {
        "store_id": store_id, "kind": kind, "amount_fen": amount_fen,
        "idempotency_key": idempotency_key, "reverses_entry_id": reverses_entry_id,
        "note": note[:200], "actor_id": actor_id, "actor_role": actor_role,
        "created_at": clock.now(),
    })
    if new_id is not None:
        entry = await session.get(DepositEntry, new_id)
        assert entry is not None
        return Posting(entry, True)
    existing = await repository.by_key(session, idempotency_key)
    if existing is None and reverses_entry_id is not None:
        existing = await repository.reversal_of(session, reverses_entry_id)
    if existing is None:  # pragma: no cover - the conflict row vanished: ledgers never delete
        raise Conflict(_("保证金记账冲突，请重试"))
    if (existing.store_id, existing.kind, existing.amount_fen) != (store_id, kind, amount_fen):
        raise Conflict(_("同一幂等键已用于另一笔保证金变动"), code="idempotency_mismatch")
    return Posting(existing, False)


async def balance(session: AsyncSession, store_id: int) -> int:
    return await repository.balance(session, store_id)


async def balances(session: AsyncSession, store_ids: list[int]) -> dict[int, int]:
    return await repository.balances(session, store_ids)


async def meets_minimum(session: AsyncSession, store_id: int) -> bool:
    return await balance(session, store_id) >= get_settings().minimum_deposit_fen


async def require_minimum(session: AsyncSession, store_id: int) -> None:
    current = await balance(session, store_id)
    minimum = get_settings().minimum_deposit_fen
    if current < minimum:
        raise Conflict(
            _("保证金余额 {balance} 元低于最低要求 {minimum} 元，请先充值再发布新商品"),
            code="deposit_below_minimum", balance=f"{current / 100:.2f}",
            minimum=f"{minimum / 100:.2f}")


def _may_see(actor: Principal, store_id: int) -> bool:
    return actor.is_platform or actor.works_for(store_id)


async def ledger(session: AsyncSession, actor: Principal, store_id: int,
                 limit: int = 100) -> list[DepositEntry]:
    if not _may_see(actor, store_id):
        raise NotFound(_("店铺不存在"))
    return await repository.entries_for_store(session, store_id, limit)


async def top_up(session: AsyncSession, actor: Principal, *, store_id: int, amount_fen: int,
                 idempotency_key: str) -> Posting:
    """A store owner pays in (simulated payment), or platform admin books a payment."""
    if not (actor.is_platform_admin or (actor.is_store_owner and actor.store_id == store_id)):
        raise Forbidden(_("只有店主可以充值保证金"))
    if amount_fen <= 0 or amount_fen > MAX_TOP_UP_FEN:
        raise InvalidInput(_("充值金额须在 0.01 至 1,000,000 元之间"), code="bad_amount")
    posting = await post(session, store_id=store_id, kind="top_up", amount_fen=amount_fen,
                         idempotency_key=f"topup:{store_id}:{idempotency_key}",
                         actor_role=actor.role, actor_id=actor.user_id, note="充值")
    if posting.created:
        await audit.record(session, subject_type="store", subject_id=store_id,
                           action="deposit_top_up", actor_id=actor.user_id,
                           actor_role=actor.role, data={"amount_fen": amount_fen,
                                                        "entry_id": posting.entry.id})
    return posting


async def charge_fine(session: AsyncSession, *, store_id: int, amount_fen: int, cause_key: str,
                      note: str, actor_role: str = SYSTEM_ROLE,
                      actor_id: int | None = None) -> Posting:
    """Fine a store (called by the domain that decided the penalty)."""
    if amount_fen <= 0:
        raise InvalidInput(_("罚款金额必须大于 0"), code="bad_amount")
    return await post(session, store_id=store_id, kind="fine", amount_fen=-amount_fen,
                      idempotency_key=f"fine:{cause_key}", actor_role=actor_role,
                      actor_id=actor_id, note=note)


async def force_refund(session: AsyncSession, *, store_id: int, amount_fen: int, cause_key: str,
                       note: str, actor_role: str = SYSTEM_ROLE,
                       actor_id: int | None = None) -> Posting:
    """Take a refund the merchant failed to pay from the deposit (platform enforcement)."""
    if amount_fen <= 0:
        raise InvalidInput(_("退款金额必须大于 0"), code="bad_amount")
    return await post(session, store_id=store_id, kind="forced_refund", amount_fen=-amount_fen,
                      idempotency_key=f"forced_refund:{cause_key}", actor_role=actor_role,
                      actor_id=actor_id, note=note)


async def reverse(session: AsyncSession, *, entry_id: int, cause_key: str, note: str,
                  actor_role: str, actor_id: int | None = None) -> Posting:
    """Give back a fine or forced refund with an opposite entry; an entry is reversed once."""
    original = await session.get(DepositEntry, entry_id)
    if original is None:
        raise NotFound(_("保证金记录不存在"))
    if original.kind not in ("fine", "forced_refund"):
        raise InvalidInput(_("只有罚款或强制退款可以冲正"), code="not_reversible")
    return await post(session, store_id=original.store_id, kind="reversal",
                      amount_fen=-original.amount_fen, idempotency_key=f"reversal:{cause_key}",
                      actor_role=actor_role, actor_id=actor_id, note=note,
                      reverses_entry_id=original.id)
