"""The diversion (导流) detector: does a chat message try to move the buyer off the platform?

Pipeline for one text (see docs/diversion.md for the operator's view):

1. :func:`~kefu.diversion.normalize.normalize` gives a *folded* and a *compact* view with a
   map back to the original characters.
2. One Aho-Corasick pass over the compact view finds contact words (微信, 薇信, vx, 扣扣, 企鹅,
   手机, 淘宝, 某宝, 扫码加 …), look-alike phrases that cancel them (微信支付, QQ糖, Q版, V领 …)
   and number context (订单号, 快递, 收货 …). A regex built from pypinyin's dictionary adds
   unseen homophones of 微信 / 扣扣 / 企鹅 / 淘宝 … (喂信, 围信, 桃宝).
3. Each contact word is judged: an account right after it (微信 abc_123, 扣扣 123456) is a hit;
   a STRONG word is a hit; a WEAK word is a hit with a contact verb next to it (加微信, 微信号,
   淘宝搜) or when written in disguise (微 😊 信).
4. Numbers: mainland mobiles (also +86, spaced, Chinese numerals), landlines; order, tracking,
   delivery, price and hotline context clears them.
5. Links, e-mail addresses and shop tokens (￥AbCd123￥) in the folded view.
6. The best hit becomes the :class:`Verdict`. With ``recent`` messages the same scan runs over
   the joined window, keeping only hits that reach into the current message.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any, NamedTuple

import ahocorasick

from kefu.diversion import vocabulary as vocab
from kefu.diversion.normalize import Normalized, normalize
from kefu.kit import pinyin

__all__ = [
    "Detector",
    "Verdict",
    "default_detector",
]


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the detector decided about one message (or image)."""

    is_diversion: bool
    channel: str | None = None
    """wechat | qq | phone | external_platform | link | qr | other (None when clean)."""
    matched: str | None = None
    """The span of the original text that matched (messages of a window joined by newlines)."""
    reason: str = ""
    rule: str = "clean"
    used_window: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


CLEAN = Verdict(False, None, None, "未发现站外联系方式", "clean", False)

# --------------------------------------------------------------------------- internals

_KIND_CUE = 0
_KIND_EXCLUDE = 1
_KIND_ORDER = 2
_KIND_DELIVERY = 3


class _Entry(NamedTuple):
    kind: int
    channel: str
    strength: int
    length: int
    ascii_start: int  # 0: no check, 1: starts with a letter, 2: starts with a digit
    ascii_end: int


class _Cue(NamedTuple):
    start: int
    end: int
    channel: str
    strength: int
    homophone: bool


class _Hit(NamedTuple):
    priority: int
    start: int  # compact (or folded, when ``folded`` is True) span
    end: int
    channel: str
    rule: str
    reason: str
    folded: bool


_PRIORITY_ACCOUNT = 100
_PRIORITY_NUMBER = 95
_PRIORITY_EMAIL = 92
_PRIORITY_LINK = 90
_PRIORITY_TOKEN = 85
_PRIORITY_WORD = {
    "wechat": 70, "qq": 70, "external_platform": 65, "qr": 60, "phone": 55, "link": 55,
    "other": 50,
}

_MOBILE = re.compile(r"(?<![0-9])(?:\+?0?86)?1[3-9][0-9]{9}(?![0-9])")
_LANDLINE = re.compile(r"(?<![0-9])0[1-9][0-9]{1,2}[2-9][0-9]{6,7}(?![0-9])")
_LANDLINE_FORMATTED = re.compile(
    r"(?<![0-9])(?:\(0[1-9][0-9]{1,2}\)|0[1-9][0-9]{1,2}-)\s?[2-9][0-9]{6,7}(?![0-9])")
_ACCOUNT = re.compile(r"[a-z0-9]+")
_DIGITS = re.compile(r"[0-9]+")
_LETTERS_BEFORE = re.compile(r"[a-z]+$")
_CURRENCY = "¥$€£₤₳₴₰₲₱₣₵₭₮₯₠₡₢₥₦₧₨₩₪₫₸₹₺₼₽₿¢"
_TOKEN = re.compile(rf"[{_CURRENCY}]\s?([a-z0-9]{{6,16}})\s?[{_CURRENCY}]")
_EMAIL = re.compile(r"(?<![a-z0-9._%+-])[a-z0-9][a-z0-9._%+-]*@[a-z0-9-]+(?:\.[a-z0-9-]+)*"
                    r"\.[a-z]{2,}")
