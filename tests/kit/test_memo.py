"""TextMemo keeps short texts for long and long ones only among the last few."""

from __future__ import annotations

from kefu.kit.memo import TextMemo


def test_short_texts_are_kept_long_ones_only_while_recent_and_huge_ones_never() -> None:
    calls: list[str] = []

    def shout(text: str, suffix: str) -> str:
        calls.append(text)
        return text.upper() + suffix

    memo = TextMemo(shout, short=4, short_entries=100, recent_entries=2, longest=10)
    assert memo("abc", "!") == "ABC!"
    for other in ("longer one", "longer two", "longer 3"):
        assert memo(other, "") == other.upper()
    assert memo("abc", "!") == "ABC!" and calls.count("abc") == 1  # short: still kept
    assert memo("longer 3", "") == "LONGER 3" and calls.count("longer 3") == 1  # recent
    memo("longer one", "")
    assert calls.count("longer one") == 2  # pushed out by the two after it
    memo("x" * 11, "")
    memo("x" * 11, "")
    assert calls.count("x" * 11) == 2  # past ``longest``: never kept
    memo.cache_clear()
    memo("abc", "!")
    assert calls.count("abc") == 2
