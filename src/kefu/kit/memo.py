"""Memoising a pure function of a chat text (its normalisations), by the text's length.

Short messages repeat across buyers (在吗, 包邮吗, 加微信) and keywords repeat always: those are
kept, many of them. Longer messages are nearly all unique and repeat only while one message
is handled (every screen and matcher that reads it), so only the last few are kept. Kept for
long, each unique text's entry would outlive the garbage collector's young generations and
land in the oldest, whose growth sets off the full collections that stall every socket of
the process. Texts past ``longest`` are not kept at all.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from functools import lru_cache
from typing import Generic, TypeVar

R = TypeVar("R")

SHORT_TEXT = 16  # characters


class TextMemo(Generic[R]):
    """``function(text, *args)`` memoised: see the module docstring."""

    def __init__(self, function: Callable[..., R], *, short: int = SHORT_TEXT,
                 short_entries: int = 4096, recent_entries: int = 32,
                 longest: int = 2000) -> None:
        self._function = function
        self._short, self._longest = short, longest
        self._shared = lru_cache(maxsize=short_entries)(function)
        self._recent = lru_cache(maxsize=recent_entries)(function)

    def __call__(self, text: str, *args: Hashable) -> R:
        if len(text) <= self._short:
            return self._shared(text, *args)
        if len(text) <= self._longest:
            return self._recent(text, *args)
        return self._function(text, *args)

    def cache_clear(self) -> None:
        self._shared.cache_clear()
        self._recent.cache_clear()