_TLDS = "|".join(vocab.LINK_TLDS)
_LINK = re.compile(
    r"(?:https?|ftp)\s?:\s?/\s?/\s?[^\s，。！？、]+"
    r"|www\s?[.。]\s?[a-z0-9-]+[^\s，。！？、]*"
    rf"|(?<![a-z0-9@._-])[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:{_TLDS})(?![a-z0-9])"
    r"(?:/[^\s，。！？、]*)?"
    r"|(?<![a-z0-9@._-])[a-z0-9][a-z0-9-]+\s?(?:。|点|dot)\s?(?:com|cn|net|top|xyz)(?![a-z0-9])"
    r"(?:/[^\s，。！？、]*)?")
_PHONE_LETTERS = frozenset({"tel", "call", "phone", "mobile", "dh", "sj", "cell", "tele"})
_PHONE_COUNTRY = re.compile(r"^\+?0?86")
_WINDOW_NEEDED = re.compile("[0-9a-z+@♥零〇一二三四五六七八九两幺]")
_LINK_HINT = re.compile(r"http|www|com|cn|net|top|xyz")
_HAS_DIGIT = re.compile("[0-9]")
_CHUNK = 2000  # texts longer than two of these are judged in overlapping pieces
_OVERLAP = 200
_WINDOW_TAIL = 120
# Signs of a link or an address in the original text (before folding): dots of all widths,
# "点" / "dot" written for a dot, at-signs.
_LINK_SIGN = re.compile(r"[.．。｡点@＠﹫]|[dDｄ][oOｏ][tTｔ]")
_CURRENCY_SIGN = re.compile(f"[{_CURRENCY}￥＄￡￠]")


def _ascii_kind(ch: str) -> int:
    if "a" <= ch <= "z":
        return 1
    if "0" <= ch <= "9":
        return 2
    return 0


def _fold_word(word: str) -> str:
    return normalize(word).compact


def _alternation(words: Iterable[str]) -> str:
    unique = sorted({_fold_word(w) for w in words} - {""}, key=len, reverse=True)
    return "|".join(re.escape(w) for w in unique)


@lru_cache(maxsize=1)
def _pinyin_index() -> dict[str, str]:
    """syllable → all characters whose usual reading is that syllable (toneless); used for
    unseen homophones (喂信, 桃宝)."""
    wanted = {s for pairs in vocab.HOMOPHONES.values() for pair in pairs for s in pair}
    by_syllable = pinyin.characters_by_syllable()
    return {syllable: "".join(by_syllable.get(syllable, ())) for syllable in wanted}


class _Homophones:
    """Finds homophones of contact words: every character is first replaced by a code for its
    pinyin syllable (one ``str.translate``), then a small regex looks for the code pairs."""

    _BASE = 0xE000  # private-use code points never occur in the compact view

    def __init__(self, own_platforms: Iterable[str] = ()) -> None:
        index = _pinyin_index()
        syllables = sorted(index)
        code = {syl: chr(self._BASE + n) for n, syl in enumerate(syllables)}
        self.table: dict[int, str] = {}
        for syl in syllables:
            for ch in index[syl]:
                self.table[ord(ch)] = code[syl]
        parts = []
        for channel, pairs in vocab.HOMOPHONES.items():
            for n, (first, second) in enumerate(pairs):
                if first in code and second in code:
                    parts.append(f"(?P<{channel}_{n}>{code[first]}{code[second]})")
        if "wei" in code:
            wei = code["wei"]
            parts.append(f"(?P<wechat_heart>{wei}♥)")
            # "+威 abc123", "加薇 abc123": one character of 微信 after a plus / 加
            parts.append(f"(?P<wechat_plus>[+加][{wei}v♥])")
            # "薇x", "威 x": like vx
            parts.append(f"(?P<wechat_x>{wei}x)")
        self.pattern = re.compile("|".join(parts))
        # The platform's own name and its homophones are not "another platform".
        self.own = frozenset(word.translate(self.table) for word in own_platforms)

    def finditer(self, compact: str) -> Iterable[re.Match[str]]:
        coded = compact.translate(self.table)
        if coded == compact and "+" not in compact and "加" not in compact:
            return ()
        return self.pattern.finditer(coded)


