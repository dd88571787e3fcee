"""Migrations go up and down cleanly and match the models, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from conftest import TEST_DATABASE_URL, _recreate_postgres_database, is_postgres
from kefu.kit import migrate


def _scratch_url() -> str:
    if is_postgres():
        base, _sep, name = TEST_DATABASE_URL.rpartition("/")
        url = f"{base}/{name}_migrations"
        asyncio.run(_recreate_postgres_database(url))
        return url
    return f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'migrations.db'}"


def test_upgrade_downgrade_upgrade_and_models_match() -> None:
    url = _scratch_url()
    migrate.upgrade(url)
    migrate.check(url)  # raises if the models have changes no migration covers
    migrate.downgrade(url, "base")
    migrate.upgrade(url)
    migrate.check(url)
