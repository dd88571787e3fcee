"""Store weight from chat facts: a store answering fewer than the target share of waits on
time over the last days ranks lower in buyer search (rules.md, "Store traffic weight")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from kefu.chat import waits
from kefu.marketplace import ranking
from kefu.settings import get_settings

# Below this many decided waits a rate says little; a new store is not punished for one
# slow answer.
MIN_WAITS = 5


async def response_rate_weights(session: AsyncSession, store_ids: Sequence[int], now: datetime
                                ) -> dict[int, ranking.WeightFactor]:
    settings = get_settings()
    today = now.astimezone(ZoneInfo(settings.timezone)).date()
    first_day = today - timedelta(days=settings.response_rate_window_days - 1)
    rates = await waits.response_rates(session, list(store_ids), first_day, today, now=now)
    target = settings.response_rate_target_percent / 100
    out: dict[int, ranking.WeightFactor] = {}
    for store_id, rate in rates.items():
        if rate.waits >= MIN_WAITS and rate.rate is not None and rate.rate < target:
            out[store_id] = ranking.WeightFactor(settings.low_response_weight,
                                                 "近7天5分钟人工回复率低于80%")
    return out


ranking.register_weight_provider("chat_response_rate", response_rate_weights)
