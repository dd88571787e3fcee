"""Text normalisation for buyers' questions in Chinese.

Buyers type on phones, in a hurry: full-width letters, traditional characters, numbers written
out in Chinese (一米六三, 一百一十五斤), units spelt five ways, emoji and sentence particles. Every
text the FAQ engine sees — the FAQ's own questions and examples, the synonym table, the query —
goes through :func:`normalize`, so they all meet in the same form.

The steps, in order:

1. Unicode NFKC (full-width → half-width, ㎝ → cm) and lower case.
2. Traditional → simplified (OpenCC ``t2s``, loaded once; skipped when the text has no
   traditional character, which is the common case).
3. A few colloquial spellings: 啥 → 什么, 咋 → 怎么, 木有 → 没有 …
4. Chinese numbers → digits where they are numbers (一百一十五斤 → 115斤, 七天 → 7天,
   大一码 → 大1码), but not inside words (一样, 一下, 统一, 万一).
5. Units: heights become centimetres (一米六三, 1米63, 1.63m → 163cm), 公斤/千克 → kg,
   厘米/公分 → cm, 块/块钱 → 元, 日 → 天, 个小时 → 小时.
6. Punctuation, symbols and emoji become a single space (a clause boundary); sentence particles
   (呀 呢 吗 啊 哈 亲 哦 ~ …) are dropped.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

from kefu.kit.memo import TextMemo

__all__ = [
    "chinese_to_number",
    "clear_caches",
    "convert_numbers",
    "normalize",
    "remove_particles",
    "to_simplified",
]

# --------------------------------------------------------------------------- traditional chars


class _T2S:
    """OpenCC t2s, loaded on first use, with a fast path for texts with no traditional char."""

    def __init__(self) -> None:
        self._converter: Any = None
        self._traditional: frozenset[str] = frozenset()

    def _load(self) -> None:
        import opencc

        converter = opencc.OpenCC("t2s")
        dictionary = Path(opencc.__file__).parent / "dictionary"
        traditional: set[str] = set()
        with open(dictionary / "TSCharacters.txt", encoding="utf-8") as handle:
            for line in handle:
                key, _sep, value = line.rstrip("\n").partition("\t")
                if len(key) == 1 and key != value.split(" ")[0]:
                    traditional.add(key)
        self._traditional = frozenset(traditional)
        self._converter = converter

    def __call__(self, text: str) -> str:
        if self._converter is None:
            self._load()
        if self._traditional.isdisjoint(text):
            return text
        return str(self._converter.convert(text))


to_simplified = _T2S()
"""Convert traditional Chinese to simplified (OpenCC t2s); a no-op for simplified text."""

# --------------------------------------------------------------------------- colloquial spelling

_COLLOQUIAL = {
    "啥": "什么",
    "咋": "怎么",
    "肿么": "怎么",
    "神马": "什么",
    "甚么": "什么",
    "木有": "没有",
    "没得": "没有",
    "米有": "没有",
    "麽": "么",
    "穿著": "穿着",
    "亲们": "亲",
}
_COLLOQUIAL_RE = re.compile("|".join(sorted(map(re.escape, _COLLOQUIAL), key=len, reverse=True)))

# --------------------------------------------------------------------------- numbers

_DIGITS = {
    "零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}
_UNITS = {"十": 10, "百": 100, "千": 1000}
_NUMERAL_CHARS = "零〇一二两俩三四五六七八九十百千万"

# Measure words and units after which a lone numeral (一 二 两 …) is a number.
_MEASURES = frozenset(
    "天日号码件个斤米厘公千克寸元块毛角次周月年岁套条双只包盒箱单台本张位人色款批倍折成楼层"
    "袋瓶支根对份点"
)
_MEASURE_WORDS = ("分钟", "小时", "星期", "礼拜", "工作日")
_NUMERAL_RUN = re.compile(rf"[{_NUMERAL_CHARS}]+(?:点[零〇一二三四五六七八九]+)?")
# Words that contain a numeral but are not numbers (一样, 万一 …).
_NOT_NUMBERS = re.compile(
    "一样|一下|一般|一直|一定|一起|一些|一致|一共|一点|一口价|一次性|一会|一切|一旦|一边|一半|"
    "一模一样|一如既往|一言难尽|一分钱|十分|万一|千万|有点|统一|唯一|之一|第一|一个劲|一条龙|"
    "一件代发|一手|二手|三包|三思|一月一|一天到晚|一拍即合|一眼|一看"
)
# What may follow a numeral that stands alone: the end of a clause, or a particle.
_BOUNDARY_CHARS = frozenset(" 吗嘛呀啊哦呗啦噢喔哇咧哟嘞呦~呢哈嗯呐滴吧么咯亲")
_RANGES = {"一两", "两三", "三四", "四五", "五六", "六七", "七八", "八九"}


def chinese_to_number(numeral: str) -> float | None:
    """The value of a Chinese numeral (一百一十五 → 115, 一六三 → 163, 两百五 → 250, 一点五 → 1.5).

    Returns None when the string is not a numeral.
    """
    if not numeral:
        return None
    integer, _sep, fraction = numeral.partition("点")
    value = _chinese_integer(integer)
    if value is None:
        return None
    if fraction:
        if any(char not in _DIGITS for char in fraction):
            return None
        return float(f"{value}.{''.join(str(_DIGITS[char]) for char in fraction)}")
    return float(value)


def _chinese_integer(numeral: str) -> int | None:
    if not numeral or any(
        char not in _DIGITS and char not in _UNITS and char != "万" for char in numeral
    ):
        return None
    if "万" in numeral:
        high, _sep, low = numeral.partition("万")
        high_value = _chinese_integer(high) if high else 1
        low_value = _chinese_integer(low) if low else 0
        if len(low) == 1 and low_value is not None:
            low_value *= 1000  # 一万二 is 12000
        if high_value is None or low_value is None:
            return None
        return high_value * 10000 + low_value
    if not any(char in _UNITS for char in numeral):
        return int("".join(str(_DIGITS[char]) for char in numeral))  # 一六三 → 163
    section = 0
    digit: int | None = None
    last_unit = 0
    zero_since_unit = False
    for char in numeral:
        if char in _DIGITS:
            value = _DIGITS[char]
            if value == 0:
                zero_since_unit = True
                continue
            if digit is not None:
                return None  # two digits in a row inside a positional numeral
            digit = value
        else:
            unit = _UNITS[char]
            if last_unit and unit >= last_unit:
                return None  # 十百, 百百 …
            section += (digit if digit is not None else 1) * unit
            digit = None
            last_unit = unit
            zero_since_unit = False
    if digit is not None:
        # 一百三 is 130 and 两千五 is 2500: a trailing digit counts in the next unit down.
        if last_unit >= 100 and not zero_since_unit:
            section += digit * (last_unit // 10)
        else:
            section += digit
    return section


def _format_number(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


_HEIGHT_CN = re.compile(
    r"(?<![\d一二三四五六七八九十])([一1])\s*米\s*([零〇一二三四五六七八九]{1,2}|\d{1,2})(?![\d米])"
)
_HEIGHT_DECIMAL = re.compile(r"(?<![\d.])([12])\.(\d{1,2})\s*(?:米|m(?![a-z]))")
_HEIGHT_METRE = re.compile(r"(?<![\d.])1\s*m\s*(\d{1,2})(?![\d.])")


def _height(match: re.Match[str]) -> str:
    tail = match.group(2)
    digits = "".join(str(_DIGITS[char]) if char in _DIGITS else char for char in tail)
    centimetres = 100 + (int(digits) * 10 if len(digits) == 1 else int(digits))
    return f"{centimetres}cm"


def _height_decimal(match: re.Match[str]) -> str:
    metres = float(f"{match.group(1)}.{match.group(2)}")
    return f"{round(metres * 100)}cm"


def _height_metre(match: re.Match[str]) -> str:
    tail = match.group(1)
    return f"{100 + (int(tail) * 10 if len(tail) == 1 else int(tail))}cm"


def _before_measure(text: str, end: int) -> bool:
    return text[end:end + 1] in _MEASURES or text.startswith(_MEASURE_WORDS, end)


def _convert_run(text: str, start: int, end: int) -> str | None:
    """The digits for the numeral text[start:end], or None to leave it alone."""
    run = text[start:end]
    if run[0] in "百千万" or not any(char in _DIGITS or char == "十" for char in run):
        return None
    positional = any(char in "十百千万" for char in run)
    measured = _before_measure(text, end)
    if "点" in run:
        value = chinese_to_number(run)
        return None if value is None else _format_number(value)
    if not positional:
        if len(run) == 2 and run in _RANGES and measured:
            return f"{_DIGITS[run[0]]}-{_DIGITS[run[1]]}"
        at_boundary = end == len(text) or text[end] in _BOUNDARY_CHARS
        if len(run) == 1 and not measured:
            return None
        if len(run) == 2 and not (measured or at_boundary):
            return None
    elif len(run) == 1 and not measured:
        return None  # 十 on its own
    value = chinese_to_number(run)
    return None if value is None else _format_number(value)


def _convert_runs(text: str) -> str:
    protected = [match.span() for match in _NOT_NUMBERS.finditer(text)]
    pieces: list[str] = []
    position = 0
    for match in _NUMERAL_RUN.finditer(text):
        start, end = match.span()
        if "点" not in match.group(0) and any(
            start < p_end and p_start < end and p_start <= start for p_start, p_end in protected
        ):
            continue
        digits = _convert_run(text, start, end)
        if digits is None:
            continue
        pieces.append(text[position:start])
        pieces.append(digits)
        position = end
    if not pieces:
        return text
    pieces.append(text[position:])
    return "".join(pieces)


_KILOGRAM_AFTER_NUMERAL = re.compile(r"(?<=[零〇一二两三四五六七八九十百\d])千克")


def convert_numbers(text: str) -> str:
    """Chinese numbers → digits, and units unified (see the module docstring)."""
    if "米" in text:
        text = _HEIGHT_CN.sub(_height, text)
    if any(char in _NUMERAL_CHARS for char in text):
        if "千克" in text:
            text = _KILOGRAM_AFTER_NUMERAL.sub("kg", text)  # or 五十千克 reads as 五十千 + 克
        text = _convert_runs(text)
        if "米" in text:  # a height whose tail was a run (一米十 → 1米10) reads as one now
            text = _HEIGHT_CN.sub(_height, text)
    if "." in text or "m" in text:
        text = _HEIGHT_DECIMAL.sub(_height_decimal, text)
        text = _HEIGHT_METRE.sub(_height_metre, text)
    return _unify_units(text)


_UNITS_CANONICAL = {
    "公斤": "kg", "千克": "kg", "kg": "kg", "kgs": "kg",
    "厘米": "cm", "公分": "cm", "cm": "cm",
    "块钱": "元", "块": "元", "元钱": "元", "rmb": "元",
    "jin": "斤",
    "个小时": "小时", "个钟头": "小时", "钟头": "小时", "个钟": "小时", "h": "小时",
    "个工作日": "天", "工作日": "天", "日": "天",
    "个星期": "周", "个礼拜": "周", "星期": "周", "礼拜": "周",
    "个月": "月",
}
_UNIT_RE = re.compile(
    r"(\d)\s*(?:(公斤|千克|kgs?|厘米|公分|cm|rmb|jin|h)(?![a-z])|(块钱|块|元钱|个小时|个钟头|钟头|个钟|"
    r"个工作日|工作日|个月)|(日)(?![本常用期子])|(个星期|个礼拜|星期|礼拜)(?![一二三四五六天日\d]))"
)


def _unit(match: re.Match[str]) -> str:
    unit = match.group(2) or match.group(3) or match.group(4) or match.group(5)
    return match.group(1) + _UNITS_CANONICAL[unit]


def _unify_units(text: str) -> str:
    if not any(char.isdigit() for char in text):
        return text
    return _UNIT_RE.sub(_unit, text)


# --------------------------------------------------------------------------- punctuation, particles

# Particles that carry no meaning anywhere in a question.
_PARTICLES_ANYWHERE = "吗嘛呀啊哦啦噢喔哇咧哟嘞呦~"  # and 呗, except in 花呗
# Particles dropped only at the end of a clause (呢子 is a fabric, 哈密 a city, 酒吧 a bar).
_PARTICLES_AT_END = "呢哈嗯呐滴吧么咯"
_KEEP_BEFORE_END_ME = "什怎那这多为要"  # 什么 怎么 那么 … keep their 么
_PARTICLE_ANYWHERE_RE = re.compile(f"(?<!花)呗|[{_PARTICLES_ANYWHERE}]+")  # 花呗 is Huabei
_PARTICLE_END_RE = re.compile(f"(?<![{_KEEP_BEFORE_END_ME}])[{_PARTICLES_AT_END}]+(?= |$)")
_ME_END_RE = re.compile("么(?= |$)")
# 亲 as a form of address: at the start of a clause or alone.
_QIN_RE = re.compile(r"(?:(?<= )|^)(?:亲爱的|亲亲|亲)(?!子|戚|人|自|手|肤|身|测|友|属)|亲+(?= |$)")
_SPACES = re.compile(r"\s+")
_YUAN_SIGN = re.compile(r"¥\s*(\d+(?:\.\d+)?)")
_DECIMAL_POINT = re.compile(r"(?<=\d)\.(?=\d)")
_DIGIT_RANGE = re.compile(r"(?<=\d)[-~—](?=\d)")


def _is_separator(char: str) -> bool:
    if char.isspace():
        return True
    category = unicodedata.category(char)
    return category[0] in "PSZC"


def _strip_symbols(text: str) -> str:
    if text.isalnum():
        return text
    # Keep 1.63 and 3-5 (a range): a point or a hyphen between digits is part of the number.
    kept = _DECIMAL_POINT.sub("\u0000", text)
    if "-" in kept or "~" in kept or "—" in kept:
        kept = _DIGIT_RANGE.sub("\u0001", kept)
    out = []
    for char in kept:
        if char == "\u0000":
            out.append(".")
        elif char == "\u0001":
            out.append("-")
        elif char == "%":
            out.append(char)
        elif _is_separator(char):
            out.append(" ")
        else:
            out.append(char)
    return "".join(out)


def remove_particles(text: str) -> str:
    """Drop sentence particles from text already normalised with ``strip_particles=False``."""
    text = _PARTICLE_ANYWHERE_RE.sub("", text)
    for _round in range(3):  # dropping one particle can leave another at the end: 亲么
        before = text
        text = _QIN_RE.sub("", text)
        text = _PARTICLE_END_RE.sub("", text)
        if text == before:
            break
    return _SPACES.sub(" ", text).strip()


def _normalize(text: str, strip_particles: bool) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = to_simplified(text)
    if _COLLOQUIAL_RE.search(text):
        text = _COLLOQUIAL_RE.sub(lambda match: _COLLOQUIAL[match.group(0)], text)
    if "¥" in text:
        text = _YUAN_SIGN.sub(r"\1元", text)
    text = _strip_symbols(text)
    text = _SPACES.sub(" ", text).strip()
    if strip_particles:
        text = remove_particles(text)
    text = convert_numbers(text)
    return _SPACES.sub(" ", text).strip()


_normalize_memo = TextMemo(_normalize)


def clear_caches() -> None:
    """Forget cached normalisations (for benchmarks)."""
    _normalize_memo.cache_clear()


def normalize(text: str, *, strip_particles: bool = True) -> str:
    """Normalise one buyer message (or FAQ text) for matching; see the module docstring.

    With ``strip_particles=False`` the sentence particles stay (吗 tells a question from a
    statement, which the after-sales guard needs).
    """
    return _normalize_memo(text, strip_particles)  # memoised: see kefu.kit.memo
