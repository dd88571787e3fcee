"""Who serves a conversation: routing to agents, the store queue, transfers.

Rules: a conversation that needs an agent goes to the agent who served this buyer in the last
24 hours if they are online and below capacity, else to the least-loaded online agent below
capacity, else it waits in the store queue. Queued conversations are handed out, longest
waiting first, the moment an agent comes online or frees capacity. Nothing is ever given to an
away or offline agent; an agent going offline hands their open conversations back.

Every decision is taken under the store's desk lock (``chat_desk``), so two requests cannot
both give an agent their last free slot. Lock order: conversation → desk → presence rows.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.accounts.roles import SYSTEM_ROLE, Principal
from kefu.chat import push, repository, waits
from kefu.chat.models import STATUS_OPEN, AgentPresence, Conversation
from kefu.kit import audit

STICKY_WINDOW = timedelta(hours=24)
_NEVER = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class Pool:
    """The store's online agents and their loads, as seen under the desk lock."""

    online: dict[int, AgentPresence]
    loads: dict[int, int]

    def load(self, agent_id: int) -> int:
        return self.loads.get(agent_id, 0)

    def has_room(self, agent_id: int) -> bool:
        presence = self.online.get(agent_id)
        return presence is not None and self.load(agent_id) < presence.capacity

    def free_slots(self) -> int:
        return sum(max(0, p.capacity - self.load(a)) for a, p in self.online.items())

    def pick(self, conversation: Conversation, now: datetime,
             exclude: Collection[int] = ()) -> int | None:
        candidates = [a for a in self.online if a not in exclude and self.has_room(a)]
        if not candidates:
            return None
        sticky = conversation.last_human_agent_id
        if sticky in candidates and conversation.last_human_reply_at is not None \
                and conversation.last_human_reply_at >= now - STICKY_WINDOW:
            return sticky
        return min(candidates, key=lambda a: (self.load(a),
                                              self.online[a].last_assigned_at or _NEVER, a))

    def take(self, agent_id: int, now: datetime) -> None:
        self.loads[agent_id] = self.load(agent_id) + 1
        presence = self.online.get(agent_id)
        if presence is not None:
            presence.last_assigned_at = now

    def give_back(self, agent_id: int) -> None:
        self.loads[agent_id] = max(0, self.load(agent_id) - 1)


async def open_pool(session: AsyncSession, store_id: int, now: datetime) -> Pool:
    """Take the desk lock and read who can take conversations."""
    await repository.lock_desk(session, store_id, now)
    online = {p.user_id: p for p in await repository.online_presences(session, store_id)}
    loads = await repository.agent_loads(session, store_id)
    return Pool(online, loads)


async def set_assignee(session: AsyncSession, conversation: Conversation, agent_id: int | None,
                       now: datetime, *, action: str, actor: Principal | None,
                       pool: Pool | None = None) -> None:
    """Record an assignment change: the row, the open wait's responsible agent, the audit
    trail, and the conversation event for everyone who sees it (including whoever lost it)."""
    previous = conversation.assigned_agent_id
    was_queued = previous is None and conversation.status == STATUS_OPEN
    if previous == agent_id and (agent_id is not None or conversation.queued_since is not None):
        return
    conversation.assigned_agent_id = agent_id
    conversation.queued_since = None if agent_id is not None else (
        conversation.queued_since or now)
    if pool is not None:
        if previous is not None and conversation.status == STATUS_OPEN:
            pool.give_back(previous)
        if agent_id is not None:
            pool.take(agent_id, now)
    await waits.reassign(session, conversation)
    await audit.record(session, subject_type="chat_conversation", subject_id=conversation.id,
                       action=action, actor_id=actor.user_id if actor else None,
                       actor_role=actor.role if actor else SYSTEM_ROLE,
                       data={"from_agent_id": previous, "to_agent_id": agent_id})
    also: list[str] = []
    if previous is not None and previous != agent_id:
        also.append(push.user_channel(previous))
    if was_queued and agent_id is not None:
        also.append(push.queue_channel(conversation.store_id))
    push.touch(session, conversation, *also)


async def route(session: AsyncSession, conversation: Conversation, now: datetime, *,
                exclude: Collection[int] = ()) -> Pool:
    """Give an open conversation (locked by the caller) an agent, or queue it."""
    pool = await open_pool(session, conversation.store_id, now)
    agent_id = pool.pick(conversation, now, exclude)
    if agent_id is not None:
        await set_assignee(session, conversation, agent_id, now, action="assigned", actor=None,
                           pool=pool)
    else:
        await set_assignee(session, conversation, None, now, action="queued", actor=None,
                           pool=pool)
    return pool


def needs_routing(conversation: Conversation, assignee_status: str | None) -> bool:
    """An open conversation needs routing when nobody (available) has it.
    ``assignee_status``: the assigned agent's chat status (None: no status row)."""
    if conversation.status != STATUS_OPEN:
        return False
    if conversation.assigned_agent_id is None:
        return True
    # An agent who went offline hands back; one who is away keeps what they have.
    return assignee_status is None or assignee_status == "offline"


async def drain(session: AsyncSession, store_id: int, now: datetime,
                pool: Pool | None = None) -> int:
    """Hand queued conversations to agents with room, longest waiting first."""
    pool = pool or await open_pool(session, store_id, now)
    free = pool.free_slots()
    if free <= 0:
        return 0
    handed = 0
    for conversation in await repository.queued_conversations(session, store_id, free):
        agent_id = pool.pick(conversation, now)
        if agent_id is None:
            break
        await set_assignee(session, conversation, agent_id, now, action="assigned", actor=None,
                           pool=pool)
        handed += 1
    return handed


async def release(session: AsyncSession, agent_id: int, store_id: int, now: datetime,
                  pool: Pool) -> int:
    """An agent went offline: their open conversations go to others, or to the queue."""
    moved = 0
    for conversation in await repository.open_conversations_of_agent(session, agent_id):
        target = pool.pick(conversation, now, exclude={agent_id})
        await set_assignee(session, conversation, target, now,
                           action="released" if target is None else "reassigned", actor=None,
                           pool=pool)
        moved += 1
    return moved
