"""A stateful property test of a conversation and its waits, on the real service and database.

Random interleavings of buyer messages, automatic answers, system notes, human replies,
nudges, read receipts, resolving and clock moves (across closing and opening times).
Invariants: seqs are gapless; at most one wait is open, exactly when the model says;
automatic answers never end a wait; a wait is on time exactly when the human reply came
within 5 working minutes of its clock start, checked against a minute-by-minute count of the
09:00–22:00 schedule; each side's unread count, as both sides are shown it, is the other
side's messages after that side's read mark as the model moved it, counted from the log.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from conftest import TEST_DATABASE_URL
from factories import make_agent, make_buyer, make_store, principal
from kefu.accounts.roles import Principal
from kefu.chat import service
from kefu.chat.models import Message, Wait
from kefu.kit import clock as clock_module
from kefu.kit.db import Database
from kefu.kit.errors import Conflict

# Monday 2026-06-01 21:40 in Shanghai: twenty minutes before closing.
START = datetime(2026, 6, 1, 13, 40, tzinfo=UTC)
OPEN_MINUTE, CLOSE_MINUTE = 9 * 60, 22 * 60


def local_minute(at: datetime) -> int:
    shanghai = at + timedelta(hours=8)
    return shanghai.hour * 60 + shanghai.minute


def is_open(at: datetime) -> bool:
    return OPEN_MINUTE <= local_minute(at) < CLOSE_MINUTE


def clock_start(at: datetime) -> datetime:
    """The oracle: the next open minute at or after ``at`` (the clock only moves in minutes)."""
    moment = at
    while not is_open(moment):
        moment += timedelta(minutes=1)
    return moment


def working_minutes(start: datetime, end: datetime) -> int:
    minutes, moment = 0, start
    while moment < end:
        minutes += is_open(moment)
        moment += timedelta(minutes=1)
    return minutes


class ConversationMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = clock_module.TestClock(frozen_at=START)
        clock_module.set_clock(self.clock)
        self.runner = asyncio.Runner()
        self.runner.run(self._set_up())
        # The model.
        self.open_wait_since: datetime | None = None  # clock start of the open wait
        self.open_wait_started_at: datetime | None = None
        self.nudged = False
        self.expected_waits: list[tuple[int, bool | None]] = []  # (minutes, on time)
        self.read_marks = {"buyer": 0, "store": 0}

    async def _set_up(self) -> None:
        self.db = Database(TEST_DATABASE_URL)
        self.connection: AsyncConnection = await self.db.engine.connect()
        self.outer = await self.connection.begin()
        self.session = AsyncSession(bind=self.connection, expire_on_commit=False,
                                    join_transaction_mode="create_savepoint")
        store, _owner = await make_store(self.session, deposit_fen=0)
        agent = await make_agent(self.session, store)
        buyer = await make_buyer(self.session)
        self.agent: Principal = principal(agent)
        self.buyer: Principal = principal(buyer)
        await service.set_agent_status(self.session, self.agent, "online")
        self.conversation_id = (await service.open_conversation(self.session, self.buyer,
                                                                store.id)).id
        self.keys = 0

    def teardown(self) -> None:
        async def close() -> None:
            await self.session.close()
            await self.outer.rollback()
            await self.connection.close()
            await self.db.dispose()

        self.runner.run(close())
        self.runner.close()

    def key(self) -> str:
        self.keys += 1
        return f"k{self.keys}"

    def _end_wait(self, on_time: bool | None, minutes: int) -> None:
        self.expected_waits.append((minutes, on_time))
        self.open_wait_since = self.open_wait_started_at = None
        self.nudged = False

    def _wrote(self, side: str, posted: service.Posted) -> None:
        self.read_marks[side] = posted.message.seq  # one has read what one just wrote

    @rule()
    def buyer_writes(self) -> None:
        self._wrote("buyer", self.runner.run(service.send_message(
            self.session, self.buyer, self.conversation_id, client_msg_id=self.key(),
            text="在吗")))
        if self.open_wait_since is None:
            self.open_wait_since = clock_start(self.clock.now())
            self.open_wait_started_at = self.clock.now()

    @rule()
    def store_answers_automatically(self) -> None:
        self.runner.run(service.post_auto_reply(self.session, self.conversation_id,
                                                "自动回复：稍等", "faq"))

    @rule()
    def a_system_note_is_posted(self) -> None:
        self.runner.run(service.post_system_note(self.session, self.conversation_id, "备注"))

    @rule(side=st.sampled_from(["buyer", "store"]), fraction=st.floats(0, 1.2))
    def a_side_reads(self, side: str, fraction: float) -> None:
        """A receipt up to some seq: behind the mark (changes nothing), partway, to the end,
        or past it (capped at the last seq)."""
        last_seq = len(self.runner.run(self._facts())[0])
        seq = round(last_seq * fraction)
        actor = self.buyer if side == "buyer" else self.agent
        moved_to = self.runner.run(service.mark_read(self.session, actor,
                                                     self.conversation_id, seq))
        self.read_marks[side] = max(self.read_marks[side], min(seq, last_seq))
        assert moved_to == max(self.read_marks[side], min(seq, last_seq))

    @rule()
    def agent_replies(self) -> None:
        self._wrote("store", self.runner.run(service.send_message(
            self.session, self.agent, self.conversation_id, client_msg_id=self.key(),
            text="您好")))
        if self.open_wait_since is not None:
            minutes = working_minutes(self.open_wait_since, self.clock.now())
            self._end_wait(minutes <= 5, minutes)

    @rule()
    def buyer_nudges(self) -> None:
        allowed = self.open_wait_started_at is not None and not self.nudged and \
            self.clock.now() >= self.open_wait_started_at + timedelta(minutes=30)
        try:
            posted = self.runner.run(service.nudge(self.session, self.buyer,
                                                   self.conversation_id,
                                                   client_msg_id=self.key()))
        except Conflict:
            assert not allowed
            return
        assert allowed
        self._wrote("buyer", posted)
        self.nudged = True

    @rule()
    def agent_resolves(self) -> None:
        self.runner.run(service.resolve(self.session, self.agent, self.conversation_id))
        if self.open_wait_since is not None:
            self._end_wait(False, -1)

    # Around the 5-minute line, around the nudge, and long enough to cross closing time.
    @rule(minutes=st.one_of(st.sampled_from([1, 4, 5, 6]), st.integers(0, 40),
                            st.integers(41, 16 * 60)))
    def time_passes(self, minutes: int) -> None:
        self.clock.advance(timedelta(minutes=minutes))

    async def _unread_shown(self) -> tuple[int, int, list[tuple[int, str]]]:
        """(the buyer's unread count, the store's, as each is shown the conversation; the
        log's (seq, sender side))."""
        await self.session.flush()
        for_buyer = await service.list_conversations(self.session, self.buyer)
        for_store = await service.list_conversations(self.session, self.agent)
        log = list((await self.session.execute(
            select(Message.seq, Message.sender_side)
            .where(Message.conversation_id == self.conversation_id))).all())
        return for_buyer[0].unread_count, for_store[0].unread_count, log

    @invariant()
    def unread_counts_are_the_other_sides_messages_after_the_read_mark(self) -> None:
        buyer_unread, store_unread, log = self.runner.run(self._unread_shown())
        assert buyer_unread == sum(1 for seq, side in log
                                   if side != "buyer" and seq > self.read_marks["buyer"])
        assert store_unread == sum(1 for seq, side in log
                                   if side == "buyer" and seq > self.read_marks["store"])

    async def _facts(self) -> tuple[list[int], list[Wait]]:
        await self.session.flush()
        seqs = list((await self.session.execute(
            select(Message.seq).where(Message.conversation_id == self.conversation_id)
            .order_by(Message.seq))).scalars())
        waits = list((await self.session.execute(
            select(Wait).where(Wait.conversation_id == self.conversation_id).order_by(Wait.id)
            .execution_options(populate_existing=True))).scalars())
        return seqs, waits

    @invariant()
    def the_log_and_the_waits_match_the_model(self) -> None:
        seqs, waits = self.runner.run(self._facts())
        assert seqs == list(range(1, len(seqs) + 1))
        open_waits = [w for w in waits if w.ended_at is None]
        assert len(open_waits) == (0 if self.open_wait_since is None else 1)
        if open_waits:
            assert open_waits[0].clock_started_at == self.open_wait_since
        ended = [w for w in waits if w.ended_at is not None]
        assert len(ended) == len(self.expected_waits)
        for wait, (minutes, on_time) in zip(ended, self.expected_waits, strict=True):
            assert wait.on_time is on_time
            if minutes >= 0:  # answered: its measured time is the oracle's
                assert wait.response_seconds == minutes * 60
                assert wait.on_time == (wait.first_human_reply_at is not None
                                        and wait.first_human_reply_at <= wait.due_at)


def test_conversation_and_wait_state(isolated_hooks: None, quick_password_hashing: None
                                     ) -> None:
    previous = clock_module.get_clock()
    try:
        run_state_machine_as_test(ConversationMachine, settings=settings(
            max_examples=40, stateful_step_count=25, deadline=None,
            suppress_health_check=[HealthCheck.too_slow]))
    finally:
        clock_module.set_clock(previous)


def test_a_wait_whose_five_minutes_end_at_closing_is_due_at_the_next_opening(
        isolated_hooks: None, quick_password_hashing: None) -> None:
    """The example hypothesis found: a buyer writes at 21:55, the agent answers at 22:01.
    Five working minutes: on time, so its due time must not be 22:00."""
    previous = clock_module.get_clock()
    machine = ConversationMachine()
    try:
        machine.time_passes(minutes=15)
        machine.buyer_writes()
        machine.time_passes(minutes=6)
        machine.agent_replies()
        machine.the_log_and_the_waits_match_the_model()
    finally:
        machine.teardown()
        clock_module.set_clock(previous)
