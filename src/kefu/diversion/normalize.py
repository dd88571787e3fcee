"""Text normalisation for the diversion detector.

Merchants who want to leave a contact disguise it: full-width letters (ｖｘ), traditional
characters (微信號), digits written five ways (一三八, 壹贰叁, ①③⑧, 1️⃣, 𝟏), letters that look
like digits (139O0l23456), and spaces, dots or emoji between the characters (微 😊 信, 1 3 8).
:func:`normalize` undoes all of that and keeps, for every character it produces, the index of
the original character it came from, so a verdict can quote what the sender really wrote.

Two views are produced:

``folded``
    every character folded (NFKC width/compatibility forms, lower case, traditional →
    simplified, every digit form → ASCII digit), with separators kept. Links, e-mail addresses
    and shop tokens (￥AbCd123￥) are looked for here.
``compact``
    ``folded`` without the separators (spaces, punctuation, symbols, emoji), Chinese numerals
    inside a run of numerals turned into digits, and look-alike letters inside a digit run
    (O o → 0, l I i → 1) turned into digits. Contact words and numbers are looked for here.

Three symbols survive in ``compact`` because they mean something: ``+`` (+v, +86), ``@``
(@handle) and ``♥`` (every heart emoji; "V❤" is a common way to write 微信). A list separator
(、 ， , ； /) between two digits becomes ``/`` so that "1、3、8" is not read as "138".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from kefu.kit.memo import TextMemo

__all__ = [
    "HEART",
    "Normalized",
    "fold_char",
    "normalize",
    "to_simplified_char",
]

HEART = "♥"

# Kinds of a folded character.
_KEEP = 0  # stays in both views
_SEP = 1  # separator: in ``folded`` only; marks a boundary in ``compact``
_DROP = 2  # invisible (zero-width, variation selector, keycap mark): in neither view
_HARD = 3  # a list separator: like _SEP, but a digit run does not continue over it

_HEARTS = frozenset("❤♥♡❣💗💓💕💖💘💝💞💟💜💙💚💛🧡🖤🤍🤎💌😍🥰😘")
# Emoji that stand for a character or a word in disguised contacts.
_EMOJI_WORDS = {
    "🐧": "企鹅",  # QQ
    "🐟": "鱼", "🐠": "鱼", "🐡": "鱼", "🎣": "鱼",  # 闲鱼
    "🍑": "桃",  # 桃宝
    "🍠": "薯",  # 小红薯 = 小红书
    "📞": "电话", "☎": "电话", "📱": "手机", "📲": "手机",
    "📧": "邮箱", "✉": "邮箱", "📩": "邮箱",
    "➕": "+", "＋": "+", "﹢": "+",
}
# Characters that separate digit groups in lists ("1、3、8 号色") rather than disguise a number.
_HARD_SEPARATORS = frozenset("、，,；;/／|｜")
# Marks that end a clause (a negation does not reach over them).
_CLAUSE_MARKS = frozenset("，,。！!？?；;~～…\n、")
# Separators that are still kept in the compact view.
_KEPT_SYMBOLS = frozenset("+@" + HEART)

CHINESE_DIGITS = {
    "零": "0", "〇": "0", "○": "0", "一": "1", "幺": "1", "二": "2", "两": "2", "三": "3",
    "四": "4", "五": "5", "六": "6", "七": "7", "八": "8", "九": "9",
}
FINANCIAL_DIGITS = {
    "壹": "1", "贰": "2", "貳": "2", "叁": "3", "參": "3", "叄": "3", "肆": "4", "伍": "5",
    "陆": "6", "陸": "6", "柒": "7", "捌": "8", "玖": "9",
}
_NUMERAL_RUN = re.compile("[0-9" + "".join(CHINESE_DIGITS) + "]{3,}")
_CHINESE_NUMERAL = re.compile("[" + "".join(CHINESE_DIGITS) + "]")
_LOOKALIKE_RUN = re.compile(r"(?<=[0-9])[oil]+(?=[0-9])")
_LOOKALIKE_DIGIT = {"o": "0", "i": "1", "l": "1"}


class _TraditionalTable:
    """Traditional → simplified, one character at a time (so positions are kept).

    The table is OpenCC's own t2s character dictionary, converted once with
    opencc-python-reimplemented when the first traditional character is looked up.
    """

    def __init__(self) -> None:
        self._table: dict[str, str] | None = None

    def _load(self) -> dict[str, str]:
        import opencc

        converter = opencc.OpenCC("t2s")
        path = Path(opencc.__file__).parent / "dictionary" / "TSCharacters.txt"
        with open(path, encoding="utf-8") as handle:
            keys = [line.split("\t", 1)[0] for line in handle if "\t" in line]
        keys = [key for key in keys if len(key) == 1]
        converted = str(converter.convert("\n".join(keys))).split("\n")
        table = {
            key: value for key, value in zip(keys, converted, strict=False)
            if len(value) == 1 and value != key
        }
        self._table = table
        return table

    def get(self, ch: str) -> str:
        table = self._table if self._table is not None else self._load()
        return table.get(ch, ch)


_T2S = _TraditionalTable()


def to_simplified_char(ch: str) -> str:
    """The simplified form of one character (itself when it has none)."""
    return _T2S.get(ch)


def _is_cjk(ch: str) -> bool:
    code = ord(ch)
    return (0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF
            or 0x20000 <= code <= 0x2FA1F or 0xF900 <= code <= 0xFAFF)


def _digit_of(ch: str) -> str | None:
    """The ASCII digits a digit-like character stands for (①→1, ⑩→10, 𝟏→1), or None."""
    digit = unicodedata.digit(ch, None)
    if digit is not None:
        return str(digit)
    if unicodedata.category(ch) == "No" and not _is_cjk(ch):
        value = unicodedata.numeric(ch, None)
        if value is not None and value == int(value) and 0 <= value <= 50:
            return str(int(value))
    return None


@lru_cache(maxsize=65536)
def fold_char(ch: str) -> tuple[str, int]:
    """Fold one character: (replacement text, kind). Cached: the alphabet of chats is small."""
    if ch in _HEARTS:
        return HEART, _KEEP
    word = _EMOJI_WORDS.get(ch)
    if word is not None:
        return word, _KEEP
    if ch in FINANCIAL_DIGITS:
        return FINANCIAL_DIGITS[ch], _KEEP
    if ch in _HARD_SEPARATORS:
        return ch, _HARD
    if ch in "\n\r\t":
        return " ", _SEP
    category = unicodedata.category(ch)
    if category in ("Mn", "Me", "Cf", "Cc", "Sk") and ch not in "^`":
        # combining marks (keycap ⃣, variation selectors FE0F), zero-width spaces, controls,
        # and emoji skin-tone modifiers (Sk) carry nothing.
        return "", _DROP
    if 0x1F3FB <= ord(ch) <= 0x1F3FF:
        return "", _DROP
    if not _is_cjk(ch):
        digit = _digit_of(ch)
        if digit is not None:
            return digit, _KEEP
    folded = unicodedata.normalize("NFKC", ch).lower()
    if not folded:
        return "", _DROP
    if len(folded) == 1 and _is_cjk(folded):
        folded = to_simplified_char(folded)
        return folded, _KEEP
    out = []
    kind = _KEEP
    for part in folded:
        if part.isalnum() or _is_cjk(part):
            out.append(to_simplified_char(part) if _is_cjk(part) else part)
        elif part in _KEPT_SYMBOLS:
            out.append(part)
        elif part.isspace():
            out.append(" ")
            kind = _SEP
        else:
            out.append(part)
            kind = _SEP
    text = "".join(out)
    if kind == _SEP and any(p.isalnum() for p in text):
        # e.g. "㈠" → "(一)" — keep the alphanumeric part only.
        text = "".join(p for p in text if p.isalnum() or _is_cjk(p))
        kind = _KEEP
    if kind == _SEP and len(text) != 1:
        text = ch  # "…" stays one character in the folded view
    return text, kind


# One-character codes of how a character folds, for the fast path of :func:`normalize`:
# k keep (one character out), s separator, c clause-ending separator, h list separator,
# x clause-ending list separator, d dropped, m anything else (the slow path handles it).
def _char_code(ch: str) -> tuple[str, str | None, str | None]:
    """(code, compact output, folded output) of one character."""
    out, kind = fold_char(ch)
    if kind == _DROP:
        return "d", None, None
    if kind == _KEEP:
        plain = ch.isascii() or _is_cjk(ch) or 0xFF01 <= ord(ch) <= 0xFF5E or out.isdigit()
        if len(out) == 1 and plain:
            return "k", out, out
        return "m", None, None
    clause = ch in _CLAUSE_MARKS
    if kind == _HARD:
        return ("x" if clause else "h"), None, out
    return ("c" if clause else "s"), None, out


class _Tables:
    """``str.translate`` tables (code, compact, folded) of the characters seen so far.

    Plain dicts (``str.translate`` is much faster with them than with a ``__missing__``
    hook); a character not seen before is left as it is by the code table, which is how
    :func:`_normalize` notices that the tables must learn it first. ASCII is learnt up front,
    so an unknown character is never one of the code letters.
    """

    def __init__(self) -> None:
        self.code: dict[int, str | None] = {}
        self.compact: dict[int, str | None] = {}
        self.folded: dict[int, str | None] = {}
        self.learn("".join(chr(i) for i in range(128)))

    def learn(self, text: str) -> None:
        if len(self.code) > 200_000:  # a flood of distinct characters: start again
            self.code.clear()
            self.compact.clear()
            self.folded.clear()
            self.learn("".join(chr(i) for i in range(128)))
        for ch in set(text):
            key = ord(ch)
            if key not in self.code:
                code, compact, folded = _char_code(ch)
                self.code[key] = code
                self.compact[key] = compact
                self.folded[key] = folded


_TABLES = _Tables()
_UNKNOWN_CODE = re.compile("[^kschxdm]")
_SEPARATOR_RUN = re.compile("[schxd]+")


class Normalized:
    """The two normalised views of a text, each with a map back to the original.

    ``folded``, ``folded_map`` and ``compact_map`` are worked out on first use: most
    messages are clean and never need them.
    """

    __slots__ = ("_codes", "_compact_map", "_folded", "_folded_map", "boundary", "clause",
                 "compact", "disguise", "original")

    original: str
    compact: str
    boundary: bytes
    """``boundary[i]`` is 1 when a separator stood between compact[i-1] and compact[i]."""
    disguise: bytes
    """``disguise[i]`` is 1 when compact[i] came from an emoji or a look-alike character."""
    clause: bytes
    """``clause[i]`` is 1 when a clause mark (， 。 ！ ？ ； newline …) stood before compact[i]."""

    def __init__(self, original: str, compact: str, boundary: bytes, disguise: bytes,
                 clause: bytes, *, codes: str | None = None,
                 compact_map: Sequence[int] | None = None, folded: str | None = None,
                 folded_map: Sequence[int] | None = None) -> None:
        self.original = original
        self.compact = compact
        self.boundary = boundary
        self.disguise = disguise
        self.clause = clause
        self._codes = codes
        self._compact_map = compact_map
        self._folded = folded
        self._folded_map = folded_map

    def __repr__(self) -> str:
        return f"Normalized(original={self.original!r}, compact={self.compact!r})"

    @property
    def compact_map(self) -> Sequence[int]:
        """compact_map[i] is the index in ``original`` that compact[i] came from."""
        if self._compact_map is None:
            codes = self._codes or ""
            if len(self.compact) == len(codes):
                self._compact_map = range(len(codes))
            else:
                self._compact_map = [i for i, code in enumerate(codes) if code == "k"]
        return self._compact_map

    @property
    def folded(self) -> str:
        if self._folded is None:
            self._folded = self.original.translate(_TABLES.folded)
        return self._folded

    @property
    def folded_map(self) -> Sequence[int]:
        """folded_map[i] is the index in ``original`` that folded[i] came from."""
        if self._folded_map is None:
            codes = self._codes or ""
            self._folded_map = ([i for i, code in enumerate(codes) if code != "d"]
                                if "d" in codes else range(len(codes)))
        return self._folded_map

    def clause_start(self, index: int, reach: int) -> int:
        """The start of the clause holding compact[index], looking back at most ``reach``."""
        low = max(0, index - reach)
        for i in range(index, low, -1):
            if self.clause[i]:
                return i
        return low

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original text span that compact[start:end] came from."""
        if start >= end:
            return (0, 0)
        cmap = self.compact_map
        return cmap[start], cmap[end - 1] + 1

    def original_text(self, start: int, end: int) -> str:
        a, b = self.original_span(start, end)
        return self.original[a:b]

    def folded_original_text(self, start: int, end: int) -> str:
        """The original text span that folded[start:end] came from."""
        if start >= end:
            return ""
        fmap = self.folded_map
        return self.original[fmap[start]:fmap[end - 1] + 1]

    def is_disguised(self, start: int, end: int) -> bool:
        """True when compact[start:end] was written with separators or emoji between its
        characters, or with emoji / look-alike characters standing for some of them."""
        if any(self.disguise[start:end]):
            return True
        return any(self.boundary[start + 1:end])


