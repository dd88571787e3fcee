"""Diversion policy: refuse merchants' contacts, warn buyers, penalise fairly, reverse."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from conftest import commit
from factories import bearer, make_agent, make_buyer, make_product, make_store, make_user, principal
from kefu.accounts.roles import Role
from kefu.deposit import service as deposit
from kefu.diversion import service as diversion
from kefu.kit import clock as clock_module
from kefu.kit.errors import Forbidden, InvalidTransition, NotFound
from kefu.marketplace import service as marketplace

CONTACT = "加V：abc_8899"


async def _merchant_hit(session: AsyncSession, store_id: int, sender_id: int,
                        text: str = CONTACT, client_msg_id: str | None = None
                        ) -> diversion.MessageVerdict:
    result = await diversion.screen_message(session, store_id=store_id, sender_id=sender_id,
                                            sender_side="store", text=text, conversation_id=1,
                                            client_msg_id=client_msg_id)
    assert result is not None
    return result


async def test_clean_merchant_message_passes(session: AsyncSession) -> None:
    store, owner = await make_store(session)
    result = await diversion.screen_message(
        session, store_id=store.id, sender_id=owner.id, sender_side="store",
        text="亲，订单号 240601123456789 已发顺丰 SF1234567890123，V领款M码胸围96cm")
    assert result is None


async def test_first_hit_warns_second_fines_and_demotes(session: AsyncSession,
                                                        clock: clock_module.TestClock) -> None:
    store, owner = await make_store(session, deposit_fen=200_000)
    agent = await make_agent(session, store)
    first = await _merchant_hit(session, store.id, agent.id)
    assert first.blocked and first.violation is not None
    assert first.violation.penalty == "warning" and first.violation.channel == "wechat"
    assert await deposit.balance(session, store.id) == 200_000
    clock.advance(timedelta(days=1))
    second = await _merchant_hit(session, store.id, owner.id, "加我微信 lily-fashion2024 发你图")
    assert second.violation is not None and second.violation.penalty == "fine"
    assert second.violation.fine_fen == 20_000
    assert await deposit.balance(session, store.id) == 180_000
    assert second.violation.demoted_until == clock.now() + timedelta(days=7)
    weight = await marketplace.store_weight(session, store.id)
    assert weight.weight == pytest.approx(0.2)


async def test_demotion_visibly_lowers_the_store_in_search(session: AsyncSession) -> None:
    bad, bad_owner = await make_store(session, name="违规店")
    _good, good_owner = await make_store(session, name="守规店")
    await make_product(session, bad_owner, title="碎花连衣裙 违规店款", price_fen=5000)
    await make_product(session, good_owner, title="碎花连衣裙 守规店款", price_fen=5000)
    # Ties otherwise go to the newer product: make the bad store's the newer one.
    await make_product(session, bad_owner, title="碎花连衣裙 违规店新款", price_fen=5000)
    before = [h.view.store.name for h in await marketplace.search(session, "碎花连衣裙")]
    assert before[0] == "违规店"
    await _merchant_hit(session, bad.id, bad_owner.id)
    await _merchant_hit(session, bad.id, bad_owner.id, "我的QQ是 2873641950")
    after = [h.view.store.name for h in await marketplace.search(session, "碎花连衣裙")]
    assert after[0] == "守规店" and after[-1] == "违规店"


async def test_window_resets_after_thirty_days(session: AsyncSession,
                                               clock: clock_module.TestClock) -> None:
    store, owner = await make_store(session)
    await _merchant_hit(session, store.id, owner.id)
    clock.advance(timedelta(days=31))
    again = await _merchant_hit(session, store.id, owner.id)
    assert again.violation is not None and again.violation.penalty == "warning"


async def test_buyer_contact_is_delivered_with_a_warning_and_no_penalty(
        session: AsyncSession) -> None:
    store, _owner = await make_store(session)
    buyer = await make_buyer(session)
    result = await diversion.screen_message(session, store_id=store.id, sender_id=buyer.id,
                                            sender_side="buyer", text="你加我微信 buyer_abc123 吧")
    assert result is not None and not result.blocked and result.warning
    assert result.violation is not None and result.violation.penalty == "none"
    assert result.violation.delivered
    assert await deposit.balance(session, store.id) == 200_000


async def test_a_retried_refusal_is_one_violation(session: AsyncSession) -> None:
    store, owner = await make_store(session)
    a = await _merchant_hit(session, store.id, owner.id, client_msg_id="m-1")
    b = await _merchant_hit(session, store.id, owner.id, client_msg_id="m-1")
    assert a.violation is not None and b.violation is not None
    assert a.violation.id == b.violation.id


async def test_appeal_then_reversal_returns_the_fine_and_lifts_the_demotion(
        session: AsyncSession) -> None:
    store, owner = await make_store(session, deposit_fen=200_000)
    await _merchant_hit(session, store.id, owner.id)
    fined = (await _merchant_hit(session, store.id, owner.id, "加我薇信 abc_8899")).violation
    assert fined is not None
    platform_agent = await make_user(session, Role.PLATFORM_AGENT)
    await diversion.appeal(session, principal(owner), fined.id, "这是店铺的售后邮箱，不是微信号")
    with pytest.raises(Forbidden):
        await diversion.reverse(session, principal(owner), fined.id, "自己撤销")
    reversed_ = await diversion.reverse(session, principal(platform_agent), fined.id,
                                        "核实为误判")
    assert reversed_.status == "reversed" and reversed_.demoted_until is None
    assert await deposit.balance(session, store.id) == 200_000
    assert (await marketplace.store_weight(session, store.id)).weight == 1.0
    # Reversing again is a harmless retry: no second refund.
    await diversion.reverse(session, principal(platform_agent), fined.id, "重复点击")
    assert await deposit.balance(session, store.id) == 200_000
    with pytest.raises(InvalidTransition):
        await diversion.appeal(session, principal(owner), fined.id, "再申诉一次试试")


async def test_violations_are_scoped(session: AsyncSession) -> None:
    store, owner = await make_store(session)
    _other, other_owner = await make_store(session)
    buyer = await make_buyer(session)
    hit = (await _merchant_hit(session, store.id, owner.id)).violation
    assert hit is not None
    assert await diversion.list_violations(session, principal(other_owner)) == []
    with pytest.raises(NotFound):
        await diversion.get_violation(session, principal(other_owner), hit.id)
    with pytest.raises(Forbidden):
        await diversion.list_violations(session, principal(buyer))


async def test_console_and_api(client: httpx.AsyncClient, session: AsyncSession) -> None:
    store, owner = await make_store(session)
    await _merchant_hit(session, store.id, owner.id)
    fined = (await _merchant_hit(session, store.id, owner.id, "打我电话 13812345678")).violation
    assert fined is not None
    fined_id, store_id = fined.id, store.id
    staff = await make_user(session, Role.PLATFORM_AGENT)
    staff_headers, owner_headers = await bearer(session, staff), await bearer(session, owner)
    await commit(session)
    listed = await client.get("/api/violations?channel=phone", headers=staff_headers)
    assert [v["id"] for v in listed.json()] == [fined_id]
    assert listed.json()[0]["matched"] and listed.json()[0]["message_text"]
    page = await client.get("/console/violations", headers=staff_headers)
    assert page.status_code == 200 and "13812345678" in page.text
    denied = await client.post(f"/api/violations/{fined_id}/reverse", json={"note": "x"},
                               headers=owner_headers)
    assert denied.status_code == 403
    done = await client.post(f"/api/violations/{fined_id}/reverse", json={"note": "误判"},
                             headers=staff_headers)
    assert done.status_code == 200 and done.json()["status"] == "reversed"
    ledger = await client.get(f"/api/stores/{store_id}/deposit", headers=owner_headers)
    assert [e["kind"] for e in ledger.json()["entries"]][:2] == ["reversal", "fine"]
