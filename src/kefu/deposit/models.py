"""The store deposit (保证金) ledger: append-only entries in fen."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from kefu.kit.db import Base, BigIntId


class DepositEntry(Base):
    """One movement. Positive amounts add to the deposit, negative ones take from it.

    ``idempotency_key`` names the cause (``fine:violation:42``, ``topup:store:3:abc``), so the
    same cause can never move money twice, whichever process or retry gets there first.
    """

    __tablename__ = "deposit_entry"
    __table_args__ = (
        CheckConstraint("amount_fen <> 0", name="amount_not_zero"),
        CheckConstraint("kind IN ('top_up', 'fine', 'forced_refund', 'reversal', 'withdrawal')",
                        name="known_kind"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    store_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("store.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    reverses_entry_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("deposit_entry.id"), unique=True
    )
    note: Mapped[str] = mapped_column(String(200), default="")
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_role: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