_QR_SCAN = re.compile("扫.{0,6}?(?:加我|加好友|好友|进群|入群|拉你|加群|联系我)")


class Detector:
    """Built once (vocabulary, automaton, regexes); :meth:`detect` is thread-safe."""

    def __init__(self, *, hotlines: Sequence[str] = vocab.DEFAULT_HOTLINES,
                 allowed_domains: Sequence[str] = (), own_platforms: Sequence[str] = (),
                 window_size: int = 5) -> None:
        """``hotlines``: numbers that are never a contact (the platform's service line);
        ``allowed_domains``: link domains of the platform itself; ``own_platforms``: platform
        names that are this platform (not "another platform"); ``window_size``: how many
        recent messages of the sender :meth:`detect` joins with the current one."""
        self.hotlines = frozenset(hotlines)
        self.allowed_domains = tuple(d.lower().lstrip(".") for d in allowed_domains)
        self.window_size = window_size
        own = {_fold_word(p) for p in own_platforms}
        self._automaton = self._build_automaton(own)
        self._homophones = _Homophones(own)
        self._pre = {ch: re.compile(f"(?:{_alternation(v.split())})$")
                     for ch, v in vocab.PRE_VERBS.items() if v}
        self._post = {ch: re.compile(f".{{0,{vocab.POST_REACH.get(ch, 3)}}}?"
                                     f"(?:{_alternation(v.split())})")
                      for ch, v in vocab.POST_VERBS.items() if v}
        self._negation = re.compile(f"(?:{_alternation(vocab.NEGATIONS)})")
        self._units = re.compile(f"(?:{_alternation(vocab.UNITS)})")
        self._couriers = frozenset(vocab.COURIER_PREFIXES)

    # ----------------------------------------------------------------------- building

    @staticmethod
    def _build_automaton(own_platforms: set[str]) -> Any:
        automaton = ahocorasick.Automaton()
        entries: dict[str, list[_Entry]] = {}

        def add(word: str, kind: int, channel: str = "", strength: int = 0) -> None:
            key = _fold_word(word)
            if not key:
                return
            entry = _Entry(kind, channel, strength, len(key), _ascii_kind(key[0]),
                           _ascii_kind(key[-1]))
            entries.setdefault(key, []).append(entry)

        for cue in vocab.ALL_WORDS:
            if cue.channel == "external_platform" and _fold_word(cue.word) in own_platforms:
                continue
            add(cue.word, _KIND_CUE, cue.channel, cue.strength)
        for word in (*vocab.EXCLUSIONS, *vocab.SEEN_ON_PLATFORM):
            add(word, _KIND_EXCLUDE)
        for word in vocab.ORDER_CUES:
            add(word, _KIND_ORDER)
        for word in vocab.DELIVERY_CUES:
            add(word, _KIND_DELIVERY)
        for key, values in entries.items():
            automaton.add_word(key, tuple(values))
        automaton.make_automaton()
        return automaton

    # ----------------------------------------------------------------------- public API

    def detect(self, text: str, recent: Sequence[str] = ()) -> Verdict:
        """Judge ``text``; ``recent`` are the sender's previous messages, oldest first."""
        if len(text) > _CHUNK * 2:
            return self._detect_long(text)
        norm = normalize(text)
        hits = self._scan(norm)
        best = _best(hits)
        if best is not None:
            return self._verdict(norm, best, used_window=False, window_messages=1)
        # only the tail of each recent message can hold the first half of a split contact
        recent = ([m[-_WINDOW_TAIL:] for m in recent[-self.window_size:] if m]
                  if self.window_size else [])
        if not recent or not self._worth_window(norm):
            return CLEAN
        joined = "\n".join([*recent, text])
        offset = len(joined) - len(text)
        wnorm = normalize(joined)
        window_hits = []
        for hit in self._scan(wnorm):
            a, b = _original_span(wnorm, hit)
            if a < offset < b:
                window_hits.append(hit)
        best = _best(window_hits)
        if best is None:
            return CLEAN
        starts = [0]
        for message in recent:
            starts.append(starts[-1] + len(message) + 1)
        first = bisect.bisect_right(starts, _original_span(wnorm, best)[0]) - 1
        return self._verdict(wnorm, best, used_window=True,
                             window_messages=len(recent) - first + 1)

    def _detect_long(self, text: str) -> Verdict:
        """A very long text is judged in overlapping pieces, so the time stays linear."""
        step = _CHUNK - _OVERLAP
        for start in range(0, len(text), step):
            verdict = self.detect(text[start:start + _CHUNK])
            if verdict.is_diversion:
                return verdict
        return CLEAN

    def wants_window(self, text: str) -> bool:
        """Could the sender's earlier messages change the verdict on ``text`` (clean on its
        own)? Lets the caller skip reading them for the usual message."""
        if not self.window_size or len(text) > _CHUNK * 2:
            return False
        return self._worth_window(normalize(text))

    def detect_image(self, data: bytes) -> Verdict:
        """A QR code anywhere in the picture is a hit (channel ``qr``)."""
        from kefu.diversion.qr import find_qr_codes

        found = find_qr_codes(data)
        if found is None:
            return Verdict(False, None, None, "无法解码图片", "image.unreadable", False)
        if not found:
            return Verdict(False, None, None, "图片中未发现二维码", "clean", False)
        decoded = [text for text in found if text]
        if not decoded:
            return Verdict(True, "qr", None, "图片中有二维码（无法识别内容）", "qr.image", False)
        content = decoded[0]
        inner = self.detect(content)
        kind = _describe_qr(content, inner)
        return Verdict(True, "qr", content[:200], f"图片中有二维码，{kind}：{content[:120]}",
                       "qr.image", False)

    def is_diversion(self, text: str, recent: Sequence[str] = ()) -> bool:
        return self.detect(text, recent).is_diversion

    # ----------------------------------------------------------------------- scanning

    @staticmethod
    def _worth_window(norm: Normalized) -> bool:
        """A contact split over messages continues at the start of this one (an id, digits,
        numerals: "138" / "0013" / "8000"), or this message is a short piece ("v", "信")."""
        compact = norm.compact
        return len(compact) <= 8 or _WINDOW_NEEDED.match(compact) is not None

    def _scan(self, norm: Normalized) -> list[_Hit]:
        compact = norm.compact
        if not compact:
            return []
        cues, excludes, orders, deliveries = self._words(norm)
        hits: list[_Hit] = []
        if cues:
            if excludes:
                cues = [c for c in cues
                        if not any(s <= c.start and c.end <= e for s, e in excludes)]
            for cue in cues:
                hit = self._judge_cue(norm, cue, orders, deliveries)
                if hit is not None:
                    hits.append(hit)
        if _HAS_DIGIT.search(compact) is not None:
            hits.extend(self._numbers(norm, cues, orders, deliveries))
        original = norm.original
        if _LINK_SIGN.search(original) is not None:
            hits.extend(self._links(norm))
        if _CURRENCY_SIGN.search(original) is not None:
            folded = norm.folded
            for match in _TOKEN.finditer(folded):
                token = match.group(1)
                if any(c.isalpha() for c in token):
                    shown = norm.folded_original_text(match.start(), match.end())
                    hits.append(_Hit(_PRIORITY_TOKEN, match.start(), match.end(),
                                     "external_platform", "external_platform.token",
                                     f"疑似其他平台口令：{shown}", True))
        return hits

    def _words(self, norm: Normalized) -> tuple[list[_Cue], list[tuple[int, int]],
                                                list[tuple[int, int]], list[tuple[int, int]]]:
        compact = norm.compact
        boundary = norm.boundary
        size = len(compact)
        cues: list[_Cue] = []
        excludes: list[tuple[int, int]] = []
        orders: list[tuple[int, int]] = []
        deliveries: list[tuple[int, int]] = []
        for last, entries in self._automaton.iter(compact):
            end = last + 1
            for entry in entries:
                start = end - entry.length
                # An ASCII word must not be glued to more of the same: "vx" is a word in
                # "vx：abc" and "加vx", not in "vxyz"; "1688" is not a word inside 16880000.
                if (entry.ascii_start and start > 0 and not boundary[start]
                        and _ascii_kind(compact[start - 1]) == entry.ascii_start):
                    continue
                if (entry.ascii_end and end < size and not boundary[end]
                        and _ascii_kind(compact[end]) == entry.ascii_end):
                    continue
                if entry.ascii_start == 2 and entry.ascii_end == 2 and (
                        any(boundary[start + 1:end])
                        or (start > 0 and not boundary[start] and _ascii_kind(compact[start - 1]))
                        or (end < size and not boundary[end] and _ascii_kind(compact[end]))):
                    # A number word ("1688") counts written as one: "168-8" or "b1688" is a
                    # code, an order or a size, not the platform.
                    continue
                if entry.kind == _KIND_CUE:
                    cues.append(_Cue(start, end, entry.channel, entry.strength, False))
                elif entry.kind == _KIND_EXCLUDE:
                    excludes.append((start, end))
                elif entry.kind == _KIND_ORDER:
                    orders.append((start, end))
                else:
                    deliveries.append((start, end))
        known = {(c.start, c.end) for c in cues}
        for match in self._homophones.finditer(compact):
            start, end = match.span()
            if (start, end) in known:
                continue
            group = match.lastgroup or ""
            channel = group.rsplit("_", 1)[0]
            if channel == "external_platform" and match.group() in self._homophones.own:
                continue
            if (group == "wechat_x" and end < len(compact) and not norm.boundary[end]
                    and "a" <= compact[end] <= "z"):
                continue  # "为XL": the x starts a word
            if group == "wechat_heart":
                cues.append(_Cue(start, end, channel, vocab.STRONG, True))
            else:
                cues.append(_Cue(start, end, channel, vocab.WEAK, True))
        if "扫" in compact:
            for match in _QR_SCAN.finditer(compact):
                cues.append(_Cue(match.start(), match.end(), "qr", vocab.STRONG, False))
        return cues, excludes, orders, deliveries

    # ----------------------------------------------------------------------- contact words

    def _judge_cue(self, norm: Normalized, cue: _Cue, orders: list[tuple[int, int]],
                   deliveries: list[tuple[int, int]]) -> _Hit | None:
        compact = norm.compact
        channel = cue.channel
        account = self._account(norm, cue)
        if account is not None:
            a, b = account
            word = norm.original_text(cue.start, cue.end)
            shown = norm.original_text(a, b)
            if channel == "phone" and self._number_context(norm, a, b, orders, deliveries):
                return None  # 收件人电话 / 快递单号: the buyer's delivery phone, an order number
            if channel == "other" and _MOBILE.fullmatch(compact, a, b) is not None:
                channel = "phone"  # 支付宝 13811112222
            return _Hit(_PRIORITY_ACCOUNT, cue.start, b, channel, f"{channel}.account",
                        _account_reason(channel, word, shown, compact[a:b], cue.homophone),
                        False)
        if cue.strength == vocab.ACCOUNT:
            return None
        strong = cue.strength == vocab.STRONG
        how = "关键词"
        after = False  # made a contact by a verb after it (淘宝店, 微信号)
        if not strong and norm.is_disguised(cue.start, cue.end):
            strong, how = True, "变形写法"
        if not strong:
            pre = self._pre.get(channel)
            post = self._post.get(channel)
            if pre is not None and pre.search(compact, max(0, cue.start - 4), cue.start):
                strong, how = True, "联系动词"
            elif post is not None and post.match(compact, cue.end) is not None:
                strong, how, after = True, "联系动词", True
        if not strong:
            return None
        if self._negation.search(compact, norm.clause_start(cue.start, 16), cue.start):
            return None  # "请勿加微信", "本店不支持私下交易" (within the clause)
        if channel == "external_platform" and after and _is_question(norm, cue.end):
            return None  # "你们在天猫也有店吗": a question about a platform is not a pointer
        end = cue.end
        if how == "联系动词":
            post = self._post.get(channel)
            match = post.match(compact, cue.end) if post is not None else None
            if match is not None:
                end = match.end()
        shown = norm.original_text(cue.start, end)
        rule = f"{channel}.{'homophone' if cue.homophone else 'word'}"
        return _Hit(_PRIORITY_WORD[channel], cue.start, end, channel, rule,
                    _word_reason(channel, _oneline(shown), how, cue.homophone), False)

    def _account(self, norm: Normalized, cue: _Cue) -> tuple[int, int] | None:
        """The account written right after a contact word, if it looks like one."""
        channel = cue.channel
        if channel in ("link", "qr"):
            return None
        compact = norm.compact
        size = len(compact)
        i = cue.end
        if cue.strength == vocab.ACCOUNT:
            if i < size and not ("0" <= compact[i] <= "9"):
                return None  # 扣 / q / 群 count only with the number right after them
        else:
            gap = 0
            while i < size and gap < 8 and compact[i] in vocab.FILLERS:
                i += 1
                gap += 1
        if compact.startswith("id", i) and i + 2 < size and norm.boundary[i + 2]:
            i += 2
        match = _ACCOUNT.match(compact, i)
        if match is None:
            return None
        a, b = match.span()
        token = match.group()
        if token[0].isdigit():
            digits = _DIGITS.match(token)
            assert digits is not None
            b = a + digits.end()
            number = digits.group()
            if number in self.hotlines or self._units.match(compact, b) is not None:
                return None
            if channel == "phone":
                ok = (_MOBILE.fullmatch(number) is not None
                      or _LANDLINE.fullmatch(number) is not None)
            elif channel == "qq":
                ok = 5 <= len(number) <= 11
            elif channel in ("wechat", "other"):
                ok = 6 <= len(number) <= 12 or (channel == "wechat" and len(number) == 5)
            else:
                ok = False
            if not ok and channel in ("wechat", "other") and b < match.end() and \
                    match.end() - a >= 6:
                b, ok = match.end(), True  # 5201314abc: digits then letters
            return (a, b) if ok else None
        if channel not in ("wechat", "other", "external_platform"):
            return None
        # Cut a run of words at the first space after six characters ("shop123 ok").
        for j in range(a + 6, b):
            if norm.boundary[j] and compact[j].isalpha():
                b = j
                break
        if b - a < 6 or channel == "external_platform":
            return None
        return a, b

    # ----------------------------------------------------------------------- numbers

    def _numbers(self, norm: Normalized, cues: list[_Cue], orders: list[tuple[int, int]],
                 deliveries: list[tuple[int, int]]) -> list[_Hit]:
        compact = norm.compact
        hits: list[_Hit] = []
        for match in _MOBILE.finditer(compact):
            start, end = match.span()
            number = _PHONE_COUNTRY.sub("", match.group())
            if number in self.hotlines or self._number_context(norm, start, end, orders,
                                                               deliveries):
                continue
            shown = _oneline(norm.original_text(start, end))
            channel, rule = "phone", "phone.mobile"
            reason = f"疑似手机号：{number}（原文「{shown}」）"
            wechat = _near_cue(cues, start, end, "wechat")
            if wechat is not None:
                word = norm.original_text(wechat.start, wechat.end)
                channel, rule = "wechat", "wechat.phone"
                reason = f"疑似微信号：「{word}」与手机号 {number} 同号"
                start, end = min(start, wechat.start), max(end, wechat.end)
            hits.append(_Hit(_PRIORITY_NUMBER, start, end, channel, rule, reason, False))
        has_phone_word = any(c.channel == "phone" for c in cues)
        if has_phone_word:
            for match in _LANDLINE.finditer(compact):
                start, end = match.span()
                if self._number_context(norm, start, end, orders, deliveries):
                    continue
                shown = norm.original_text(start, end)
                hits.append(_Hit(_PRIORITY_NUMBER, start, end, "phone", "phone.landline",
                                 f"疑似座机号：{match.group()}（原文「{shown}」）", False))
        else:
            for match in _LANDLINE_FORMATTED.finditer(norm.folded):
                a = _folded_to_compact(norm, match.start())
                b = _folded_to_compact(norm, match.end() - 1) + 1
                if self._number_context(norm, a, b, orders, deliveries):
                    continue
                hits.append(_Hit(_PRIORITY_NUMBER, match.start(), match.end(), "phone",
                                 "phone.landline",
                                 f"疑似座机号：{norm.folded_original_text(*match.span())}",
                                 True))
        return hits

    def _number_context(self, norm: Normalized, start: int, end: int,
                        orders: list[tuple[int, int]],
                        deliveries: list[tuple[int, int]]) -> bool:
        """True when the number at compact[start:end] is an order / tracking / product number
        or the buyer's delivery phone rather than a contact."""
        compact = norm.compact
        for s, e in orders:
            if (start - 10 <= s and e <= start) or end <= s <= end + 4:
                return True
        for s, e in deliveries:
            if (start - 24 <= s and e <= start) or end <= s <= end + 6:
                return True
        letters = _LETTERS_BEFORE.search(compact, max(0, start - 24), start)
        if letters is not None and not norm.boundary[start]:
            glued = letters.group()
            if glued in self._couriers or any(glued.endswith(c) for c in self._couriers
                                              if len(c) >= 2):
                return True
            if len(glued) <= 4 and glued not in _PHONE_LETTERS:
                return True  # a product code such as LX13912345678
        return False

    # ----------------------------------------------------------------------- links

    def _links(self, norm: Normalized) -> list[_Hit]:
        hits = self._links_in(norm, norm.folded, None)
        if not hits and " " in norm.folded and _LINK_HINT.search(norm.compact):
            # "h t t p s : / / a b c . c o m": the same scan with the spaces taken out
            keep = [i for i, ch in enumerate(norm.folded) if not ch.isspace()]
            tight = "".join(norm.folded[i] for i in keep)
            hits = self._links_in(norm, tight, keep)
        return hits

    def _links_in(self, norm: Normalized, folded: str,
                  positions: list[int] | None) -> list[_Hit]:
        """Links and e-mail addresses in ``folded`` (the folded view, or the folded view
        without spaces when ``positions`` maps it back)."""
        hits: list[_Hit] = []

        def span(a: int, b: int) -> tuple[int, int]:
            if positions is None:
                return a, b
            return positions[a], positions[b - 1] + 1

        emails: list[tuple[int, int]] = []
        for match in _EMAIL.finditer(folded):
            address = match.group()
            domain = address.rsplit("@", 1)[1]
            if self._allowed(domain):
                continue
            emails.append(match.span())
            channel = "qq" if domain in ("qq.com", "foxmail.com", "vip.qq.com") else "other"
            a, b = span(*match.span())
            hits.append(_Hit(_PRIORITY_EMAIL, a, b, channel, f"{channel}.email",
                             f"疑似站外联系邮箱：{norm.folded_original_text(a, b)}", True))
        for match in _LINK.finditer(folded):
            start, end = match.span()
            if any(s <= start < e for s, e in emails):
                continue
            url = match.group()
            host = re.sub(r"^(?:https?|ftp)\s?:\s?/\s?/\s?", "", url).split("/", 1)[0]
            if self._allowed(host.replace("。", ".").replace("点", ".")):
                continue
            a, b = span(start, end)
            hits.append(_Hit(_PRIORITY_LINK, a, b, "link", "link.url",
                             f"疑似站外链接：{norm.folded_original_text(a, b)}", True))
        return hits

    def _allowed(self, host: str) -> bool:
        host = host.strip().lower()
        return any(host == d or host.endswith("." + d) for d in self.allowed_domains)

    # ----------------------------------------------------------------------- verdicts

    def _verdict(self, norm: Normalized, hit: _Hit, *, used_window: bool,
                 window_messages: int) -> Verdict:
        if hit.folded:
            matched = norm.folded_original_text(hit.start, hit.end)
        else:
            matched = norm.original_text(hit.start, hit.end)
        reason = hit.reason
        if used_window:
            reason += f"（跨 {window_messages} 条消息拼接后发现）"
        return Verdict(True, hit.channel, matched.strip(), reason, hit.rule, used_window)


