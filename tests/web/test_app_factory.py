"""The serving entry point builds its lazy tables and freezes start-up objects."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_app_factory_warms_up_and_freezes_startup_objects(tmp_path: Path) -> None:
    script = (
        "import gc, sys\n"
        "from kefu.web.app import app_factory\n"
        "from kefu.diversion.detector import default_detector\n"
        "from kefu.autoreply.synonyms import default_tagger\n"
        "app_factory()\n"
        "assert default_detector.cache_info().currsize == 1\n"
        "assert default_tagger.cache_info().currsize == 1\n"
        "assert 'pypinyin' not in sys.modules\n"
        "print(gc.get_freeze_count())\n"
    )
    env = {**os.environ, "KEFU_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'k.db'}",
           "KEFU_SECRET_KEY": "factory-test-secret-key-0123456789", "KEFU_MODE": "prod"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, check=False)
    assert done.returncode == 0, done.stderr
    # Tens of thousands of objects (modules, tables) leave the collector's rounds.
    assert int(done.stdout.strip()) > 20_000
