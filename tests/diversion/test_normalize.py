"""The diversion normaliser: every disguise folds to one form, and spans map back."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.diversion import normalize as normalize_module
from kefu.diversion.normalize import HEART, fold_char, normalize


def compact(text: str) -> str:
    return normalize(text).compact


@pytest.mark.parametrize(("text", "expected"), [
    ("ｖｘ：ｓｈｏｐ１２３", "vxshop123"),  # full width
    ("WeChat ABC", "wechatabc"),  # case
    ("微信號碼", "微信号码"),  # traditional → simplified
    ("電話", "电话"),
    ("維信", "维信"),
])
def test_width_case_and_traditional(text: str, expected: str) -> None:
    assert compact(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("一三八零零一三八零零零", "13800138000"),
    ("幺三九 幺二三四 五六七八", "13912345678"),
    ("两三四", "234"),
    ("〇一二", "012"),
    ("壹贰叁肆伍陆柒捌玖", "123456789"),
    ("①③⑧⓪⓪", "13800"),
    ("❶❷❸", "123"),
    ("➀➁➂", "123"),
    ("⑴⑵⑶", "123"),
    ("⒈⒉⒊", "123"),
    ("⑩⑳", "1020"),
    ("1️⃣3️⃣8️⃣", "138"),
    ("1\u20e38\u20e3", "18"),  # keycap without the variation selector
    ("¹²³₄₅", "12345"),
    ("𝟏𝟑𝟖𝟘𝟙", "13801"),
    ("１３９", "139"),
    ("٣٤٥", "345"),  # any script's decimal digits
])
def test_every_digit_form_becomes_ascii(text: str, expected: str) -> None:
    assert compact(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("一下", "一下"),  # a word, not a number
    ("三五天", "三五天"),
    ("两件", "两件"),
    ("一一对应", "一一对应"),
    ("零食", "零食"),
    ("13八零零", "13800"),  # mixed with ASCII digits: a number
])
def test_chinese_numerals_only_inside_number_runs(text: str, expected: str) -> None:
    assert compact(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("139O0l23456", "13900123456"),
    ("1o2i3", "10213"),
    ("hello world", "helloworld"),  # letters stay letters
    ("M 88 / L 92", "m88l92"),  # a spaced letter between numbers is a letter
    ("iphone15", "iphone15"),
])
def test_lookalike_letters_only_inside_digit_runs(text: str, expected: str) -> None:
    assert compact(text) == expected


def test_separators_emoji_and_invisible_characters_are_removed() -> None:
    assert compact("微 😊 信 · a-b_c") == "微信abc"
    assert compact("v\u200bx") == "vx"
    norm = normalize("v\u200bx")
    assert norm.boundary == b"\x00\x00"  # a zero-width space is not a separator
    assert normalize("v x").boundary == b"\x00\x01"


def test_list_separators_between_digits_keep_numbers_apart() -> None:
    assert compact("第 1、3、8 号色") == "第1/3/8号色"
    assert compact("138 0013 8000") == "13800138000"
    assert compact("186-0000-1234") == "18600001234"


def test_meaningful_symbols_and_emoji_words() -> None:
    assert compact("+v") == "+v"
    assert compact("V❤") == "v" + HEART
    assert compact("🐧号") == "企鹅号"
    assert compact("闲🐟") == "闲鱼"
    assert compact("➕V") == "+v"
    norm = normalize("🐧号")
    assert norm.is_disguised(0, 2)
    assert not normalize("企鹅号").is_disguised(0, 2)
    assert normalize("微 信").is_disguised(0, 2)


def test_spans_map_back_to_the_original_text() -> None:
    text = "电话：１３９ １２３４ ５６７８ 打我"
    norm = normalize(text)
    start = norm.compact.index("139")
    assert norm.original_text(start, start + 11) == "１３９ １２３４ ５６７８"
    text = "加V❤：joy_store 哦"
    norm = normalize(text)
    start = norm.compact.index("joy")
    assert norm.original_text(start, start + len("joystore")) == "joy_store"
    assert norm.original_text(0, 3) == "加V❤"


def test_folded_view_keeps_separators_for_links() -> None:
    norm = normalize("点这里 ｗｗｗ．ＡＢＣ．ｃｏｍ 哦")
    assert "www.abc.com" in norm.folded
    start = norm.folded.index("www")
    assert norm.folded_original_text(start, start + 11) == "ｗｗｗ．ＡＢＣ．ｃｏｍ"


def test_clause_marks_are_recorded() -> None:
    norm = normalize("别急，加我")
    assert norm.clause_start(norm.compact.index("我"), 10) == norm.compact.index("加")


def test_fold_char_is_cached_and_total() -> None:
    assert fold_char("Ａ") == ("a", 0)
    for ch in ["\x00", "\ufeff", "\U0001f3fb", "😊", "…", "™", "℡", "㎝"]:
        out, _kind = fold_char(ch)
        assert isinstance(out, str)


_ALPHABET = ("微信薇vVxX扣qQ一三八零幺两①⓪❶１２３ 　，、。/-_:：!?\u200b\ufe0f\u20e3😊❤🐧abOol"
             "0123456789号码电话手机加我淘宝.。@+￥¥")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_ALPHABET, max_size=30))
def test_fast_and_slow_paths_agree(text: str) -> None:
    normalize_module._TABLES.learn(text)
    codes = text.translate(normalize_module._TABLES.code)
    slow = normalize_module._normalize_slow(text)
    if "m" in codes:
        return  # the fast path is not used for this text
    fast = normalize_module._normalize_fast(text, codes)
    assert fast.compact == slow.compact
    assert fast.folded == slow.folded
    assert fast.boundary == slow.boundary
    assert fast.clause == slow.clause
    assert fast.disguise == slow.disguise
    assert list(fast.compact_map) == list(slow.compact_map)
    assert list(fast.folded_map) == list(slow.folded_map)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_any_text_normalises_and_maps_inside_the_original(text: str) -> None:
    norm = normalize(text)
    assert len(norm.compact_map) == len(norm.compact) == len(norm.boundary)
    assert all(0 <= i < len(text) for i in norm.compact_map)
    assert len(norm.folded_map) == len(norm.folded)
