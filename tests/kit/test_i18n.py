"""Chinese first, English second: the English catalog covers every message, placeholders kept."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "src" / "kefu" / "locale" / "en" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def test_every_message_has_an_english_translation_with_the_same_placeholders() -> None:
    with PO.open("rb") as handle:
        catalog = read_po(handle)
    untranslated = [m.id for m in catalog if m.id and not m.string]
    assert untranslated == [], "run `make messages` and translate these"
    broken = [m.id for m in catalog if m.id and
              set(PLACEHOLDER.findall(str(m.id))) != set(PLACEHOLDER.findall(str(m.string)))]
    assert broken == []


def test_catalog_knows_every_message_in_the_code(tmp_path: Path) -> None:
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract",
                    "-F", str(ROOT / "babel.cfg"), "-o", str(pot), "-k", "_", "-k", "gettext",
                    str(ROOT / "src" / "kefu")], check=True, capture_output=True)
    with pot.open("rb") as handle:
        wanted = {m.id for m in read_po(handle) if m.id}
    with PO.open("rb") as handle:
        known = {m.id for m in read_po(handle) if m.id}
    assert sorted(wanted - known) == [], "run `make messages` and translate the new messages"


def test_pages_switch_language() -> None:
    from kefu.kit.i18n import gettext, set_locale

    set_locale("en")
    try:
        assert gettext("用户名或密码错误") == "Wrong username or password"
        assert gettext("库存不足，仅剩 {stock} 件", stock=2).count("2") == 1
    finally:
        set_locale("zh_CN")
    assert gettext("用户名或密码错误") == "用户名或密码错误"
