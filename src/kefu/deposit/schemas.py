"""Deposit shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class EntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    amount_fen: int
    idempotency_key: str
    reverses_entry_id: int | None
    note: str
    created_at: datetime


class DepositOut(BaseModel):
    store_id: int
    balance_fen: int
    minimum_fen: int
    meets_minimum: bool
    entries: list[EntryOut]


class TopUpIn(BaseModel):
    amount_fen: int = Field(gt=0, le=100_000_000)
    idempotency_key: str = Field(min_length=1, max_length=64)
