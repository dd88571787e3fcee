"""Chat queries. Conversations are read only through :func:`conversations_visible_to`, and
messages only through the conversations they belong to."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Date,
    Select,
    SmallInteger,
    Table,
    Text,
    and_,
    bindparam,
    case,
    func,
    insert,
    inspect,
    literal,
    literal_column,
    null,
    or_,
    select,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from kefu.accounts import service as accounts
from kefu.accounts.roles import Principal
from kefu.chat.models import (
    AGENT_ONLINE,
    KIND_TEXT,
    SIDE_BUYER,
    STATUS_OPEN,
    AgentPresence,
    ChatDesk,
    Conversation,
    Message,
    QuickReply,
    StoreHoliday,
    StoreHours,
    Wait,
)
from kefu.kit.db import PlainStatement, record_of

# --- conversations --------------------------------------------------------------------------


def conversations_visible_to(principal: Principal) -> Select[Conversation]:
    """The only way to read conversations: a buyer their own, store staff their store's,
    platform staff all (read-only, enforced by the service)."""
    query = select(Conversation)
    if principal.is_buyer:
        return query.where(Conversation.buyer_id == principal.user_id)
    if principal.is_merchant and principal.store_id is not None:
        return query.where(Conversation.store_id == principal.store_id)
    if principal.is_platform:
        return query
    return query.where(Conversation.id < 0)


async def visible_conversation(session: AsyncSession, principal: Principal,
                               conversation_id: int) -> Conversation | None:
    return (await session.execute(
        conversations_visible_to(principal).where(Conversation.id == conversation_id)
    )).scalar_one_or_none()


async def lock_conversation(session: AsyncSession, conversation_id: int) -> Conversation | None:
    """The conversation row, locked, with fresh values (another transaction may have moved
    ``last_seq`` since this session first read it)."""
    return (await session.execute(
        select(Conversation).where(Conversation.id == conversation_id).with_for_update()
        .execution_options(populate_existing=True)
    )).scalar_one_or_none()


@dataclass
class LockedForSend:
    conversation: Conversation
    # The message this sender already stored under the same client id (a resend).
    resent_id: int | None
    # The assignee's chat status (None: no assignee, or no status row).
    assignee_status: str | None
    # The sender's login is still live (when asked to check it).
    signed_in: bool
    # The id the wait gets when a buyer's message would open one, known before it is
    # inserted so that its INSERT can go with the message's writes (None: insert it and read
    # its id back).
    reserved_wait_id: int | None = None


_CONVERSATION_COLUMNS = tuple(c.key for c in Conversation.__table__.columns)


def _lock_for_send_statement(with_login: bool, reserve_wait_id: str | None) -> PlainStatement:
    table = cast(Table, Conversation.__table__)
    resent = select(Message.id).where(
        Message.conversation_id == table.c.id,
        Message.sender_id == bindparam("sender_id"),
        Message.client_msg_id == bindparam("client_msg_id")).scalar_subquery()
    assignee = select(AgentPresence.status).where(
        AgentPresence.user_id == table.c.assigned_agent_id).scalar_subquery()
    # On PostgreSQL a FOR UPDATE that waited returns the row as its last holder committed it,
    # while the subqueries still see the statement's older snapshot: this copy of last_seq,
    # read through that snapshot, tells when the resend check must be repeated.
    snapshot = aliased(Conversation)
    seen_seq = select(snapshot.last_seq).where(
        snapshot.id == bindparam("conversation_id")).scalar_subquery()
    columns: list[Any] = [*(table.c[name] for name in _CONVERSATION_COLUMNS), resent, assignee,
                          seen_seq]
    if with_login:
        columns.append(accounts.signed_in_user_query().exists())
    if reserve_wait_id is not None:
        # Only when the sender is the buyer and no wait is open (CASE evaluates nextval only
        # then); an id left unused is a gap in the sequence, nothing more. SQLite gives a
        # new row the highest id plus one, and its write lock, held since BEGIN IMMEDIATE,
        # keeps every other writer out until this transaction has inserted it.
        next_id: Any = literal_column("nextval(pg_get_serial_sequence('chat_wait', 'id'))",
                                      BigInteger) if reserve_wait_id == "postgresql" \
            else select(func.coalesce(func.max(Wait.id), literal_column("0"))
                   + literal_column("1")).scalar_subquery()
        columns.append(case(
            (and_(table.c.open_wait_id.is_(None), table.c.buyer_id == bindparam("sender_id")),
             next_id),
            else_=null()))
    return PlainStatement(select(*columns).where(table.c.id == bindparam("conversation_id"))
                          .with_for_update(of=table))


# Built once: the send path runs them for every message, and building, keying and loading
# through the ORM a statement of this size costs more than running it.
_LOCK_FOR_SEND = {(login, dialect): _lock_for_send_statement(login, dialect)
                  for login in (False, True) for dialect in ("postgresql", "sqlite", None)}


def _as_loaded(session: AsyncSession, values: dict[str, Any]) -> Conversation:
    """The session's Conversation for a row just read, as a query with populate_existing
    would give it: the object already in the session refreshed, or a new persistent one."""
    existing = session.sync_session.identity_map.get(identity_key(Conversation, values["id"]))
    if existing is not None:
        for name, value in values.items():
            set_committed_value(existing, name, value)
        return existing
    conversation = record_of(Conversation, values)
    make_transient_to_detached(conversation)  # with its identity, as if loaded
    session.add(conversation)
    return conversation


def mark_written(session: AsyncSession, conversation: Conversation) -> None:
    """Record that a plain statement wrote the conversation's changes, as the ORM's own flush
    does: nothing is left to write and the object is no longer dirty. (Setting each value as
    committed would leave it marked modified, and every commit would then run a flush that
    finds nothing to do: about 0.2 ms a message.)"""
    inspect(conversation)._commit_all(conversation.__dict__, session.sync_session.identity_map)


async def lock_for_send(session: AsyncSession, conversation_id: int, sender_id: int,
                        client_msg_id: str, login: dict[str, Any] | None = None
                        ) -> LockedForSend | None:
    """Everything the send path must know before it writes, in one round trip: the
    conversation row, locked and fresh; whether this is a resend; the assignee's status; and,
    for a socket, whether the sender's login still holds (``login``: the parameters of
    :func:`kefu.accounts.service.signed_in_params`)."""
    if session.new or session.dirty or session.deleted:
        await session.flush()  # as a query's autoflush: the fresh row must not be overwritten
    params = {"conversation_id": conversation_id, "sender_id": sender_id,
              "client_msg_id": client_msg_id, **(login or {})}
    dialect = session.get_bind().dialect.name
    reserve = dialect in ("postgresql", "sqlite")
    rows = await _LOCK_FOR_SEND[login is not None, dialect if reserve else None].execute(
        session, params)
    if not rows:
        return None
    row, size = rows[0], len(_CONVERSATION_COLUMNS)
    conversation = _as_loaded(session, dict(zip(_CONVERSATION_COLUMNS, row[:size],
                                                strict=True)))
    resent_id, assignee_status, seen_seq = row[size], row[size + 1], row[size + 2]
    if seen_seq != conversation.last_seq:
        found = await message_by_client_id(session, conversation_id, sender_id, client_msg_id)
        resent_id = found.id if found is not None else None
    return LockedForSend(conversation, resent_id, assignee_status,
                         bool(row[size + 3]) if login is not None else True,
                         int(row[-1]) if reserve and row[-1] is not None else None)


# --- the send path's writes: plain table statements, built once --------------------------------
# A chat message is the hottest write there is; the ORM's unit of work costs more than the
# statements themselves, and nothing on the send path needs the rows as ORM objects.

_message = cast(Table, Message.__table__)
_wait = cast(Table, Wait.__table__)
_conversation = cast(Table, Conversation.__table__)
_INSERT_MESSAGE = PlainStatement(insert(_message).returning(_message.c.id))
_INSERT_WAIT = PlainStatement(insert(_wait).returning(_wait.c.id))
# What storing a message changes on its conversation (anything else goes through the ORM).
SEND_PATH_COLUMNS = ("last_seq", "last_message_at", "buyer_read_seq", "store_read_seq",
                     "buyer_unread", "store_unread",
                     "open_wait_id", "wait_started_at", "wait_clock_started_at", "wait_due_at",
                     "wait_nudged", "last_human_agent_id", "last_human_reply_at", "product_id",
                     "order_id")
_UPDATE_SEND_PATH_COLUMNS = PlainStatement(
    update(_conversation).where(_conversation.c.id == bindparam("b_id"))
    .values({name: bindparam(f"b_{name}", type_=_conversation.c[name].type)
             for name in SEND_PATH_COLUMNS}))


async def insert_message(session: AsyncSession, values: dict[str, Any]) -> int:
    """Store a message row (every column but the id given); its new id."""
    return int((await _INSERT_MESSAGE.execute(session, values))[0][0])


async def insert_message_later(session: AsyncSession, values: dict[str, Any],
                               then: Callable[[int], None]) -> None:
    """:func:`insert_message` with the transaction's next write (``kit.db.write_deferred``);
    ``then`` gets the new id."""
    await _INSERT_MESSAGE.execute_later(session, values, lambda found: then(int(found)))


async def insert_wait(session: AsyncSession, values: dict[str, Any]) -> int:
    return int((await _INSERT_WAIT.execute(session, values))[0][0])


async def insert_wait_later(session: AsyncSession, values: dict[str, Any]) -> None:
    """:func:`insert_wait` of a row whose id is given, with the transaction's next write."""
    await _INSERT_WAIT.execute_later(session, values)