def _is_question(norm: Normalized, start: int) -> bool:
    """Does the clause that goes on at compact[start] end with a question particle?"""
    compact = norm.compact
    end = start
    while end < len(compact) and end - start < 16 and not (end > start and norm.clause[end]):
        end += 1
    return compact[start:end].endswith(("吗", "嘛"))


def _original_span(norm: Normalized, hit: _Hit) -> tuple[int, int]:
    if hit.folded:
        return norm.folded_map[hit.start], norm.folded_map[hit.end - 1] + 1
    return norm.original_span(hit.start, hit.end)


def _best(hits: list[_Hit]) -> _Hit | None:
    if not hits:
        return None
    return max(hits, key=lambda h: (h.priority, -h.start))


def _near_cue(cues: list[_Cue], start: int, end: int, channel: str) -> _Cue | None:
    """A contact word of ``channel`` just before a number, or just after it (…微信同号)."""
    for cue in cues:
        if cue.channel == channel and (start - 12 <= cue.start < start
                                       or end <= cue.start <= end + 3):
            return cue
    return None


def _folded_to_compact(norm: Normalized, folded_index: int) -> int:
    """The compact index of the first compact char at or after a folded position."""
    original = norm.folded_map[folded_index]
    for i, o in enumerate(norm.compact_map):
        if o >= original:
            return i
    return len(norm.compact_map)


