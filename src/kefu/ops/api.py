"""Operations: health, Prometheus metrics, and the demo/test clock."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy import text

from kefu.kit import clock, clockstore
from kefu.kit.db import after_commit
from kefu.web.deps import CurrentPrincipal, DbSession

router = APIRouter()


@router.get("/healthz", include_in_schema=False)
async def healthz(session: DbSession) -> dict[str, str]:
    await session.execute(text("SELECT 1"))
    return {"status": "ok"}


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


class ClockOut(BaseModel):
    now: datetime
    frozen: bool
    offset_seconds: float


class AdvanceIn(BaseModel):
    duration: str = Field(min_length=1, max_length=32, description="e.g. 30m, 24h, 7d")


class FreezeIn(BaseModel):
    at: AwareDatetime


test_clock_router = APIRouter(prefix="/api/test-clock", tags=["test clock"])


def _clock_out() -> ClockOut:
    current = clock.get_clock()
    assert isinstance(current, clock.TestClock)
    return ClockOut(now=current.now(), frozen=current.frozen_at is not None,
                    offset_seconds=current.offset.total_seconds())


def _sweep_after_commit(request: Request, session: DbSession) -> None:
    """Like Stripe test clocks: moving the clock fires what became due."""
    sweeper = getattr(request.app.state, "sweeper", None)
    if sweeper is not None:
        after_commit(session, sweeper.run_once_quietly)


@test_clock_router.get("", response_model=ClockOut)
async def read_test_clock(session: DbSession, _principal: CurrentPrincipal) -> ClockOut:
    await clockstore.load(session)
    return _clock_out()


@test_clock_router.post("/advance", response_model=ClockOut)
async def advance_test_clock(body: AdvanceIn, request: Request, session: DbSession,
                             _principal: CurrentPrincipal) -> ClockOut:
    await clockstore.advance(session, clockstore.parse_duration(body.duration))
    _sweep_after_commit(request, session)
    return _clock_out()


@test_clock_router.post("/freeze", response_model=ClockOut)
async def freeze_test_clock(body: FreezeIn, request: Request, session: DbSession,
                            _principal: CurrentPrincipal) -> ClockOut:
    await clockstore.freeze(session, body.at)
    _sweep_after_commit(request, session)
    return _clock_out()


@test_clock_router.post("/resume", response_model=ClockOut)
async def resume_test_clock(session: DbSession, _principal: CurrentPrincipal) -> ClockOut:
    await clockstore.resume(session)
    return _clock_out()
