"""The FAQ matching engine: accuracy targets, the after-sales guard, scope, keywords, the CLI."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kefu.autoreply.cli import faq_app
from kefu.autoreply.evaluate import Evaluation, evaluate, load_queries
from kefu.autoreply.guard import classify, classify_after_sales
from kefu.autoreply.matcher import (
    DEFAULT_THRESHOLD,
    HELPDESK_FAQ_PATH,
    FaqEntry,
    FaqMatcher,
    MatchResult,
    helpdesk_matcher,
    load_faq_file,
    load_faq_json,
)
from kefu.autoreply.matcher import classify_after_sales as exported_classify

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def _shared_data() -> Path:
    configured = os.environ.get("KEFU_SHARED_DATA")
    return Path(configured) if configured else ROOT.parent / "shared" / "data"


SHARED = _shared_data()
STORE_FAQ = SHARED / "faq-store.json"
DEV_QUERIES = SHARED / "faq-dev-queries.jsonl"
needs_shared = pytest.mark.skipif(not STORE_FAQ.exists(),
                                  reason=f"shared evaluation data not found at {SHARED}")


@pytest.fixture(scope="module")
def store_matcher() -> FaqMatcher:
    if not STORE_FAQ.exists():
        pytest.skip(f"shared evaluation data not found at {SHARED}")
    return FaqMatcher(load_faq_json(STORE_FAQ))


@pytest.fixture(scope="module")
def desk() -> FaqMatcher:
    return helpdesk_matcher()


def _describe(evaluation: Evaluation) -> str:
    return "\n".join(f"{query.text!r}: want {query.intent}, got {result.intent} "
                     f"({result.kind} {result.score:.2f}) — {result.explanation}"
                     for query, result in evaluation.errors())


def _assert_targets(evaluation: Evaluation) -> None:
    assert evaluation.intent_total and evaluation.null_total
    assert evaluation.accuracy >= 0.90, _describe(evaluation)
    assert evaluation.null_answer_rate <= 0.05, _describe(evaluation)


# --------------------------------------------------------------------------- the targets


def test_dev_set_meets_the_targets(store_matcher: FaqMatcher) -> None:
    _assert_targets(evaluate(store_matcher, load_queries(DEV_QUERIES)))


@needs_shared
def test_held_out_set_meets_the_targets(store_matcher: FaqMatcher) -> None:
    queries = load_queries(HERE / "heldout_queries.jsonl")
    assert len(queries) >= 60
    _assert_targets(evaluate(store_matcher, queries))


def test_help_desk_set_meets_the_targets(desk: FaqMatcher) -> None:
    queries = load_queries(HERE / "helpdesk_queries.jsonl")
    assert len(queries) >= 30
    _assert_targets(evaluate(desk, queries))


def test_help_desk_faq_is_well_formed() -> None:
    data = json.loads(HELPDESK_FAQ_PATH.read_text(encoding="utf-8"))
    entries = data["entries"]
    assert 15 <= len(entries) <= 25
    assert len({entry["intent"] for entry in entries}) == len(entries)
    for entry in entries:
        assert entry["question"] and entry["answer"]
        assert 3 <= len(entry["examples"]) <= 6, entry["intent"]
    answers = " ".join(entry["answer"] for entry in entries)
    for fact in ("9:00–22:00", "自动回复", "24小时", "仅退款", "退货退款", "换货", "补寄",
                 "平台介入", "48小时", "保证金", "7天", "复核", "95010", "原路", "微信"):
        assert fact in answers, fact


# --------------------------------------------------------------------------- the guard

STORE_ENTRIES = [
    FaqEntry("size", "size_advice", "尺码怎么选？", "看尺码表~", ("我身高160体重110穿什么码",)),
    FaqEntry("ship", "ship_time", "什么时候发货？", "48小时内发货~", ("几天发货",)),
    FaqEntry("return", "return_policy", "支持七天无理由退换吗？", "支持~",
             ("不合适能退吗", "怎么退货")),
    FaqEntry("pilling", "pilling", "会起球吗？", "不易起球~", ("穿久了起球吗",)),
]


@pytest.fixture(scope="module")
def small() -> FaqMatcher:
    return FaqMatcher(STORE_ENTRIES)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("收到的衣服有个破洞，我要退款", "damaged"),
        ("拉链坏了", "damaged"),
        ("你们卖的是假货吧，我要投诉", "counterfeit"),
        ("这不是正品", "counterfeit"),
        ("少发了一件", "missing"),
        ("赠品没收到", "missing"),
        ("快递显示签收了但我没收到", "not_received"),
        ("退款怎么还没到账", "refund"),
        ("钱还没退给我", "refund"),
        ("快递丢了", "lost_parcel"),
        ("物流三天不动了", "lost_parcel"),
        ("发错颜色了", "wrong_item"),
        ("穿了两天就起球了", "quality"),
        ("洗了一次就缩水了", "quality"),
        ("上次买的那件裙子线头很多", "quality"),
        ("质量太差了要求赔偿", "quality"),
        ("我要赔偿", "compensation"),
        ("垃圾店，骗子", "complaint"),
        ("下单五天了还不发货", "not_shipped"),
    ],
)
def test_after_sales_problems_are_classified(text: str, category: str,
                                             small: FaqMatcher) -> None:
    assert classify_after_sales(text) == category
    result = small.match(text)
    assert result.kind == "after_sales" and result.category == category
    assert result.entry is None and not result.answered


@pytest.mark.parametrize(
    "text",
    ["不合适能退吗", "怎么退货", "会起球吗", "洗了会缩水吗", "退款多久到账", "是正品吗",
     "几天能收到", "可以换码吗", "还没发货能改地址吗", "有色差吗", "能便宜点吗"],
)
def test_policy_questions_are_not_after_sales(text: str) -> None:
    assert classify_after_sales(text) is None


def test_policy_question_answered_problem_not(small: FaqMatcher) -> None:
    assert small.match("不合适能退吗").intent == "return_policy"
    assert small.match("会起球吗").intent == "pilling"
    assert small.match("收到的衣服破了要退款").kind == "after_sales"
    assert small.match("穿了一次就起球了").kind == "after_sales"


def test_classify_reports_greetings_and_small_talk() -> None:
    assert exported_classify is classify_after_sales
    assert classify("在吗") == "greeting"
    assert classify("谢谢亲") == "small_talk"
    assert classify("收到是坏的") == "damaged"
    assert classify("什么时候发货") is None


# --------------------------------------------------------------------------- greetings, vetoes


@pytest.mark.parametrize("text", ["在吗", "你好", "您好", "亲在吗", "hello", "有人吗", "在不在呀"])
def test_greetings_are_not_answered(text: str, small: FaqMatcher) -> None:
    result = small.match(text)
    assert result.kind == "greeting" and result.entry is None


@pytest.mark.parametrize("text", ["谢谢", "好的", "嗯嗯", "ok"])
def test_small_talk_is_not_answered(text: str, small: FaqMatcher) -> None:
    result = small.match(text)
    assert result.kind == "none" and result.category == "small_talk"


def test_greeting_before_a_question_is_ignored(small: FaqMatcher) -> None:
    assert small.match("你好，请问什么时候发货").intent == "ship_time"
    assert small.match("亲 在吗 几天发货呀").intent == "ship_time"


@pytest.mark.parametrize("text", ["我想批量采购200件能谈价格吗", "这款和那款哪个好看",
                                  "可以加微信吗", "今天天气真好", "你是机器人吗"])
def test_out_of_scope_questions_are_not_answered(text: str, small: FaqMatcher) -> None:
    assert not small.match(text).answered


# --------------------------------------------------------------------------- rules of the decision


def test_threshold_and_margin() -> None:
    entries = [FaqEntry("a", "a", "能开发票吗？", "可以~"),
               FaqEntry("b", "b", "能开发票吗", "不可以~")]
    result = FaqMatcher(entries).match("能开发票吗")
    assert not result.answered and "runner-up" in result.explanation
    assert result.candidate is not None and result.runner_up is not None
    strict = FaqMatcher(STORE_ENTRIES, threshold=0.999)
    assert not strict.match("什么时候能发货").answered
    assert FaqMatcher(STORE_ENTRIES).match("什么时候能发货").answered
    assert 0 < DEFAULT_THRESHOLD < 1


def test_entries_of_one_intent_do_not_compete() -> None:
    entries = [FaqEntry("a", "invoice", "能开发票吗？", "可以~"),
               FaqEntry("b", "invoice", "可以开票吗", "可以~")]
    assert FaqMatcher(entries).match("能开发票吗").answered


def test_product_scope() -> None:
    entries = [
        *STORE_ENTRIES,
        FaqEntry("cup", "hot_water", "这款保温杯能装开水吗？", "可以装100度开水~",
                 ("能装开水吗", "可以装热水吗"), product_ids=(42,)),
        FaqEntry("cup-size", "size_advice", "这款杯子多大？", "500毫升~", ("容量多大",),
                 product_ids=(42,)),
    ]
    matcher = FaqMatcher(entries)
    assert matcher.match("能装开水吗", product_id=42).intent == "hot_water"
    assert not matcher.match("能装开水吗", product_id=7).answered
    assert not matcher.match("能装开水吗").answered
    # store-wide entries are always in scope
    assert matcher.match("什么时候发货", product_id=42).intent == "ship_time"


def test_keyword_rules() -> None:
    entries = [*STORE_ENTRIES,
               FaqEntry("coupon", None, "", "满200减20~", keywords=("满减", "优惠券")),
               FaqEntry("refund-kw", None, "", "退款请点申请售后", keywords=("退款",)),
               FaqEntry("cup-kw", None, "", "杯子的说明", keywords=("保温杯",),
                        product_ids=(42,))]
    matcher = FaqMatcher(entries)
    result = matcher.match("现在有優惠券嗎")
    assert result.kind == "keyword" and result.entry is not None
    assert result.entry.key == "coupon" and result.score == 1.0
    # the after-sales guard takes precedence over keyword rules
    assert matcher.match("退款怎么还没到账").kind == "after_sales"
    assert not matcher.match("保温杯好用吗").answered
    assert matcher.match("保温杯好用吗", product_id=42).kind == "keyword"


def test_help_desk_answers_after_sales_questions_only_from_matching_entries(
        desk: FaqMatcher) -> None:
    fake = desk.match("买到假货了怎么投诉")
    assert fake.intent == "report_counterfeit" and fake.category == "counterfeit"
    broken = desk.match("收到的杯子碎了")
    assert broken.kind == "after_sales" and broken.entry is None
    blocked = FaqMatcher(desk.entries, after_sales="block").match("买到假货了怎么投诉")
    assert blocked.kind == "after_sales"
    assert desk.match("退款多久到账").intent == "refund_arrival"
    assert desk.match("客服几点上班").intent == "store_hours"


def test_typos_are_corrected_by_sound() -> None:
    entries = [FaqEntry("size", None, "尺码怎么选", "看尺码表~"),
               FaqEntry("free", None, "包邮吗", "全国包邮~"),
               FaqEntry("discount", None, "有什么优惠", "满减~")]
    matcher = FaqMatcher(entries)
    for text, key in (("尺马怎么选", "size"), ("包油吗", "free"), ("有什么优汇", "discount")):
        result = matcher.match(text)
        assert result.answered and result.entry is not None and result.entry.key == key, text
        assert result.corrected is not None


def test_traditional_and_full_width_questions(small: FaqMatcher) -> None:
    assert small.match("甚麼時候發貨？").intent == "ship_time"
    assert small.match("我身高１６０，體重一百一十斤，穿什麼碼").intent == "size_advice"


def test_explanation_for_the_try_it_box(small: FaqMatcher) -> None:
    result = small.match("几天能发货呀")
    assert result.answered and result.kind == "faq"
    assert result.matched_text in ("几天发货", "什么时候发货？")
    assert "发货" in result.concepts
    data = result.to_dict()
    assert data["entry"]["key"] == "ship" and data["answer"] == "48小时内发货~"
    assert data["kind"] == "faq" and 0 < data["score"] <= 1
    assert set(data) >= {"runner_up", "runner_up_score", "explanation", "concepts"}
    json.dumps(data, ensure_ascii=False)
    assert isinstance(small.match("在吗"), MatchResult)
    ranked = small.rank("几天能发货")
    assert ranked[0][0].key == "ship" and ranked[0][1] >= ranked[1][1]


def test_empty_faq_and_empty_message() -> None:
    empty = FaqMatcher([])
    assert empty.match("什么时候发货").kind == "none"
    assert empty.rank("什么时候发货") == []
    assert FaqMatcher(STORE_ENTRIES).match("").kind == "none"
    assert FaqMatcher(STORE_ENTRIES).match("？？？").kind == "none"


def test_load_faq_json(tmp_path: Path) -> None:
    path = tmp_path / "faq.json"
    path.write_text(json.dumps({"entries": [
        {"intent": "ship_time", "question": "什么时候发货？", "answer": "48h", "examples": ["几天发"]},
        {"key": "k1", "intent": None, "question": "包邮吗", "answer": "包", "keywords": ["包邮"],
         "product_ids": [3, "4"]},
        {"question": "能开票吗", "answer": "能"},
    ]}, ensure_ascii=False), encoding="utf-8")
    entries = load_faq_json(path)
    assert [entry.key for entry in entries] == ["ship_time", "k1", "entry-3"]
    assert entries[0].examples == ("几天发",) and entries[1].product_ids == (3, 4)
    assert entries[1].keywords == ("包邮",) and entries[1].intent is None
    assert load_faq_file(HELPDESK_FAQ_PATH).after_sales == "entries"


@needs_shared
def test_store_faq_loads_with_intents_as_keys() -> None:
    entries = load_faq_json(STORE_FAQ)
    assert len(entries) >= 10 and all(entry.key == entry.intent for entry in entries)


def test_building_a_200_entry_matcher_is_fast() -> None:
    topics = ("尺码怎么选", "是什么面料", "能机洗吗", "会起球吗", "会缩水吗", "有色差吗",
              "还有货吗", "厚不厚", "显瘦吗", "适合什么季节")
    products = ("连衣裙", "衬衫", "T恤", "牛仔裤", "卫衣", "外套", "羽绒服", "毛衣", "半身裙",
                "运动裤", "西装", "风衣", "打底衫", "阔腿裤", "吊带", "针织衫", "棉服", "短裤",
                "马甲", "睡衣")
    entries = [FaqEntry(f"{p}-{t}", None, f"{p}{t}？", "答", (f"这件{p}{t}", f"{p}{t}吗亲"))
               for p in products for t in topics]
    assert len(entries) == 200
    best = min(_build_seconds(entries) for _ in range(3))
    assert best < 0.1, f"{best * 1000:.0f} ms"
    matcher = FaqMatcher(entries)
    started = time.process_time()
    for index in range(300):
        matcher.match(f"{products[index % 20]}能不能机洗{index}")
    per_match = (time.process_time() - started) / 300
    assert per_match < 0.002, f"{per_match * 1e6:.0f} µs per match"


def _build_seconds(entries: list[FaqEntry]) -> float:
    started = time.process_time()
    FaqMatcher(entries)
    return time.process_time() - started


# --------------------------------------------------------------------------- the CLI


def _write_queries(path: Path) -> None:
    rows = [{"text": "几天能发货", "intent": "ship_time"}, {"text": "穿着不合适可以退吗",
            "intent": "return_policy"}, {"text": "收到的衣服破了", "intent": None},
            {"text": "你好", "intent": None}]
    path.write_text("\n".join(json.dumps(row, ensure_ascii=False) for row in rows) + "\n",
                    encoding="utf-8")


def _write_faq(path: Path) -> None:
    path.write_text(json.dumps({"entries": [
        {"intent": entry.intent, "question": entry.question, "answer": entry.answer,
         "examples": list(entry.examples)} for entry in STORE_ENTRIES
    ]}, ensure_ascii=False), encoding="utf-8")


def test_cli_match(tmp_path: Path) -> None:
    faq, queries, output = tmp_path / "faq.json", tmp_path / "q.jsonl", tmp_path / "out.jsonl"
    _write_faq(faq)
    _write_queries(queries)
    runner = CliRunner()
    result = runner.invoke(faq_app, ["match", "--faq", str(faq), "--queries", str(queries)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 5
    assert lines[0]["text"] == "几天能发货" and lines[0]["intent"] == "ship_time"
    assert set(lines[0]) >= {"text", "intent", "score", "kind"}
    assert lines[2]["intent"] is None and lines[2]["kind"] == "after_sales"
    assert lines[3]["kind"] == "greeting"
    summary = lines[-1]["summary"]
    assert summary["accuracy"] == 1.0 and summary["null_answer_rate"] == 0.0
    assert summary["intent_questions"] == 2 and summary["null_questions"] == 2

    result = runner.invoke(faq_app, ["match", "--faq", str(faq), "--queries", str(queries),
                                     "--threshold", "0.99", "--output", str(output)])
    assert result.exit_code == 0, result.output
    written = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert written[-1]["summary"]["threshold"] == 0.99
    assert written[-1]["summary"]["accuracy"] < 1.0


def test_cli_explain(tmp_path: Path) -> None:
    faq = tmp_path / "faq.json"
    _write_faq(faq)
    result = CliRunner().invoke(faq_app, ["explain", "--faq", str(faq), "几天能发货"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["entry"]["intent"] == "ship_time"