async def update_send_path_columns_later(session: AsyncSession, conversation: Conversation
                                        ) -> None:
    """Write the send path's columns of a conversation as the object holds them now, with
    the transaction's next write (``kit.db.write_deferred``)."""
    params = {f"b_{name}": getattr(conversation, name) for name in SEND_PATH_COLUMNS}
    params["b_id"] = conversation.id
    await _UPDATE_SEND_PATH_COLUMNS.execute_later(session, params)


async def inbox_by_ids(session: AsyncSession, principal: Principal,
                       conversation_ids: Sequence[int]) -> list[Conversation]:
    """The given conversations, as far as the principal may see them."""
    if not conversation_ids:
        return []
    return list((await session.execute(
        conversations_visible_to(principal).where(Conversation.id.in_(set(conversation_ids)))
    )).scalars())


async def conversation_between(session: AsyncSession, store_id: int, buyer_id: int
                               ) -> Conversation | None:
    return (await session.execute(
        select(Conversation).where(Conversation.store_id == store_id,
                                   Conversation.buyer_id == buyer_id)
    )).scalar_one_or_none()


def _inbox_scope(principal: Principal) -> Select[Conversation]:
    """What a principal's list shows: agents theirs and the queue; everyone else their scope."""
    query = conversations_visible_to(principal)
    if principal.is_merchant and not principal.is_store_owner:
        query = query.where(or_(
            Conversation.assigned_agent_id == principal.user_id,
            and_(Conversation.assigned_agent_id.is_(None),
                 Conversation.status == STATUS_OPEN)))
    return query


