"""The deposit ledger: append-only, idempotent, balance derived from entries."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from conftest import commit
from factories import make_store, principal
from kefu.deposit import service as deposit
from kefu.deposit.models import DepositEntry
from kefu.kit.db import Database
from kefu.kit.errors import Conflict, Forbidden, InvalidInput


async def test_balance_is_the_sum_of_entries(session: AsyncSession) -> None:
    store, owner = await make_store(session, deposit_fen=0)
    await deposit.top_up(session, principal(owner), store_id=store.id, amount_fen=150_000,
                         idempotency_key="a")
    await deposit.charge_fine(session, store_id=store.id, amount_fen=20_000,
                              cause_key="violation:1", note="导流")
    assert await deposit.balance(session, store.id) == 130_000
    assert await deposit.meets_minimum(session, store.id)


async def test_same_key_moves_money_once(session: AsyncSession) -> None:
    store, _owner = await make_store(session, deposit_fen=0)
    first = await deposit.charge_fine(session, store_id=store.id, amount_fen=20_000,
                                      cause_key="violation:7", note="x")
    again = await deposit.charge_fine(session, store_id=store.id, amount_fen=20_000,
                                      cause_key="violation:7", note="x")
    assert first.created and not again.created
    assert again.entry.id == first.entry.id
    assert await deposit.balance(session, store.id) == -20_000


async def test_same_key_with_other_amount_is_refused(session: AsyncSession) -> None:
    store, _owner = await make_store(session, deposit_fen=0)
    await deposit.charge_fine(session, store_id=store.id, amount_fen=20_000,
                              cause_key="violation:8", note="x")
    with pytest.raises(Conflict):
        await deposit.charge_fine(session, store_id=store.id, amount_fen=30_000,
                                  cause_key="violation:8", note="x")


async def test_reversal_returns_a_fine_once(session: AsyncSession) -> None:
    store, _owner = await make_store(session, deposit_fen=100_000)
    fine = await deposit.charge_fine(session, store_id=store.id, amount_fen=20_000,
                                     cause_key="violation:9", note="x")
    r1 = await deposit.reverse(session, entry_id=fine.entry.id, cause_key="appeal:1",
                               note="申诉成功", actor_role="platform_agent")
    r2 = await deposit.reverse(session, entry_id=fine.entry.id, cause_key="appeal:2",
                               note="again", actor_role="platform_agent")
    assert r1.created and not r2.created and r2.entry.id == r1.entry.id
    assert await deposit.balance(session, store.id) == 100_000
    with pytest.raises(InvalidInput):
        await deposit.reverse(session, entry_id=r1.entry.id, cause_key="x", note="",
                              actor_role="platform_agent")


async def test_wrong_sign_and_zero_are_refused(session: AsyncSession) -> None:
    store, _owner = await make_store(session, deposit_fen=0)
    for kind, amount in (("top_up", -5), ("fine", 5), ("top_up", 0)):
        with pytest.raises(InvalidInput):
            await deposit.post(session, store_id=store.id, kind=kind, amount_fen=amount,
                               idempotency_key=f"bad:{kind}:{amount}", actor_role="system")


async def test_only_the_owner_tops_up_their_store(session: AsyncSession) -> None:
    store, _owner = await make_store(session, deposit_fen=0)
    _other, other_owner = await make_store(session, deposit_fen=0)
    with pytest.raises(Forbidden):
        await deposit.top_up(session, principal(other_owner), store_id=store.id,
                             amount_fen=100, idempotency_key="x")


async def test_deposit_api_scoped_to_own_store(client, session: AsyncSession) -> None:  # type: ignore[no-untyped-def]
    from factories import bearer

    store, owner = await make_store(session, deposit_fen=50_000)
    _other, other_owner = await make_store(session)
    store_id = store.id
    owner_headers = await bearer(session, owner)
    other_headers = await bearer(session, other_owner)
    await commit(session)
    mine = await client.get(f"/api/stores/{store_id}/deposit", headers=owner_headers)
    assert mine.status_code == 200
    body = mine.json()
    assert body["balance_fen"] == 50_000 and body["meets_minimum"] is False
    theirs = await client.get(f"/api/stores/{store_id}/deposit", headers=other_headers)
    assert theirs.status_code == 404
    top = await client.post(f"/api/stores/{store_id}/deposit/top-up",
                            json={"amount_fen": 60_000, "idempotency_key": "pay-1"},
                            headers=owner_headers)
    retry = await client.post(f"/api/stores/{store_id}/deposit/top-up",
                              json={"amount_fen": 60_000, "idempotency_key": "pay-1"},
                              headers=owner_headers)
    assert top.status_code == 201 and retry.json()["id"] == top.json()["id"]
    after = await client.get(f"/api/stores/{store_id}/deposit", headers=owner_headers)
    assert after.json()["balance_fen"] == 110_000


# --- property: concurrent postings with retries -------------------------------------------

postings = st.lists(
    st.tuples(st.integers(min_value=0, max_value=7),  # cause id (collisions = retries)
              st.sampled_from(["top_up", "fine", "forced_refund"]),
              st.integers(min_value=1, max_value=50_000)),
    min_size=1, max_size=25,
)


@pytest.mark.committing
@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=postings, retries=st.integers(min_value=1, max_value=3))
async def test_concurrent_postings_with_retries_give_one_entry_per_cause(
        committed_db: Database, batch: list[tuple[int, str, int]], retries: int) -> None:
    async with committed_db.unit_of_work() as s:
        store, _owner = await make_store(s, deposit_fen=0)
    # The first posting of a cause decides its kind and amount; later ones are retries.
    causes: dict[int, tuple[str, int]] = {}
    for cause, kind, amount in batch:
        causes.setdefault(cause, (kind, amount))
    sign = {"top_up": 1, "fine": -1, "forced_refund": -1}

    async def post_once(cause: int) -> None:
        kind, amount = causes[cause]
        async with committed_db.unit_of_work() as s:
            await deposit.post(s, store_id=store.id, kind=kind, amount_fen=sign[kind] * amount,
                               idempotency_key=f"prop:{store.id}:{cause}", actor_role="system")

    jobs = [post_once(cause) for cause, _k, _a in batch for _ in range(retries)]
    await asyncio.gather(*jobs)
    async with committed_db.unit_of_work() as s:
        count = (await s.execute(select(func.count()).select_from(DepositEntry)
                                 .where(DepositEntry.store_id == store.id))).scalar_one()
        balance = await deposit.balance(s, store.id)
    assert count == len(causes)
    assert balance == sum(sign[k] * a for k, a in causes.values())