_CUE_NAMES = {
    "wechat": "微信", "qq": "QQ", "phone": "电话", "external_platform": "其他平台",
    "other": "站外联系",
}


def _oneline(text: str) -> str:
    return " / ".join(part.strip() for part in text.splitlines() if part.strip())


def _account_reason(channel: str, word: str, account: str, normalized: str,
                    homophone: bool) -> str:
    kind = {"wechat": "微信号", "qq": "QQ号", "phone": "电话号码", "other": "站外账号"}.get(
        channel, "账号")
    what = "谐音词" if homophone else "关键词"
    shown = _oneline(account)
    if normalized.isdigit() and normalized != shown:
        shown = f"{normalized}（原文「{shown}」）"
    return f"疑似{kind}：{what}「{_oneline(word)}」后跟账号 {shown}"


def _word_reason(channel: str, shown: str, how: str, homophone: bool) -> str:
    if channel == "external_platform":
        return f"引导到其他平台：「{shown}」"
    if channel == "qr":
        return f"引导扫码加联系人：「{shown}」"
    if channel == "link":
        return f"引导查看站外主页/链接：「{shown}」"
    if channel == "phone":
        return f"索要或提供电话：「{shown}」"
    if channel == "other":
        return f"引导站外联系或交易：「{shown}」"
    name = _CUE_NAMES.get(channel, channel)
    if homophone:
        return f"疑似{name}谐音「{shown}」（{how}）"
    return f"疑似引导加{name}：「{shown}」（{how}）"


def _describe_qr(content: str, inner: Verdict) -> str:
    lowered = content.lower()
    if "weixin.qq.com" in lowered or "wechat.com" in lowered or lowered.startswith("wxp://"):
        return "内容为微信链接"
    if "qm.qq.com" in lowered or "qq.com" in lowered:
        return "内容为QQ链接"
    if lowered.startswith(("http://", "https://", "www.")):
        return "内容为链接"
    if inner.is_diversion and inner.channel:
        return f"内容含{vocab.CHANNEL_NAMES.get(inner.channel, inner.channel)}联系方式"
    return "内容"


@lru_cache(maxsize=1)
def default_detector() -> Detector:
    """The process-wide detector with the default vocabulary (built on first use)."""
    return Detector()


def warm_up() -> None:
    """Build the default detector and its lazily built parts (a serving process does this
    before its first request, so no buyer waits for it)."""
    default_detector().detect("加我薇信 abc12345")
