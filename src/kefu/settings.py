"""Settings: every operational knob and every rule number of docs/rules.md, with its default.

All are read from the environment with the prefix ``KEFU_`` (``KEFU_DATABASE_URL``,
``KEFU_MERCHANT_RESPONSE_HOURS`` …) or from a ``.env`` file in the working folder.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Mode = Literal["prod", "demo", "test"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KEFU_", env_file=".env", extra="ignore")

    # --- operations -------------------------------------------------------------------------
    database_url: str = Field(
        default="sqlite+aiosqlite:///./kefu.db",
        description="SQLAlchemy async URL. SQLite (aiosqlite) by default, PostgreSQL (asyncpg) "
        "in production.",
    )
    database_pool_size: int = Field(
        default=20, ge=1, description="PostgreSQL connections each server process keeps open "
        "(SQLite: five, fixed; a `kefu worker`: two). Server processes × (pool size + "
        "overflow) + workers × 2 must stay below PostgreSQL's max_connections.")
    database_max_overflow: int = Field(
        default=0, ge=0, description="PostgreSQL connections a server process may open beyond "
        "the pool in a burst, closed again when handed back. 0: a request waits for a pooled "
        "connection instead.")
    database_pool_timeout_seconds: float = Field(
        default=30.0, gt=0, description="How long a request waits for a pooled connection "
        "before it is answered 503 busy (try again).")
    redis_url: str | None = Field(
        default=None, description="Redis URL for realtime events between processes."
    )
    mode: Mode = Field(default="prod", description="prod, demo or test. Only demo and test "
                       "expose the test clock.")
    timezone: str = Field(default="Asia/Shanghai", description="Business time zone.")
    secret_key: str = Field(default="", description="Signs cookies and CSRF tokens. Generated "
                            "and kept in secret_key_file when empty.")
    secret_key_file: Path = Field(default=Path("kefu-secret.key"),
                                  description="File that keeps the generated secret key.")
    host: str = Field(default="127.0.0.1", description="Address `kefu serve` binds to.")
    port: int = Field(default=8000, description="Port `kefu serve` listens on.")
    run_sweeper_in_server: bool = Field(
        default=True, description="Run the deadline sweeper inside `kefu serve`. Turn off when "
        "separate `kefu worker` processes do it.")
    sweep_interval_seconds: float = Field(default=1.0, description="Pause between sweeps.")
    sweep_batch_size: int = Field(default=200, description="Due items claimed per sweep.")
    upload_dir: Path = Field(default=Path("kefu-uploads"), description="Where uploads live.")
    upload_max_bytes: int = Field(default=10 * 1024 * 1024, description="Upload size cap.")
    log_level: str = Field(default="INFO", description="Log level (DEBUG, INFO, WARNING …).")
    log_json: bool = Field(default=True, description="JSON log lines (else console lines).")
    event_loop_warn_seconds: float = Field(
        default=0.1, ge=0, description="Log a warning, with the stack of what held it, when "
        "one piece of work holds a server process's event loop longer than this (every "
        "socket of the process waits meanwhile); 0 turns the watch and its lag metric off.")
    session_ttl_days: int = Field(default=14, description="Login session lifetime.")
    login_max_failures: int = Field(default=5, description="Failed logins per user and address "
                                    "before a pause.")
    login_window_minutes: int = Field(default=15, description="Window for login_max_failures.")
    default_locale: Literal["zh_CN", "en"] = Field(default="zh_CN", description="Language when the browser states none (zh_CN or en).")

    # --- chat -----------------------------------------------------------------------------
    store_open_time: str = Field(default="09:00", description="Default store opening time.")
    store_close_time: str = Field(default="22:00", description="Default store closing time.")
    reply_on_time_minutes: int = Field(default=5, description="A human reply within this "
                                       "counts as on time.")
    response_rate_target_percent: int = Field(default=80, description="On-time target.")
    countdown_amber_minutes: int = Field(default=3, description="Workbench countdown turns amber.")
    nudge_after_minutes: int = Field(default=30, description="Buyer may nudge after this long "
                                     "without a human reply.")
    image_max_bytes: int = Field(default=10 * 1024 * 1024, description="Chat image size cap.")
    welcome_repeat_hours: int = Field(default=12, description="The welcome auto-reply opens a "
                                      "wait only if none was sent in the conversation within "
                                      "this many hours (a chatty buyer is welcomed once).")

    # --- after-sales ----------------------------------------------------------------------
    merchant_response_hours: int = Field(default=24, description="Merchant must act on a "
                                         "request within this, else auto-approval.")
    buyer_proposal_response_hours: int = Field(default=48, description="Buyer must answer a merchant proposal within this.")
    buyer_escalation_days: int = Field(default=7, description="After a rejection, the buyer may escalate or resubmit within this.")
    max_resubmissions: int = Field(default=2, description="How often a buyer may resubmit a rejected request.")
    buyer_ship_days: int = Field(default=7, description="Buyer must ship a return within this.")
    merchant_receipt_days: int = Field(default=7, description="Merchant must confirm a returned parcel within this, else automatic.")
    merchant_reship_hours: int = Field(default=48, description="Merchant must reship (exchange/resend) within this.")
    buyer_confirm_days: int = Field(default=7, description="Buyer confirms a reshipped parcel within this, else automatic.")

    # --- platform intervention ------------------------------------------------------------
    counter_evidence_hours: int = Field(default=24, description="Merchant's window for counter-evidence after a case is filed.")
    intervention_decision_hours: int = Field(default=48, description="The platform decides a case within this (a breach escalates).")
    remedy_hours: int = Field(default=24, description="The losing merchant executes the remedy within this, else forced from the deposit.")
    review_window_days: int = Field(default=7, description="Either party may ask for review (复核) within this after a decision.")

    # --- diversion and penalties ----------------------------------------------------------
    violation_warning_window_days: int = Field(default=30, description="First violation in "
                                               "this window is a warning.")
    diversion_fine_fen: int = Field(default=20_000, description="Fine for later violations.")
    demotion_days: int = Field(default=7, description="Search demotion after a fine.")

    # --- deposit and ranking --------------------------------------------------------------
    minimum_deposit_fen: int = Field(default=100_000, description="Below it a store cannot "
                                     "list new products.")
    demotion_weight: float = Field(default=0.2, description="Store weight while demoted.")
    low_response_weight: float = Field(default=0.7, description="Store weight when the 7-day "
                                       "response rate is below target.")
    response_rate_window_days: int = Field(default=7, description="Days of waits behind the store's response rate in ranking.")

    # --- orders (simulated marketplace) ---------------------------------------------------
    auto_complete_days: int = Field(default=7, description="A delivered order completes by "
                                    "itself after this.")

    @field_validator("database_url")
    @classmethod
    def _normalise_url(cls, value: str) -> str:
        # Accept the plain URLs operators paste and give them the async drivers.
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            return "postgresql+asyncpg://" + value.split("://", 1)[1]
        if value.startswith("sqlite:///"):
            return "sqlite+aiosqlite:///" + value.split(":///", 1)[1]
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def test_clock_enabled(self) -> bool:
        return self.mode in ("demo", "test")

    def resolved_secret_key(self) -> str:
        if self.secret_key:
            return self.secret_key
        path = self.secret_key_file
        if path.exists():
            return path.read_text().strip()
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key


@lru_cache
def get_settings() -> Settings:
    return Settings()
