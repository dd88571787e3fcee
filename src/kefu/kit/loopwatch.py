"""How long the event loop is held up, measured, and what held it, logged.

Every socket of a server process waits while one piece of work holds its event loop: a
synchronous call, a long computation, a garbage collection. Such stalls are what a chat
message's tail latency is made of, and they leave no trace in request timings (each request
only sees that it was slow). Three things make them visible:

- ``kefu_event_loop_lag_seconds``: a timer that ticks on the loop notes how late each tick
  ran. A stall of length *s* makes the tick after it at least *s* minus one tick late.
- ``kefu_event_loop_blocks_total`` and an ``event loop blocked`` warning: a watchdog thread
  sees the ticks stop and takes the loop thread's stack as it is at that moment; the warning
  gives it with how long the loop was held, the CPU its thread used meanwhile (far less
  than the time held: it waited, in a blocking call or for a core) and the garbage
  collections that ran meanwhile.
- ``kefu_gc_pause_seconds`` by generation: every collection's pause (it stops all threads).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sys
import threading
import time
import traceback
from typing import Any

from prometheus_client import Counter, Histogram

from kefu.kit.logs import get_logger

log = get_logger("kefu.loop")

EVENT_LOOP_LAG = Histogram(
    "kefu_event_loop_lag_seconds",
    "How late the event loop ran a timer that was due: how long other work held the loop",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
EVENT_LOOP_BLOCKS = Counter(
    "kefu_event_loop_blocks_total",
    "Times the event loop was held longer than the warning threshold")
GC_PAUSES = Histogram(
    "kefu_gc_pause_seconds", "Garbage collection pauses (every thread waits)", ["generation"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1))

# The innermost frames of the loop thread's stack that a warning carries.
STACK_FRAMES = 12


class _GcPauses:
    """Times each collection (gc.callbacks) into GC_PAUSES and keeps the last few, so that a
    stall's warning can say which collections ran during it."""

    def __init__(self) -> None:
        self._started = 0.0
        self.recent: list[tuple[float, int, float]] = []  # (ended, generation, seconds)
        self._by_generation = [GC_PAUSES.labels(str(g)) for g in range(3)]

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        now = time.perf_counter()
        if phase == "start":
            self._started = now
            return
        paused = now - self._started
        generation = info["generation"]
        self._by_generation[generation].observe(paused)
        if paused >= 0.001:  # the rest cannot explain a stall worth a warning
            self.recent = [*self.recent[-7:], (time.monotonic(), generation, paused)]

    def during(self, since: float) -> list[dict[str, Any]]:
        return [{"generation": generation, "ms": round(paused * 1000, 1)}
                for ended, generation, paused in self.recent if ended >= since]


_gc_pauses: _GcPauses | None = None


def time_garbage_collections() -> None:
    """Observe every garbage collection's pause (once per process)."""
    global _gc_pauses
    if _gc_pauses is None:
        _gc_pauses = _GcPauses()
        gc.callbacks.append(_gc_pauses)


class LoopWatch:
    """Measures the running event loop's lag and warns, with the loop thread's stack, when
    one piece of work holds it longer than ``warn_after`` seconds.

    The loop ticks every quarter of ``warn_after`` (10 ms at the least); the watchdog
    thread looks as often and, once the loop has been held past the threshold, takes the
    loop thread's stack. The warning is logged when the loop is back, with how long it was
    held (the late tick's lag); a loop held past ``HUNG_AFTER`` is reported at once, as it
    may never come back.
    A stall that ends before the watchdog looks, or that holds the interpreter lock in C
    code throughout, is still counted and logged, without a stack."""

    HUNG_AFTER = 5.0

    def __init__(self, *, warn_after: float) -> None:
        if warn_after <= 0:
            raise ValueError("warn_after must be positive")
        self.warn_after = warn_after
        # Never more often than every 10 ms: a tiny threshold must not make the watch itself
        # a load on the loop it measures.
        self.tick = max(warn_after / 4, 0.01)
        self._beat = time.monotonic()  # the loop's last tick
        self._stack: tuple[float, str] | None = None  # (beat, stack) of a stall in progress
        self._loop_thread: int | None = None
        self._task: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def start(self) -> None:
        """Start ticking on the running loop, and the watchdog thread."""
        time_garbage_collections()
        self._loop_thread = threading.get_ident()
        self._beat = time.monotonic()
        self._stopping.clear()
        self._task = asyncio.get_running_loop().create_task(self._ticks(), name="loop-watch")
        self._thread = threading.Thread(target=self._watch, name="kefu-loop-watchdog",
                                        daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 5)
        self._task = self._thread = None

    async def _ticks(self) -> None:
        loop, lag_seconds, thread_cpu = asyncio.get_running_loop(), EVENT_LOOP_LAG, time.thread_time
        cpu = thread_cpu()
        while True:
            due = loop.time() + self.tick
            await asyncio.sleep(self.tick)
            lag = max(0.0, loop.time() - due)
            lag_seconds.observe(lag)
            previous, self._beat = self._beat, time.monotonic()
            cpu_before, cpu = cpu, thread_cpu()
            if lag >= self.warn_after:
                self._report(previous, lag, cpu - cpu_before)

    def _report(self, beat: float, held: float, cpu: float) -> None:
        EVENT_LOOP_BLOCKS.inc()
        stack = self._stack[1] if self._stack is not None and self._stack[0] == beat else None
        # The loop thread's CPU meanwhile tells a loop kept busy (about the time held) from
        # one that waited: in a blocking call, or for a core on a machine short of them.
        log.warning("event loop blocked", held_ms=round(held * 1000),
                    loop_cpu_ms=round(cpu * 1000),
                    garbage_collections=_gc_pauses.during(beat) if _gc_pauses else [],
                    stack=stack)

    def _watch(self) -> None:
        hung_reported = None
        while not self._stopping.wait(self.tick):
            if self._task is None or self._task.done():
                return  # the ticks ended (their loop closed without stop()): nothing to watch
            beat = self._beat
            held = time.monotonic() - beat - self.tick  # the tick's own sleep is no stall
            if held < self.warn_after:
                continue
            if self._stack is None or self._stack[0] != beat:
                frame = sys._current_frames().get(self._loop_thread or 0)
                self._stack = (beat, "".join(traceback.format_stack(frame, limit=STACK_FRAMES))
                               if frame is not None else "")
            if held >= self.HUNG_AFTER and hung_reported != beat:
                hung_reported = beat
                log.warning("event loop still blocked", held_ms=round(held * 1000),
                            stack=self._stack[1])