async def inbox_summary(session: AsyncSession, principal: Principal, now: datetime
                        ) -> tuple[int, int, int, int, int]:
    """Over the principal's open conversations: (open, a buyer waiting for a reply, of which
    overdue, queued, unread buyer messages)."""
    scope = _inbox_scope(principal).where(Conversation.status == STATUS_OPEN).subquery()
    counts = (await session.execute(select(
        func.count(),
        func.sum(case((scope.c.open_wait_id.is_not(None), 1), else_=0)),
        func.sum(case((scope.c.wait_due_at <= now, 1), else_=0)),
        func.sum(case((scope.c.assigned_agent_id.is_(None), 1), else_=0)),
        func.sum(scope.c.store_unread),
    ).select_from(scope))).one()
    return (int(counts[0] or 0), int(counts[1] or 0), int(counts[2] or 0),
            int(counts[3] or 0), int(counts[4] or 0))


async def inbox(session: AsyncSession, principal: Principal, *, status: str | None,
                limit: int, store_id: int | None = None, buyer_id: int | None = None
                ) -> list[Conversation]:
    """A principal's conversation list. Store side: the ones a buyer is waiting on first,
    longest wait first; then the rest, latest activity first. Agents see theirs and the
    queue; owners the whole store."""
    query = _inbox_scope(principal)
    if status is not None:
        query = query.where(Conversation.status == status)
    if store_id is not None:
        query = query.where(Conversation.store_id == store_id)
    if buyer_id is not None:
        query = query.where(Conversation.buyer_id == buyer_id)
    if principal.is_buyer:
        query = query.order_by(Conversation.last_message_at.desc().nulls_last(),
                               Conversation.id.desc())
    else:
        query = query.order_by(
            case((Conversation.wait_clock_started_at.is_(None), 1), else_=0),
            Conversation.wait_clock_started_at,
            Conversation.last_message_at.desc().nulls_last(),
            Conversation.id.desc())
    return list((await session.execute(query.limit(limit))).scalars())


