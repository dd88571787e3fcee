"""The event loop's stalls are measured, and the work that held it is logged with its stack."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from prometheus_client import REGISTRY

from kefu.kit import loopwatch
from kefu.kit.loopwatch import LoopWatch


class RecordedLog:
    def __init__(self) -> None:
        self.warnings: list[tuple[str, dict[str, Any]]] = []

    def warning(self, event: str, **fields: Any) -> None:
        self.warnings.append((event, fields))

    def about(self, function: str) -> list[tuple[str, dict[str, Any]]]:
        """The warnings whose stack shows ``function`` holding the loop."""
        return [(e, f) for e, f in self.warnings if function in (f.get("stack") or "")]


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def hold_the_loop_synchronously(seconds: float) -> None:
    time.sleep(seconds)  # what a blocking call inside a coroutine does to every socket


def keep_the_loop_busy(seconds: float) -> None:
    """A long computation (the interpreter lock held) of ``seconds`` of this thread's CPU:
    on a busy machine it takes longer than that."""
    ends = time.thread_time() + seconds
    while time.thread_time() < ends:
        pass


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> RecordedLog:
    log = RecordedLog()
    monkeypatch.setattr(loopwatch, "log", log)
    return log


def watchdogs() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "kefu-loop-watchdog"]


async def stall_while_watched(stall: Callable[[float], None], seconds: float) -> None:
    """One stall of ``seconds``, with calm before and after, under a 100 ms threshold."""
    watch = LoopWatch(warn_after=0.1)
    watch.start()
    try:
        await asyncio.sleep(0.15)
        stall(seconds)
        await asyncio.sleep(0.15)
    finally:
        await watch.stop()


async def test_a_stall_is_measured_and_logged_once_with_the_stack_that_held_the_loop(
        recorded: RecordedLog) -> None:
    blocks = sample("kefu_event_loop_blocks_total")
    lag_total = sample("kefu_event_loop_lag_seconds_sum")
    slow_ticks = sample("kefu_event_loop_lag_seconds_count") - sample(
        "kefu_event_loop_lag_seconds_bucket", le="0.25")
    await stall_while_watched(hold_the_loop_synchronously, 0.5)

    # One stall, one warning (a busy test machine may add stalls of its own, without it).
    [(event, fields)] = recorded.about("hold_the_loop_synchronously")
    assert sample("kefu_event_loop_blocks_total") - blocks == len(recorded.warnings)
    assert event == "event loop blocked"
    assert 400 <= fields["held_ms"] <= 2000  # the whole stall, not the part seen so far
    assert "hold_the_loop_synchronously" in fields["stack"]
    assert "time.sleep(seconds)" in fields["stack"]
    assert fields["loop_cpu_ms"] < 100  # it slept: the loop waited, it was not kept busy
    # The tick after the stall ran about half a second late.
    assert sample("kefu_event_loop_lag_seconds_sum") - lag_total >= 0.4
    assert sample("kefu_event_loop_lag_seconds_count") - sample(
        "kefu_event_loop_lag_seconds_bucket", le="0.25") - slow_ticks >= 1


async def test_a_loop_kept_busy_is_caught_in_the_act_and_its_cpu_counted(
        recorded: RecordedLog) -> None:
    await stall_while_watched(keep_the_loop_busy, 0.4)
    [(_event, fields)] = recorded.about("keep_the_loop_busy")  # the watchdog got the lock meanwhile
    assert fields["loop_cpu_ms"] >= 400


async def test_a_loop_that_is_never_held_long_warns_of_nothing(recorded: RecordedLog) -> None:
    blocks = sample("kefu_event_loop_blocks_total")
    ticks = sample("kefu_event_loop_lag_seconds_count")
    watch = LoopWatch(warn_after=0.5)  # well above the holds, and a busy machine's hiccups
    watch.start()
    try:
        for _ in range(10):
            hold_the_loop_synchronously(0.02)  # short holds: the usual work
            await asyncio.sleep(0.03)
    finally:
        await watch.stop()
    assert recorded.warnings == []
    assert sample("kefu_event_loop_blocks_total") == blocks
    assert sample("kefu_event_loop_lag_seconds_count") - ticks >= 2  # it was ticking


async def test_stopping_ends_the_watchdog_thread() -> None:
    before = len(watchdogs())
    watch = LoopWatch(warn_after=0.1)
    watch.start()
    assert len(watchdogs()) == before + 1
    await watch.stop()
    assert len(watchdogs()) == before


def test_garbage_collections_are_timed_by_generation() -> None:
    loopwatch.time_garbage_collections()
    loopwatch.time_garbage_collections()  # once per process, however often it is asked
    assert sum(callback is loopwatch._gc_pauses for callback in gc.callbacks) == 1
    full = sample("kefu_gc_pause_seconds_count", generation="2")
    gc.collect()
    assert sample("kefu_gc_pause_seconds_count", generation="2") >= full + 1


def test_a_threshold_must_be_positive_and_a_tiny_one_ticks_every_10_ms() -> None:
    with pytest.raises(ValueError):
        LoopWatch(warn_after=0)
    assert LoopWatch(warn_after=0.001).tick == 0.01
    assert LoopWatch(warn_after=0.2).tick == 0.05


async def test_the_watchdog_ends_with_its_ticks_even_without_stop() -> None:
    before = len(watchdogs())
    watch = LoopWatch(warn_after=0.04)
    watch.start()
    assert watch._task is not None
    watch._task.cancel()  # as when the loop closes under a server that never stopped it
    await asyncio.sleep(0.1)
    assert len(watchdogs()) == before


@pytest.mark.parametrize("warn_after", [0.1, 0.0])
async def test_a_server_watches_its_loop_while_it_runs_unless_turned_off(
        db: Any, settings: Any, warn_after: float) -> None:
    from kefu.web.app import create_app

    before = len(watchdogs())
    app = create_app(settings.model_copy(update={"event_loop_warn_seconds": warn_after}),
                     db=db, run_sweeper=False)
    async with app.router.lifespan_context(app):
        assert len(watchdogs()) == before + (1 if warn_after else 0)
    assert len(watchdogs()) == before