def _normalize(text: str) -> Normalized:
    codes = text.translate(_TABLES.code)
    if _UNKNOWN_CODE.search(codes) is not None:
        _TABLES.learn(text)
        codes = text.translate(_TABLES.code)
    if "m" in codes:
        return _normalize_slow(text)
    return _normalize_fast(text, codes)


def _normalize_fast(text: str, codes: str) -> Normalized:
    """Every character folds to at most one character: translate tables do the work."""
    compact = text.translate(_TABLES.compact)
    size = len(compact)
    boundary = bytearray(size)
    clause = bytearray(size)
    inserts: list[tuple[int, int]] = []
    if size != len(text):
        skipped = 0
        for match in _SEPARATOR_RUN.finditer(codes):
            start, end = match.span()
            skipped += end - start
            j = end - skipped
            if j >= size:
                break
            run = match.group()
            if not run.strip("d"):
                continue  # only invisible characters: no boundary
            boundary[j] = 1
            if "c" in run or "x" in run:
                clause[j] = 1
            if (("h" in run or "x" in run) and j > 0 and compact[j - 1].isdigit()
                    and compact[j].isdigit()):
                inserts.append((j, start + max(run.rfind("h"), run.rfind("x"))))
    compact_map: list[int] | None = None
    if inserts:  # "1、3、8": a list, not the number 138
        chars = list(compact)
        compact_map = [i for i, code in enumerate(codes) if code == "k"]
        marks = list(boundary)
        clauses = list(clause)
        for j, at in reversed(inserts):
            chars.insert(j, "/")
            compact_map.insert(j, at)
            marks.insert(j, 1)
            clauses.insert(j, clauses[j])
        compact = "".join(chars)
        boundary = bytearray(marks)
        clause = bytearray(clauses)
    disguise = bytearray(len(compact))
    compact, disguise = _convert_digits(compact, boundary, disguise)
    return Normalized(text, compact, bytes(boundary), bytes(disguise), bytes(clause),
                      codes=codes, compact_map=compact_map)


