"""Auto-replies that are right or silent.

On a buyer's message the store's bot may send, each labelled 自动回复 and never ending the
wait: the off-hours notice (outside working hours, once per wait) or the welcome message (once
per wait, on first contact); then either a pointer to the order's after-sales page when the
message is a complaint or an after-sales problem (never answered from the FAQ), or the FAQ /
keyword answer when the matcher is confident. Below the threshold nothing is sent and the
buyer waits for a person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from kefu.accounts.roles import Principal
from kefu.autoreply import matcher as matcher_module
from kefu.autoreply import repository
from kefu.autoreply.matcher import FaqEntry, FaqMatcher, MatchResult, classify_after_sales
from kefu.autoreply.models import AutoReplyLog, AutoReplyRule, AutoReplySettings
from kefu.kit import clock
from kefu.kit.cache import TTLCache
from kefu.kit.db import after_commit
from kefu.kit.errors import Forbidden, InvalidInput, NotFound, _
from kefu.settings import get_settings

MAX_RULES = 500

DEFAULT_WELCOME = "您好，欢迎光临！请问有什么可以帮您？"
DEFAULT_OFF_HOURS = "您好，现在是非工作时间，客服上班后会第一时间回复您，请稍候~"
AFTER_SALES_POINTER = ("亲，很抱歉给您带来不便！商品问题、退款或物流异常请在订单页点击"
                       "「申请售后」提交并上传照片，商家会在 24 小时内处理，超时将自动同意退款。"
                       "人工客服也会尽快回复您。")
AFTER_SALES_LABELS = {
    "damaged": "商品破损", "counterfeit": "疑似假货", "missing": "少件漏发",
    "not_received": "未收到货", "refund": "退款问题", "lost_parcel": "物流异常",
    "wrong_item": "发错货", "quality": "质量问题",
}


# --- settings and rules (store side) ------------------------------------------------------

def _require_store_staff(actor: Principal, *, owner: bool = False) -> int:
    if actor.store_id is None or not actor.is_merchant or (owner and not actor.is_store_owner):
        raise Forbidden(_("只有店主可以修改自动回复") if owner else _("只有商家可以查看自动回复"))
    return actor.store_id


async def _create_default_settings(session: AsyncSession, store_id: int) -> None:
    # Two first messages to a store at once both create its defaults: the second insert
    # does nothing instead of failing.
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    await session.execute(insert(AutoReplySettings).values(
        store_id=store_id, welcome_enabled=True, welcome_text=DEFAULT_WELCOME,
        faq_enabled=True, keywords_enabled=True, off_hours_enabled=True,
        off_hours_text=DEFAULT_OFF_HOURS, after_sales_pointer_enabled=True,
        updated_at=clock.now()).on_conflict_do_nothing())


async def settings_for(session: AsyncSession, store_id: int) -> AutoReplySettings:
    found = await session.get(AutoReplySettings, store_id)
    if found is None:
        await _create_default_settings(session, store_id)
        found = await session.get(AutoReplySettings, store_id)
        assert found is not None
    return found


RulesVersion = tuple[int, Any]  # (how many rules, the latest change): the matcher's key


def _rules_version_query(store_id: int) -> tuple[Any, Any]:
    count = select(func.count()).select_from(AutoReplyRule) \
        .where(AutoReplyRule.store_id == store_id).scalar_subquery()
    latest = select(func.max(AutoReplyRule.updated_at)) \
        .where(AutoReplyRule.store_id == store_id).scalar_subquery()
    return count, latest


@dataclass(frozen=True)
class ReplySettings:
    """A store's auto-reply switches and texts: what an owner sets (:func:`update_settings`)
    and what the send path reads (a snapshot that can be kept between transactions)."""

    welcome_enabled: bool
    welcome_text: str
    faq_enabled: bool
    keywords_enabled: bool
    off_hours_enabled: bool
    off_hours_text: str
    after_sales_pointer_enabled: bool = True

    @classmethod
    def of(cls, row: AutoReplySettings) -> ReplySettings:
        return cls(row.welcome_enabled, row.welcome_text, row.faq_enabled,
                   row.keywords_enabled, row.off_hours_enabled, row.off_hours_text,
                   row.after_sales_pointer_enabled)


# Read with every buyer message; kept per process and dropped everywhere when an owner
# changes the settings or the rules (kefu.kit.cache).
STORE_SETTINGS: TTLCache[tuple[ReplySettings, RulesVersion]] = TTLCache(
    "autoreply.settings", ttl_seconds=30)
# When each conversation was last welcomed (only ever moves forward, so it is kept as long
# as the welcome repeat window could need it).
LAST_WELCOMED: TTLCache[datetime] = TTLCache("autoreply.welcomed", ttl_seconds=86_400,
                                             max_entries=200_000)


def _changed(session: AsyncSession, store_id: int) -> None:
    STORE_SETTINGS.changed(session, store_id)


async def settings_and_rules_version(session: AsyncSession, store_id: int
                                     ) -> tuple[ReplySettings, RulesVersion]:
    """The store's settings and the version of its rules (one round trip, or none when this
    process knows them), for :func:`decide` to check its cached matcher with."""
    cached = STORE_SETTINGS.lookup(session, store_id)
    if cached is not None:
        return cached
    mark = STORE_SETTINGS.read_mark()
    count, latest = _rules_version_query(store_id)
    query = select(AutoReplySettings, count, latest).where(
        AutoReplySettings.store_id == store_id)
    row = (await session.execute(query)).first()
    if row is None:
        await _create_default_settings(session, store_id)
        row = (await session.execute(query)).first()
        assert row is not None
    found = (ReplySettings.of(row[0]), (int(row[1]), row[2]))
    STORE_SETTINGS.keep(session, store_id, found, mark)
    return found


def cached_settings(session: AsyncSession, store_id: int
                    ) -> tuple[ReplySettings, RulesVersion] | None:
    """:func:`settings_and_rules_version` when this process holds them, else None."""
    return STORE_SETTINGS.lookup(session, store_id)


def known_welcomed(conversation_id: int) -> bool:
    """Whether this process knows the conversation was welcomed within the repeat window."""
    since = clock.now() - timedelta(hours=get_settings().welcome_repeat_hours)
    known = LAST_WELCOMED.get(conversation_id)
    return known is not None and known >= since


async def welcomed_recently(session: AsyncSession, conversation_id: int) -> bool:
    if known_welcomed(conversation_id):
        return True
    since = clock.now() - timedelta(hours=get_settings().welcome_repeat_hours)
    mark = LAST_WELCOMED.read_mark()
    latest = await session.scalar(
        select(func.max(AutoReplyLog.created_at)).where(
            AutoReplyLog.conversation_id == conversation_id, AutoReplyLog.kind == "welcome",
            AutoReplyLog.created_at >= since))
    if latest is None:
        return False
    LAST_WELCOMED.keep(session, conversation_id, latest, mark)
    return True


SettingsUpdate = ReplySettings


async def update_settings(session: AsyncSession, actor: Principal, update: SettingsUpdate
                          ) -> AutoReplySettings:
    store_id = _require_store_staff(actor, owner=True)
    for text in (update.welcome_text, update.off_hours_text):
        if len(text) > 500:
            raise InvalidInput(_("自动回复内容不能超过 500 字"), code="text_too_long")
    if update.welcome_enabled and not update.welcome_text.strip():
        raise InvalidInput(_("请填写欢迎语"), code="welcome_required")
    if update.off_hours_enabled and not update.off_hours_text.strip():
        raise InvalidInput(_("请填写非工作时间提示"), code="off_hours_required")
    current = await settings_for(session, store_id)
    _changed(session, store_id)
    for name, value in vars(update).items():
        setattr(current, name, value.strip() if isinstance(value, str) else value)
    current.updated_at = clock.now()
    return current


def _clean_list(values: list[str], limit: int) -> list[str]:
    cleaned = [v.strip()[:100] for v in values if v and v.strip()]
    return list(dict.fromkeys(cleaned))[:limit]


async def save_rule(session: AsyncSession, actor: Principal, *, rule_id: int | None, kind: str,
                    question: str, answer: str, examples: list[str], keywords: list[str],
                    product_ids: list[int], enabled: bool = True, intent: str | None = None
                    ) -> AutoReplyRule:
    store_id = _require_store_staff(actor, owner=True)
    if kind not in ("faq", "keyword"):
        raise InvalidInput(_("未知的规则类型"), code="bad_kind")
    keywords = _clean_list(keywords, 20)
    examples = _clean_list(examples, 30)
    if kind == "faq" and not question.strip():
        raise InvalidInput(_("请填写问题"), code="question_required")
    if kind == "keyword" and not keywords:
        raise InvalidInput(_("请至少填写一个关键词"), code="keywords_required")
    if not answer.strip() or len(answer) > 1000:
        raise InvalidInput(_("答案须为 1–1000 个字"), code="bad_answer")
    now = clock.now()
    if rule_id is None:
        count = (await session.execute(select(func.count()).select_from(AutoReplyRule)
                                       .where(AutoReplyRule.store_id == store_id))).scalar_one()
        if count >= MAX_RULES:
            raise InvalidInput(_("自动回复规则最多 {max} 条"), code="too_many_rules", max=MAX_RULES)
        rule = AutoReplyRule(store_id=store_id, created_at=now)
        session.add(rule)
    else:
        found = await session.get(AutoReplyRule, rule_id)
        if found is None or found.store_id != store_id:
            raise NotFound(_("规则不存在"))
        rule = found
    rule.kind = kind
    rule.intent = (intent or "").strip()[:64] or None
    rule.question = (question.strip() or (keywords[0] if keywords else ""))[:200]
    rule.answer = answer.strip()
    rule.examples = examples
    rule.keywords = keywords
    rule.product_ids = sorted({int(p) for p in product_ids})[:50]
    rule.enabled = enabled
    rule.updated_at = now
    await session.flush()
    _changed(session, store_id)
    return rule


async def delete_rule(session: AsyncSession, actor: Principal, rule_id: int) -> None:
    store_id = _require_store_staff(actor, owner=True)
    rule = await session.get(AutoReplyRule, rule_id)
    if rule is None or rule.store_id != store_id:
        raise NotFound(_("规则不存在"))
    await session.delete(rule)
    await session.flush()
    _changed(session, store_id)


async def rules_for(session: AsyncSession, store_id: int) -> list[AutoReplyRule]:
    result = await session.execute(select(AutoReplyRule).where(AutoReplyRule.store_id == store_id)
                                   .order_by(AutoReplyRule.kind, AutoReplyRule.id))
    return list(result.scalars())


async def store_rules(session: AsyncSession, actor: Principal) -> list[AutoReplyRule]:
    return await rules_for(session, _require_store_staff(actor))


# --- matching ---------------------------------------------------------------------------

_matchers: dict[int, tuple[tuple[Any, ...], FaqMatcher]] = {}


def _entry(rule: AutoReplyRule) -> FaqEntry:
    return FaqEntry(key=str(rule.id), intent=rule.intent or f"rule-{rule.id}",
                    question=rule.question, answer=rule.answer,
                    examples=tuple(rule.examples or ()),
                    keywords=tuple(rule.keywords or ()) if rule.kind == "keyword" else (),
                    product_ids=tuple(rule.product_ids or ()))


async def matcher_for(session: AsyncSession, store_id: int,
                      settings: ReplySettings | AutoReplySettings,
                      rules_version: RulesVersion | None = None) -> FaqMatcher:
    """The store's matcher, rebuilt only when its rules or switches change. ``rules_version``:
    from :func:`settings_and_rules_version` read in this transaction with no rule changed
    since (else it is read here)."""
    if rules_version is None:
        version_row = (await session.execute(
            select(func.count(), func.max(AutoReplyRule.updated_at))
            .where(AutoReplyRule.store_id == store_id)
        )).one()
        rules_version = (int(version_row[0]), version_row[1])
    cached = _cached_matcher(store_id, settings, rules_version)
    if cached is not None:
        return cached
    version = (*rules_version, settings.faq_enabled, settings.keywords_enabled)
    rules = [r for r in await rules_for(session, store_id) if r.enabled and (
        (r.kind == "faq" and settings.faq_enabled) or
        (r.kind == "keyword" and settings.keywords_enabled))]
    # "block": the engine itself never answers an after-sales problem from a store's FAQ.
    matcher = FaqMatcher([_entry(r) for r in rules], after_sales="block")
    _matchers[store_id] = (version, matcher)
    return matcher


def _cached_matcher(store_id: int, settings: ReplySettings | AutoReplySettings,
                    rules_version: RulesVersion) -> FaqMatcher | None:
    version = (*rules_version, settings.faq_enabled, settings.keywords_enabled)
    cached = _matchers.get(store_id)
    return cached[1] if cached is not None and cached[0] == version else None


@dataclass
class Decision:
    """What the bot would send for one buyer message, and why (for the "try it" box)."""

    after_sales: str | None
    match: MatchResult | None
    reply_kind: str | None  # faq | keyword | after_sales | None
    reply_text: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"after_sales": self.after_sales,
                "after_sales_label": AFTER_SALES_LABELS.get(self.after_sales or "", None),
                "reply_kind": self.reply_kind, "reply_text": self.reply_text,
                "match": self.match.to_dict() if self.match else None}


async def decide(session: AsyncSession, store_id: int, text: str,
                 product_id: int | None = None, *, rules_version: RulesVersion | None = None,
                 settings: ReplySettings | None = None) -> Decision:
    """``rules_version`` and ``settings``: from :func:`settings_and_rules_version` (else
    read here)."""
    if settings is None:
        settings = ReplySettings.of(await settings_for(session, store_id))
    category = classify_after_sales(text)
    matcher = None if category is not None else \
        await matcher_for(session, store_id, settings, rules_version)
    return _decision(settings, category, matcher, text, product_id)


def decide_from_cache(session: AsyncSession, store_id: int, text: str,
                      product_id: int | None = None) -> Decision | None:
    """What :func:`decide` would say, from this process's caches alone (no database); None
    when they do not hold the store's settings or its current matcher."""
    cached = cached_settings(session, store_id)
    if cached is None:
        return None
    settings, rules_version = cached
    category = classify_after_sales(text)
    matcher = None
    if category is None:
        matcher = _cached_matcher(store_id, settings, rules_version)
        if matcher is None:
            return None
    return _decision(settings, category, matcher, text, product_id)


