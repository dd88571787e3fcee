"""Normalisation of buyers' Chinese questions."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from kefu.autoreply.normalize import chinese_to_number, convert_numbers, normalize, to_simplified


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # width and case
        ("ＸＬ码有货吗", "xl码有货"),
        ("Ｍ码　还有吗？", "m码 还有"),
        # traditional → simplified
        ("還有貨嗎", "还有货"),
        ("會不會縮水", "会不会缩水"),
        ("怎麼聯繫賣家", "怎么联系卖家"),
        # heights and weights
        ("我一米六三，一百一十五斤，穿哪个码", "我163cm 115斤 穿哪个码"),
        ("身高一米五八体重九十八斤", "身高158cm体重98斤"),
        ("1米6 一百斤", "160cm 100斤"),
        ("1.63m 50公斤", "163cm 50kg"),
        ("一米七", "170cm"),
        ("一百三斤", "130斤"),
        ("五十千克", "50kg"),
        ("170厘米", "170cm"),
        ("一点五米", "150cm"),
        # other numbers
        ("七天无理由吗", "7天无理由"),
        ("平时穿M这个要拍大一码吗", "平时穿m这个要拍大1码"),
        ("满两百减二十", "满200减20"),
        ("三四天能到吗", "3-4天能到"),
        ("一般3~5天到", "一般3-5天到"),
        ("双十一有活动吗", "双11有活动"),
        ("晚上十一点还有人吗", "晚上11点还有人"),
        ("99块", "99元"),
        ("¥50", "50元"),
        ("下单后48个小时发货", "下单后48小时发货"),
        ("三个工作日", "3天"),
        # words that contain a numeral are kept
        ("颜色和图片一样吗", "颜色和图片一样"),
        ("不一样", "不一样"),
        ("便宜一点", "便宜一点"),
        ("统一发货", "统一发货"),
        ("万一不合适", "万一不合适"),
        ("第一次买", "第一次买"),
        ("二维码", "二维码"),
        # colloquial spellings
        ("啥时候发", "什么时候发"),
        ("咋退货", "怎么退货"),
        # punctuation, emoji, particles
        ("亲，在吗~😊", "在"),
        ("发什么快递呀！！", "发什么快递"),
        ("包邮么", "包邮"),
        ("老板再便宜点呗", "老板再便宜点"),
        ("可以机洗吗？可以手洗吗", "可以机洗 可以手洗"),
        # particles that are part of words stay
        ("哈密包邮吗", "哈密包邮"),
        ("这个呢子大衣呢", "这个呢子大衣"),
        ("能用花呗吗", "能用花呗"),
        ("发什么快递", "发什么快递"),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_particles_can_be_kept_for_the_guard() -> None:
    assert normalize("会起球吗", strip_particles=False) == "会起球吗"
    assert normalize("起球了", strip_particles=False) == "起球了"
    assert normalize("亲，在吗~", strip_particles=False) == "亲 在吗"


@pytest.mark.parametrize(
    ("numeral", "value"),
    [
        ("一百一十五", 115), ("一百零五", 105), ("九十八", 98), ("十五", 15), ("二十", 20),
        ("两百", 200), ("两千五", 2500), ("一百三", 130), ("一万二", 12000), ("一六三", 163),
        ("三点五", 3.5), ("零", 0),
    ],
)
def test_chinese_to_number(numeral: str, value: float) -> None:
    assert chinese_to_number(numeral) == value


def test_chinese_to_number_rejects_non_numerals() -> None:
    assert chinese_to_number("") is None
    assert chinese_to_number("一样") is None
    assert chinese_to_number("十百") is None


def test_convert_numbers_leaves_plain_text_alone() -> None:
    assert convert_numbers("什么时候发货") == "什么时候发货"


def test_to_simplified_is_a_no_op_on_simplified_text() -> None:
    text = "什么时候发货"
    assert to_simplified(text) is text


_ALPHABET = st.sampled_from(
    list("一二两三十百千万米斤码天亲吗呢哈吧么呀~ ，。！？😊ＡＢＣabcXL0123456789.貨還會縮嗎的了是")
)


@settings(max_examples=500, deadline=None)
@given(st.text(_ALPHABET, max_size=24))
@example("1米十码")  # found by this test: the height's tail was a numeral run, read later
def test_normalize_output_is_clean(text: str) -> None:
    result = normalize(text)
    assert result == result.strip()
    assert "  " not in result
    assert not any(char.isupper() for char in result)
    assert all(unicodedata.east_asian_width(char) != "F" for char in result)
    assert not any(char in "~，。！？😊" for char in result)
    assert normalize(result) == result  # idempotent
