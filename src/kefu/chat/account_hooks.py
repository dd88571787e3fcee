"""The chat's reaction to accounts: a disabled agent goes offline and their open
conversations go back to the team or the queue."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.accounts import service as accounts
from kefu.accounts.roles import Principal
from kefu.chat import service


async def take_agent_offline(session: AsyncSession, agent: Principal) -> None:
    if agent.is_merchant and agent.store_id is not None:
        await service.set_agent_status(session, agent, "offline")


accounts.register_deactivation_hook("chat", take_agent_offline)
