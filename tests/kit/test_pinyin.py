"""Single-character pinyin read from pypinyin's table without importing pypinyin."""

from __future__ import annotations

import subprocess
import sys

from kefu.kit import pinyin


def test_every_character_reads_as_pypinyin_reads_it() -> None:
    from pypinyin import lazy_pinyin

    table = pinyin._readings()
    assert len(table) > 40_000
    different = [chr(code) for code in table
                 if pinyin.syllable(chr(code)) != lazy_pinyin(chr(code))[0]]
    assert different == []


def test_readings_and_characters_without_one() -> None:
    assert pinyin.first_reading("信") == "xìn"
    assert pinyin.syllable("信") == "xin"
    assert pinyin.syllable("吕") == "lv" and pinyin.syllable("鲁") == "lu"
    assert pinyin.first_reading("a") is None and pinyin.syllable("a") == "a"
    assert pinyin.syllable("。") == "。"
    assert pinyin.first_reading("信息") is None  # one character at a time
    index = pinyin.characters_by_syllable()
    assert "信" in index["xin"] and "薇" in index["wei"]


def test_the_screens_do_not_load_pypinyins_phrase_dictionary() -> None:
    # Its 200,000 lists would be walked by every full garbage collection of the server.
    script = (
        "import sys\n"
        "from kefu.diversion.detector import default_detector\n"
        "from kefu.autoreply.synonyms import default_tagger\n"
        "assert default_detector().detect('加我喂信 abc12345').is_diversion\n"
        "assert default_tagger().correct('新疆包油吗') == '新疆包邮吗'\n"
        "print(sorted(name for name in sys.modules if name.startswith('pypinyin')))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"
