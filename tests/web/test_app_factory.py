"""The serving entry point builds its lazy tables, freezes start-up objects and spaces out
the garbage collector's full collections."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_app_factory_warms_up_freezes_startup_objects_and_spaces_out_full_collections(tmp_path: Path) -> None:
    script = (
        "import gc, sys\n"
        "from kefu.web.app import app_factory\n"
        "from kefu.diversion.detector import default_detector\n"
        "from kefu.autoreply.synonyms import default_tagger\n"
        "assert gc.get_threshold()[2] == 10\n"  # Python's default, until the app starts
        "app_factory()\n"
        "from kefu.kit.runtime import FULL_COLLECTION_AFTER\n"
        "assert gc.get_threshold()[2] == FULL_COLLECTION_AFTER > 10\n"
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
