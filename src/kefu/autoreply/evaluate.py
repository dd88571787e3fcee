"""Measuring a matcher on labelled questions."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

from kefu.autoreply.matcher import FaqMatcher, MatchResult

__all__ = ["Evaluation", "LabelledQuery", "evaluate", "load_queries"]


@dataclass(frozen=True)
class LabelledQuery:
    text: str
    intent: str | None
    product_id: int | None = None


def load_queries(path: str | PathLike[str]) -> list[LabelledQuery]:
    """Read a JSONL file of ``{"text": ..., "intent": ... or null}`` lines."""
    queries: list[LabelledQuery] = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            queries.append(LabelledQuery(str(row["text"]), row.get("intent"),
                                         row.get("product_id")))
    return queries


@dataclass(frozen=True)
class Evaluation:
    results: tuple[tuple[LabelledQuery, MatchResult], ...]

    @property
    def intent_total(self) -> int:
        return sum(1 for query, _result in self.results if query.intent is not None)

    @property
    def intent_correct(self) -> int:
        return sum(1 for query, result in self.results
                   if query.intent is not None and result.intent == query.intent)

    @property
    def null_total(self) -> int:
        return sum(1 for query, _result in self.results if query.intent is None)

    @property
    def null_answered(self) -> int:
        return sum(1 for query, result in self.results
                   if query.intent is None and result.answered)

    @property
    def accuracy(self) -> float:
        return self.intent_correct / self.intent_total if self.intent_total else 1.0

    @property
    def null_answer_rate(self) -> float:
        return self.null_answered / self.null_total if self.null_total else 0.0

    @property
    def wrong_answers(self) -> int:
        """Intent questions answered with the wrong entry (worse than no answer)."""
        return sum(1 for query, result in self.results
                   if query.intent is not None and result.answered
                   and result.intent != query.intent)

    def errors(self) -> list[tuple[LabelledQuery, MatchResult]]:
        return [(query, result) for query, result in self.results
                if (result.intent if result.answered else None) != query.intent]

    def summary(self) -> dict[str, Any]:
        return {
            "queries": len(self.results),
            "intent_questions": self.intent_total,
            "intent_correct": self.intent_correct,
            "accuracy": round(self.accuracy, 4),
            "wrong_answers": self.wrong_answers,
            "null_questions": self.null_total,
            "null_answered": self.null_answered,
            "null_answer_rate": round(self.null_answer_rate, 4),
        }


def evaluate(matcher: FaqMatcher, queries: Iterable[LabelledQuery] | Sequence[LabelledQuery]
             ) -> Evaluation:
    return Evaluation(tuple((query, matcher.match(query.text, query.product_id))
                            for query in queries))
