"""Search ranking: relevance times a store weight that other domains contribute to.

A weight provider (registered by, say, the diversion domain for demotions, or the data center
for response rates) gives each store a factor in (0, 1] and a reason a merchant can read. The
store's weight is the product of all factors.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class WeightFactor:
    factor: float
    reason: str
    until: datetime | None = None


@dataclass
class StoreWeight:
    store_id: int
    weight: float = 1.0
    factors: list[WeightFactor] = field(default_factory=list)


WeightProvider = Callable[[AsyncSession, Sequence[int], datetime],
                          Awaitable[dict[int, WeightFactor]]]
_providers: dict[str, WeightProvider] = {}


def register_weight_provider(name: str, provider: WeightProvider) -> None:
    _providers[name] = provider


async def store_weights(session: AsyncSession, store_ids: Sequence[int], now: datetime
                        ) -> dict[int, StoreWeight]:
    weights = {sid: StoreWeight(sid) for sid in store_ids}
    for name in sorted(_providers):
        found = await _providers[name](session, store_ids, now)
        for store_id, factor in found.items():
            if store_id in weights:
                weights[store_id].factors.append(factor)
                weights[store_id].weight *= max(0.0, min(1.0, factor.factor))
    return weights


_SPLIT = re.compile(r"[\s,，。.!！?？、;；:：/|]+")


def query_terms(query: str) -> list[str]:
    """Search terms: whitespace-separated words; long Chinese runs also as 2-character grams."""
    terms: list[str] = []
    for word in _SPLIT.split(query.strip().lower()):
        if not word:
            continue
        terms.append(word)
        if len(word) > 2 and not word.isascii():
            terms.extend(word[i:i + 2] for i in range(len(word) - 1))
    return list(dict.fromkeys(terms))[:20]


def relevance(query: str, title: str, detail: str, category: str) -> float:
    """Share of the query's grams found in the title (weighted most), category and detail."""
    terms = query_terms(query)
    if not terms:
        return 1.0
    title_l, detail_l, category_l = title.lower(), detail.lower(), category.lower()
    score = 0.0
    for term in terms:
        if term in title_l:
            score += 1.0
        elif term in category_l:
            score += 0.6
        elif term in detail_l:
            score += 0.3
    return score / len(terms)
