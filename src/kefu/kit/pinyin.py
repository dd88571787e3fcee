"""Toneless pinyin of single characters, from pypinyin's character dictionary.

Only the character table (``pinyin_dict.json``) is read, straight from the package's folder.
Importing ``pypinyin`` itself would also load its phrase dictionary: some 200,000 small lists
that stay in memory for good and that every full garbage collection walks (about 150 ms a
time in a chat server, during which no message moves).
"""

from __future__ import annotations

import importlib.util
import json
import unicodedata
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def _readings() -> dict[int, str]:
    """code point → its readings, comma-separated, the usual one first (with tone marks)."""
    spec = importlib.util.find_spec("pypinyin")  # finds the folder without importing it
    if spec is None or spec.origin is None:
        raise RuntimeError("pypinyin is not installed")
    path = Path(spec.origin).parent / "pinyin_dict.json"
    with open(path, encoding="utf-8") as handle:
        return {int(code): readings for code, readings in json.load(handle).items()}


def first_reading(char: str) -> str | None:
    """The usual reading of one character with its tone mark (``"xìn"``); None for a
    character without one (punctuation, Latin letters, rare characters)."""
    readings = _readings().get(ord(char)) if len(char) == 1 else None
    return readings.split(",", 1)[0] if readings else None


def toneless(reading: str) -> str:
    """A reading without tone marks, ü written v as pypinyin's NORMAL style does
    (``"lǜ"`` → ``"lv"``), so that 吕 (lǚ) and 鲁 (lǔ) stay apart."""
    decomposed = unicodedata.normalize("NFD", reading.replace("ü", "v").replace("ǖ", "v")
                                       .replace("ǘ", "v").replace("ǚ", "v").replace("ǜ", "v"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def syllable(char: str) -> str:
    """The toneless syllable of a character's usual reading, or the character itself when
    it has none (what ``pypinyin.lazy_pinyin(char)[0]`` gives)."""
    reading = first_reading(char)
    return char if reading is None else toneless(reading)


def characters_by_syllable() -> dict[str, list[str]]:
    """toneless syllable → every character whose usual reading it is, in code point order."""
    index: dict[str, list[str]] = {}
    for code, readings in sorted(_readings().items()):
        first = readings.split(",", 1)[0]
        index.setdefault(toneless(first), []).append(chr(code))
    return index