def _normalize_slow(text: str) -> Normalized:
    """Character by character, for texts with emoji words, hearts, ligatures and the like."""
    folded: list[str] = []
    folded_map: list[int] = []
    compact: list[str] = []
    compact_map: list[int] = []
    boundary = bytearray()
    disguise = bytearray()
    clause = bytearray()
    in_clause = 0
    pending = 0  # 1: a separator since the last kept char; 2: a list separator
    hard_at = 0
    for index, ch in enumerate(text):
        out, kind = fold_char(ch)
        if kind == _DROP:
            continue
        for part in out:
            folded.append(part)
            folded_map.append(index)
        if kind == _KEEP:
            if pending == 2 and compact and compact[-1].isdigit() and out[:1].isdigit():
                compact.append("/")
                compact_map.append(hard_at)
                boundary.append(1)
                disguise.append(0)
                clause.append(in_clause)
            # An emoji, a circled or mathematical letter standing for a character is a
            # disguise; a full-width letter is only an input method.
            emoji = 0 if ch.isascii() or _is_cjk(ch) or 0xFF01 <= ord(ch) <= 0xFF5E else 1
            for i, part in enumerate(out):
                compact.append(part)
                compact_map.append(index)
                boundary.append(1 if pending and i == 0 else 0)
                disguise.append(1 if emoji and not part.isdigit() else 0)
                clause.append(in_clause if i == 0 else 0)
            pending = in_clause = 0
        else:
            if ch in _CLAUSE_MARKS:
                in_clause = 1
            if kind == _HARD:
                pending = 2
                hard_at = index
            elif pending != 2:
                pending = 1
    compact_text, disguise = _convert_digits("".join(compact), boundary, disguise)
    return Normalized(text, compact_text, bytes(boundary), bytes(disguise), bytes(clause),
                      compact_map=compact_map, folded="".join(folded), folded_map=folded_map)


