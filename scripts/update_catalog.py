"""Extract translatable messages (Chinese source) and merge them into the English catalog.

Usage: python scripts/update_catalog.py   (also: make messages)
New messages get an empty translation; tests/kit/test_i18n.py fails until they are translated.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POT = ROOT / "build" / "messages.pot"
PO = ROOT / "src" / "kefu" / "locale" / "en" / "LC_MESSAGES" / "messages.po"


def main() -> int:
    POT.parent.mkdir(exist_ok=True)
    babel = [sys.executable, "-m", "babel.messages.frontend"]
    subprocess.run([*babel, "extract", "-F", str(ROOT / "babel.cfg"), "-o", str(POT),
                    "--no-location", "--sort-output", "-k", "_", "-k", "gettext",
                    "--project", "kefu", str(ROOT / "src" / "kefu")], check=True)
    if PO.exists():
        subprocess.run([*babel, "update", "-i", str(POT), "-o", str(PO), "-l", "en",
                        "--no-fuzzy-matching", "--ignore-obsolete"], check=True)
    else:
        PO.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([*babel, "init", "-i", str(POT), "-o", str(PO), "-l", "en"], check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