def _decision(settings: ReplySettings, category: str | None, matcher: FaqMatcher | None,
              text: str, product_id: int | None) -> Decision:
    if category is not None:
        reply = AFTER_SALES_POINTER if settings.after_sales_pointer_enabled else None
        return Decision(category, None, "after_sales" if reply else None, reply)
    assert matcher is not None
    result = matcher.match(text, product_id=product_id)
    if result.entry is None or result.kind not in ("faq", "keyword"):
        return Decision(None, result, None, None)
    return Decision(None, result, result.kind, result.entry.answer)


async def try_it(session: AsyncSession, actor: Principal, text: str,
                 product_id: int | None = None) -> Decision:
    store_id = _require_store_staff(actor)
    if not text.strip() or len(text) > 500:
        raise InvalidInput(_("请输入 1–500 个字的问题"), code="bad_question")
    return await decide(session, store_id, text, product_id)


async def seed_rules(session: AsyncSession, store_id: int, entries: list[dict[str, Any]]
                     ) -> None:
    """Bulk-load FAQ entries (demo data, imports) without a caller check."""
    now = clock.now()
    for entry in entries:
        session.add(AutoReplyRule(
            store_id=store_id, kind="faq", intent=entry.get("intent"),
            question=entry["question"], answer=entry["answer"],
            examples=list(entry.get("examples", [])), keywords=list(entry.get("keywords", [])),
            product_ids=[], enabled=True, created_at=now, updated_at=now))
    await session.flush()
    _changed(session, store_id)


async def log_reply(session: AsyncSession, *, store_id: int, conversation_id: int,
                    question_message_id: int, kind: str, question_text: str,
                    rule_id: int | None = None, intent: str | None = None,
                    score: float | None = None) -> None:
    await repository.insert_reply_log(session, {
        "store_id": store_id, "conversation_id": conversation_id,
        "question_message_id": question_message_id, "kind": kind, "rule_id": rule_id,
        "intent": intent, "score": score, "question_text": question_text[:1000],
        "created_at": clock.now()})
    if kind == "welcome":
        now = clock.now()

        async def remember() -> None:
            LAST_WELCOMED.put(conversation_id, now)

        after_commit(session, remember)


# --- platform help desk ---------------------------------------------------------------------

@lru_cache
def helpdesk_matcher() -> FaqMatcher:
    """Built once per process: the help desk FAQ ships with the code."""
    return matcher_module.helpdesk_matcher()


def ask_helpdesk(question: str) -> MatchResult:
    if not question.strip() or len(question) > 500:
        raise InvalidInput(_("请输入 1–500 个字的问题"), code="bad_question")
    return helpdesk_matcher().match(question)


def helpdesk_topics() -> list[FaqEntry]:
    return list(helpdesk_matcher().entries)