def _convert_digits(compact: str, boundary: bytearray,
                    disguise: bytearray) -> tuple[str, bytearray]:
    if _CHINESE_NUMERAL.search(compact) is not None and _NUMERAL_RUN.search(compact):
        compact = _convert_numeral_runs(compact)
    if ("o" in compact or "l" in compact or "i" in compact) and _LOOKALIKE_RUN.search(compact):
        compact, disguise = _convert_lookalikes(compact, boundary, disguise)
    return compact, disguise


def _convert_numeral_runs(text: str) -> str:
    """Chinese numerals → digits inside a run with at least three numerals (一三八 → 138),
    so that 一下, 三五天 and 两件 stay words."""
    chars = list(text)
    for match in _NUMERAL_RUN.finditer(text):
        run = match.group()
        chinese = sum(1 for ch in run if ch in CHINESE_DIGITS)
        if chinese >= 3 or (chinese >= 1 and len(run) >= 5):
            for i in range(match.start(), match.end()):
                chars[i] = CHINESE_DIGITS.get(chars[i], chars[i])
    return "".join(chars)


def _convert_lookalikes(text: str, boundary: bytearray,
                        disguise: bytearray) -> tuple[str, bytearray]:
    """O o → 0 and l I i → 1 when written right inside a digit run (139O0l23456)."""
    chars = list(text)
    for match in _LOOKALIKE_RUN.finditer(text):
        start, end = match.span()
        if boundary[start] or (end < len(boundary) and boundary[end]):
            continue  # "M 88 / L 92": a letter between spaced numbers is a letter
        for i in range(start, end):
            chars[i] = _LOOKALIKE_DIGIT[chars[i]]
            disguise[i] = 1
    return "".join(chars), disguise


_normalize_memo = TextMemo(_normalize)


def normalize(text: str) -> Normalized:
    """Normalise ``text`` (memoised: see kefu.kit.memo)."""
    return _normalize_memo(text)
