"""Store auto-reply settings, rules, the "try it" decision and the platform help desk."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from conftest import commit
from factories import bearer, make_agent, make_store, principal
from kefu.autoreply import service as autoreply
from kefu.kit.errors import Forbidden, InvalidInput, NotFound

SIZE_ANSWER = "亲，身高160/体重110斤建议M码，详情页有尺码表~"


async def _store_with_faq(session: AsyncSession):  # type: ignore[no-untyped-def]
    store, owner = await make_store(session)
    await autoreply.save_rule(session, principal(owner), rule_id=None, kind="faq",
                              question="尺码怎么选？", answer=SIZE_ANSWER,
                              examples=["我身高160体重110穿什么码", "选多大的码合适"],
                              keywords=[], product_ids=[])
    await autoreply.save_rule(session, principal(owner), rule_id=None, kind="faq",
                              question="什么时候发货？", answer="下单后48小时内发货~",
                              examples=["几天发货", "今天拍今天能发吗"], keywords=[],
                              product_ids=[])
    await autoreply.save_rule(session, principal(owner), rule_id=None, kind="keyword",
                              question="", answer="满200减20，满500减60~",
                              examples=[], keywords=["满减", "优惠券"], product_ids=[])
    return store, owner


async def test_confident_questions_get_the_faq_answer(session: AsyncSession) -> None:
    store, _owner = await _store_with_faq(session)
    decision = await autoreply.decide(session, store.id, "我一米六，一百一十斤穿什么码呀")
    assert decision.reply_kind == "faq" and decision.reply_text == SIZE_ANSWER
    keyword = await autoreply.decide(session, store.id, "现在有优惠券吗")
    assert keyword.reply_kind == "keyword"


async def test_complaints_never_get_a_faq_answer(session: AsyncSession) -> None:
    store, _owner = await _store_with_faq(session)
    for text in ("收到的衣服有破洞，要退款", "这是假货吧", "快递三天没动了是不是丢了",
                 "退款怎么还没到账"):
        decision = await autoreply.decide(session, store.id, text)
        assert decision.after_sales is not None, text
        assert decision.reply_kind == "after_sales" and decision.match is None


async def test_unsure_or_chit_chat_stays_silent(session: AsyncSession) -> None:
    store, _owner = await _store_with_faq(session)
    for text in ("在吗", "你好", "你们老板是哪里人"):
        decision = await autoreply.decide(session, store.id, text)
        assert decision.reply_text is None, text


async def test_switches_and_validation(session: AsyncSession) -> None:
    store, owner = await _store_with_faq(session)
    agent = await make_agent(session, store)
    update = autoreply.SettingsUpdate(welcome_enabled=True, welcome_text="欢迎~",
                                      faq_enabled=False, keywords_enabled=True,
                                      off_hours_enabled=True, off_hours_text="下班啦")
    await autoreply.update_settings(session, principal(owner), update)
    decision = await autoreply.decide(session, store.id, "选多大的码合适")
    assert decision.reply_text is None  # the FAQ is switched off
    with pytest.raises(Forbidden):
        await autoreply.update_settings(session, principal(agent), update)
    with pytest.raises(InvalidInput):
        await autoreply.update_settings(session, principal(owner), autoreply.SettingsUpdate(
            welcome_enabled=True, welcome_text="  ", faq_enabled=True, keywords_enabled=True,
            off_hours_enabled=False, off_hours_text=""))


async def test_rules_are_scoped_to_the_store(session: AsyncSession) -> None:
    _store, owner = await _store_with_faq(session)
    _other, other_owner = await make_store(session)
    rule = (await autoreply.store_rules(session, principal(owner)))[0]
    with pytest.raises(NotFound):
        await autoreply.delete_rule(session, principal(other_owner), rule.id)
    assert await autoreply.store_rules(session, principal(other_owner)) == []


async def test_product_scoped_entry_only_for_that_product(session: AsyncSession) -> None:
    store, owner = await make_store(session)
    await autoreply.save_rule(session, principal(owner), rule_id=None, kind="faq",
                              question="这款保温杯能装开水吗？", answer="可以装100度开水~",
                              examples=["能装开水吗", "可以装热水吗"], keywords=[],
                              product_ids=[42])
    assert (await autoreply.decide(session, store.id, "能装开水吗", 42)).reply_text
    assert (await autoreply.decide(session, store.id, "能装开水吗", 7)).reply_text is None


async def test_try_it_page_explains(client: httpx.AsyncClient, session: AsyncSession) -> None:
    _store, owner = await _store_with_faq(session)
    headers = await bearer(session, owner)
    await commit(session)
    page = await client.get("/store/autoreply", params={"q": "几天发货"}, headers=headers)
    assert page.status_code == 200 and "下单后48小时内发货" in page.text
    api = await client.post("/api/autoreply/try", json={"text": "衣服破了要退款"},
                            headers=headers)
    assert api.json()["after_sales"] and api.json()["reply_kind"] == "after_sales"


async def test_help_desk_answers_rule_questions(client: httpx.AsyncClient) -> None:
    answered = await client.post("/api/help/ask", json={"question": "商家一直不处理我的退款怎么办"})
    assert answered.status_code == 200 and answered.json()["entry"] is not None
    page = await client.get("/help", params={"q": "平台介入需要什么证据"})
    assert page.status_code == 200 and "自动回复" in page.text
    bad = await client.post("/api/help/ask", json={"question": ""})
    assert bad.status_code == 422