async def queued_conversations(session: AsyncSession, store_id: int, limit: int
                               ) -> list[Conversation]:
    """Queued conversations, longest waiting first, locked — skipping any another transaction
    holds (that one sees the queue itself once it gets the desk)."""
    return list((await session.execute(
        select(Conversation)
        .where(Conversation.store_id == store_id, Conversation.status == STATUS_OPEN,
               Conversation.assigned_agent_id.is_(None))
        .order_by(Conversation.queued_since.nulls_last(), Conversation.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )).scalars())


async def open_conversations_of_agent(session: AsyncSession, agent_id: int
                                      ) -> list[Conversation]:
    return list((await session.execute(
        select(Conversation)
        .where(Conversation.assigned_agent_id == agent_id, Conversation.status == STATUS_OPEN)
        .order_by(Conversation.id)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )).scalars())


async def move_read_mark(session: AsyncSession, conversation_id: int, buyer_side: bool,
                         seq: int) -> int | None:
    """Move one side's read mark forward to ``seq`` (at most the last seq this transaction
    has seen) and take the messages it passes off that side's unread count, in one
    statement: the row's own current values are what it moves from, whatever another tab or
    a sender changed meanwhile. The side's new unread count; None when the mark already was
    at ``seq`` or beyond (nothing changed).

    A count that drifted (messages stored or marks moved by a server of the release before
    the counts, still running during an upgrade) is never taken below zero, and reading to
    the last message sets it to zero outright, which repairs it in the usual case."""
    dialect = session.get_bind().dialect.name
    statement = _MOVE_READ_MARK.get((buyer_side, dialect))
    if statement is None:
        statement = _MOVE_READ_MARK[buyer_side, dialect] = _move_read_mark_statement(
            buyer_side, dialect)
    found = (await session.execute(statement, {"conversation_id": conversation_id, "seq": seq})
             ).scalar_one_or_none()
    return int(found) if found is not None else None


def _move_read_mark_statement(buyer_side: bool, dialect: str) -> Any:
    mark = _conversation.c.buyer_read_seq if buyer_side else _conversation.c.store_read_seq
    unread = _conversation.c.buyer_unread if buyer_side else _conversation.c.store_unread
    seq = bindparam("seq", type_=BigInteger)
    from_other_side = _message.c.sender_side != SIDE_BUYER if buyer_side \
        else _message.c.sender_side == SIDE_BUYER
    passed = select(func.count()).select_from(_message).where(
        _message.c.conversation_id == _conversation.c.id, from_other_side,
        _message.c.seq > mark, _message.c.seq <= seq).scalar_subquery()
    # SQLite's two-argument max() is PostgreSQL's greatest().
    at_least_zero = func.greatest if dialect == "postgresql" else func.max
    left = case((_conversation.c.last_seq <= seq, literal(0)),
                else_=at_least_zero(unread - passed, literal(0)))
    return (update(_conversation)
            .where(_conversation.c.id == bindparam("conversation_id"), mark < seq)
            .values({mark: seq, unread: left}).returning(unread))


# Built once per side and dialect: every read receipt runs one (a client sends one for each
# message it shows), and building the statement cost more than running it.
_MOVE_READ_MARK: dict[tuple[bool, str], Any] = {}


async def last_messages(session: AsyncSession, conversation_ids: Sequence[int]
                        ) -> dict[int, Message]:
    if not conversation_ids:
        return {}
    rows = await session.execute(
        select(Message)
        .join(Conversation, and_(Conversation.id == Message.conversation_id,
                                 Message.seq == Conversation.last_seq))
        .where(Conversation.id.in_(set(conversation_ids)))
    )
    return {m.conversation_id: m for m in rows.scalars()}


# --- messages -------------------------------------------------------------------------------


async def message_by_client_id(session: AsyncSession, conversation_id: int, sender_id: int,
                               client_msg_id: str) -> Message | None:
    return (await session.execute(
        select(Message).where(Message.conversation_id == conversation_id,
                              Message.sender_id == sender_id,
                              Message.client_msg_id == client_msg_id)
    )).scalar_one_or_none()


async def messages_page(session: AsyncSession, conversation_id: int, *,
                        after_seq: int | None, before_seq: int | None, limit: int
                        ) -> list[Message]:
    """``limit`` + 1 messages in seq order (the extra one tells whether there is more)."""
    query = select(Message).where(Message.conversation_id == conversation_id)
    if before_seq is not None:
        # Older history: the latest ones before the mark, returned oldest first.
        query = query.where(Message.seq < before_seq)
        if after_seq is not None:
            query = query.where(Message.seq > after_seq)
        rows = list((await session.execute(
            query.order_by(Message.seq.desc()).limit(limit + 1))).scalars())
        return rows[::-1]
    if after_seq is not None:
        query = query.where(Message.seq > after_seq)
    return list((await session.execute(query.order_by(Message.seq).limit(limit + 1))).scalars())


async def latest_messages(session: AsyncSession, conversation_id: int, limit: int
                          ) -> list[Message]:
    rows = list((await session.execute(
        select(Message).where(Message.conversation_id == conversation_id)
        .order_by(Message.seq.desc()).limit(limit + 1))).scalars())
    return rows[::-1]


async def all_messages(session: AsyncSession, conversation_id: int, limit: int
                       ) -> list[Message]:
    return list((await session.execute(
        select(Message).where(Message.conversation_id == conversation_id)
        .order_by(Message.seq).limit(limit))).scalars())


async def messages_after(session: AsyncSession, marks: dict[int, int], per_conversation: int
                         ) -> list[Message]:
    """For a reconnecting client: every message after each conversation's mark, at most
    ``per_conversation`` + 1 each (the extra one says the client must page the rest)."""
    if not marks:
        return []
    ranked = (
        select(Message.id, func.row_number().over(
            partition_by=Message.conversation_id, order_by=Message.seq).label("rank"))
        .where(or_(*[and_(Message.conversation_id == cid, Message.seq > seq)
                     for cid, seq in marks.items()]))
        .subquery()
    )
    rows = await session.execute(
        select(Message).join(ranked, ranked.c.id == Message.id)
        .where(ranked.c.rank <= per_conversation + 1)
        .order_by(Message.conversation_id, Message.seq)
    )
    return list(rows.scalars())


async def recent_texts(session: AsyncSession, conversation_id: int, sender_id: int,
                       since: datetime, limit: int) -> list[str]:
    rows = await session.execute(
        select(Message.text)
        .where(Message.conversation_id == conversation_id, Message.sender_id == sender_id,
               Message.kind == KIND_TEXT, Message.created_at >= since)
        .order_by(Message.seq.desc()).limit(limit)
    )
    return [t for t in rows.scalars() if t][::-1]


async def resend_and_recent_texts(session: AsyncSession, conversation_id: int, sender_id: int,
                                  client_msg_id: str, since: datetime, limit: int
                                  ) -> tuple[int | None, list[str]]:
    """:func:`message_by_client_id` (its id) and :func:`recent_texts` in one round trip."""
    recent = (
        select(Message.seq, Message.text)
        .where(Message.conversation_id == conversation_id, Message.sender_id == sender_id,
               Message.kind == KIND_TEXT, Message.created_at >= since)
        .order_by(Message.seq.desc()).limit(limit)
    ).subquery()
    resend = select(literal(1).label("resend"), Message.id.label("ref"),
                    type_coerce(null(), Text).label("text")).where(
        Message.conversation_id == conversation_id, Message.sender_id == sender_id,
        Message.client_msg_id == client_msg_id)
    rows = (await session.execute(union_all(
        resend, select(literal(0), recent.c.seq, recent.c.text)))).all()
    existing = next((int(ref) for is_resend, ref, _text in rows if is_resend), None)
    texts = sorted((int(seq), text) for is_resend, seq, text in rows if not is_resend and text)
    return existing, [text for _seq, text in texts]


async def auto_reply_exists_since(session: AsyncSession, conversation_id: int, auto_reply_kind: str,
                                  since_seq: int) -> bool:
    return (await session.execute(
        select(Message.id).where(Message.conversation_id == conversation_id,
                                 Message.auto_reply_kind == auto_reply_kind,
                                 Message.seq >= since_seq).limit(1)
    )).first() is not None


def _like_pattern(query: str) -> str:
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def search_messages(session: AsyncSession, principal: Principal, query: str, limit: int
                          ) -> list[Message]:
    visible = conversations_visible_to(principal).with_only_columns(Conversation.id)
    rows = await session.execute(
        select(Message)
        .where(Message.conversation_id.in_(visible.scalar_subquery()),
               Message.text.is_not(None),
               Message.text.ilike(_like_pattern(query), escape="\\"))
        .order_by(Message.id.desc()).limit(limit)
    )
    return list(rows.scalars())


# --- waits ----------------------------------------------------------------------------------


async def wait_by_id(session: AsyncSession, wait_id: int) -> Wait | None:
    return await session.get(Wait, wait_id)


async def waits_between(session: AsyncSession, store_ids: Sequence[int], first_day: date,
                        last_day: date, agent_id: int | None = None) -> list[Wait]:
    query = select(Wait).where(Wait.store_id.in_(set(store_ids)),
                               Wait.business_day >= first_day, Wait.business_day <= last_day)
    if agent_id is not None:
        query = query.where(Wait.agent_id == agent_id)
    return list((await session.execute(query)).scalars())


async def wait_counts(session: AsyncSession, store_ids: Sequence[int], first_day: date,
                      last_day: date, now: datetime, agent_id: int | None = None
                      ) -> dict[int, tuple[int, int, int]]:
    """Per store: (waits decided, answered on time, still open but not yet due)."""
    still_pending = and_(Wait.ended_at.is_(None), Wait.due_at > now)
    query = (
        select(Wait.store_id,
               func.sum(case((still_pending, 0), else_=1)),
               func.sum(case((Wait.on_time.is_(True), 1), else_=0)),
               func.sum(case((still_pending, 1), else_=0)))
        .where(Wait.store_id.in_(set(store_ids)), Wait.business_day >= first_day,
               Wait.business_day <= last_day)
        .group_by(Wait.store_id)
    )
    if agent_id is not None:
        query = query.where(Wait.agent_id == agent_id)
    out: dict[int, tuple[int, int, int]] = {}
    for store_id, decided, on_time, pending in (await session.execute(query)).all():
        out[int(store_id)] = (int(decided or 0), int(on_time or 0), int(pending or 0))
    return out


# --- presence and assignment ----------------------------------------------------------------


async def presence(session: AsyncSession, user_id: int) -> AgentPresence | None:
    return await session.get(AgentPresence, user_id)


async def presence_for_update(session: AsyncSession, user_id: int) -> AgentPresence | None:
    return (await session.execute(
        select(AgentPresence).where(AgentPresence.user_id == user_id).with_for_update()
        .execution_options(populate_existing=True)
    )).scalar_one_or_none()


async def store_presences(session: AsyncSession, store_id: int) -> list[AgentPresence]:
    return list((await session.execute(
        select(AgentPresence).where(AgentPresence.store_id == store_id)
        .execution_options(populate_existing=True)
    )).scalars())


async def online_presences(session: AsyncSession, store_id: int) -> list[AgentPresence]:
    return list((await session.execute(
        select(AgentPresence).where(AgentPresence.store_id == store_id,
                                    AgentPresence.status == AGENT_ONLINE)
        .execution_options(populate_existing=True)
    )).scalars())


async def agent_loads(session: AsyncSession, store_id: int) -> dict[int, int]:
    """Open conversations per assigned agent of a store."""
    rows = await session.execute(
        select(Conversation.assigned_agent_id, func.count())
        .where(Conversation.store_id == store_id, Conversation.status == STATUS_OPEN,
               Conversation.assigned_agent_id.is_not(None))
        .group_by(Conversation.assigned_agent_id)
    )
    return {int(agent_id): int(count) for agent_id, count in rows.all() if agent_id is not None}


async def lock_desk(session: AsyncSession, store_id: int, now: datetime) -> None:
    """Take the store's assignment lock, creating its row on first use. One statement: an
    upsert that updates the row locks it (PostgreSQL); SQLite's write lock covers the rest."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(ChatDesk).values(store_id=store_id, created_at=now)
    await session.execute(statement.on_conflict_do_update(
        index_elements=[ChatDesk.store_id], set_={"store_id": statement.excluded.store_id}))


# --- quick replies --------------------------------------------------------------------------


async def quick_replies_for(session: AsyncSession, store_id: int, user_id: int
                            ) -> list[QuickReply]:
    return list((await session.execute(
        select(QuickReply)
        .where(QuickReply.store_id == store_id,
               or_(QuickReply.owner_id.is_(None), QuickReply.owner_id == user_id))
        .order_by(case((QuickReply.owner_id.is_(None), 0), else_=1), QuickReply.id)
    )).scalars())


async def quick_reply(session: AsyncSession, reply_id: int) -> QuickReply | None:
    return await session.get(QuickReply, reply_id)


async def count_quick_replies(session: AsyncSession, store_id: int, owner_id: int | None) -> int:
    owner_clause = QuickReply.owner_id.is_(None) if owner_id is None \
        else QuickReply.owner_id == owner_id
    return int((await session.execute(
        select(func.count()).select_from(QuickReply)
        .where(QuickReply.store_id == store_id, owner_clause))).scalar_one())


# --- hours ----------------------------------------------------------------------------------


async def store_hours(session: AsyncSession, store_id: int
                      ) -> tuple[list[StoreHours], list[StoreHoliday]]:
    weekly = list((await session.execute(
        select(StoreHours).where(StoreHours.store_id == store_id).order_by(StoreHours.weekday)
    )).scalars())
    holidays = list((await session.execute(
        select(StoreHoliday).where(StoreHoliday.store_id == store_id).order_by(StoreHoliday.day)
    )).scalars())
    return weekly, holidays


ScheduleRow = tuple[int | None, date | None, bool, int, int]


async def schedule_rows(session: AsyncSession, store_id: int) -> list[ScheduleRow]:
    """The weekly hours and the date overrides of a store in one round trip:
    ``(weekday, None, closed, opens, closes)`` or ``(None, day, closed, opens, closes)``."""
    weekly = select(StoreHours.weekday, type_coerce(null(), Date).label("day"),
                    StoreHours.closed, StoreHours.opens_minute, StoreHours.closes_minute
                    ).where(StoreHours.store_id == store_id)
    holidays = select(type_coerce(null(), SmallInteger).label("weekday"), StoreHoliday.day,
                      StoreHoliday.closed, StoreHoliday.opens_minute,
                      StoreHoliday.closes_minute).where(StoreHoliday.store_id == store_id)
    rows = await session.execute(union_all(weekly, holidays))
    return [(r[0], r[1], bool(r[2]), int(r[3]), int(r[4])) for r in rows.all()]
