"""The FAQ matching engine for auto-replies.

A store's FAQ is a few dozen entries, each a canonical question, an answer and a few example
phrasings. :class:`FaqMatcher` finds the entry a buyer's message asks about — or, more often than
not, decides that none fits: a wrong automatic answer is worse than none.

How a message is handled, in order:

1. **After-sales guard** (:mod:`kefu.autoreply.guard`): a complaint or a problem with an order
   (broken, fake, missing, not received, refund not arrived …) is never answered by an ordinary
   FAQ entry; the result has kind ``after_sales`` and the category. (Only an entry written for
   that very kind of problem — the platform help desk has them — may answer it; see
   ``after_sales`` below.)
2. **Keyword rules**: an entry's ``keywords``; if the normalised message contains one, that entry
   answers (kind ``keyword``).
3. **Greetings and small talk** (在吗, 你好, 谢谢): kind ``greeting`` / ``none``, no entry.
4. **Similarity**: the message and every question/example of every entry in scope become vectors
   of concept tokens (:mod:`kefu.autoreply.synonyms`) and character 1–3-grams, weighted by
   inverse document frequency over the entries; the score of an entry is the best cosine
   similarity between the message and one of its phrasings. The best entry answers (kind ``faq``)
   when its score reaches the threshold *and* leads the best entry of another intent by the
   margin, and the message carries no out-of-scope concept (bulk buying, product comparison,
   contact off the platform …) that the entry lacks.
5. **Typos**: when nothing answered, words that sound like a known word but are spelt otherwise
   (包油 → 包邮) are corrected and step 1–4 run once more.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any, Literal

import numpy as np

from kefu.autoreply import guard
from kefu.autoreply.intents import builtin_phrasings
from kefu.autoreply.normalize import normalize, remove_particles
from kefu.autoreply.synonyms import ConceptTagger, default_tagger

__all__ = [
    "DEFAULT_MARGIN",
    "DEFAULT_THRESHOLD",
    "AfterSalesMode",
    "FaqEntry",
    "FaqMatcher",
    "MatchKind",
    "MatchResult",
    "classify",
    "classify_after_sales",
    "load_faq_file",
    "load_faq_json",
]

DEFAULT_THRESHOLD = 0.36
"""The score (0–1) an entry needs to be answered automatically."""
DEFAULT_MARGIN = 0.05
"""How far the best entry must lead the best entry of another intent."""

MatchKind = Literal["faq", "keyword", "after_sales", "greeting", "none"]
AfterSalesMode = Literal["block", "entries"]

classify_after_sales = guard.classify_after_sales
classify = guard.classify

# Weights of the kinds of feature. Concepts carry most of the meaning; characters catch what the
# synonym table does not know (product words, the store's own phrasing).
_CONCEPT_WEIGHT = 2.2
_NGRAM_WEIGHTS = (0.0, 0.35, 0.75, 0.75)  # by length: -, 1, 2, 3
# Query features no entry has still count against the match, but character n-grams only partly
# (a buyer's extra words are usually noise), concepts fully (a topic the FAQ does not cover).
_UNSEEN_NGRAM_FACTOR = 0.35
_UNSEEN_ASPECT_FACTOR = 0.5  # an aspect no entry has (几点) matters less than a topic
# A phrasing that has a topic concept (not only aspects such as 多久, 什么时候) but shares none
# with the message matches on aspects and characters alone: "店铺开了多久了" is not "多久能到".
_ASPECT_ONLY_FACTOR = 0.6
# ... and one that shares only part of them is weakened in proportion (factor 0.6 + 0.4 × the
# share of its topic weight the message covers; full strength when it covers all of it).
_COVERAGE_SLOPE = 0.4
# Words that frame a question rather than say what it is about; left out of the n-grams.
_FRAME_WORDS = re.compile(
    "怎么办|怎么样|怎么|什么|是不是|能不能|可不可以|可以|会不会|有没有|要不要|我该|我想|想问|"
    "一下|请问|的话|这个|那个|这件|这款|你们|我们|我的|一般|大概|现在|就是|需要|应该|是否|"
    "如果|的是|了吗|还能|能否|为什么|为啥|吗"
)
_STOP_CHARS = frozenset(
    "的了是我你他她它们这那个吧吗呢啊呀么在有和跟与就都也还要会能可以请问一下些把被给让对吧"
    "呢嘛哦啦着过得地很太好不没"
)


@dataclass(frozen=True)
class FaqEntry:
    """One FAQ entry. ``product_ids`` empty means store-wide."""

    key: str
    intent: str | None
    question: str
    answer: str
    examples: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    product_ids: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "intent": self.intent,
            "question": self.question,
            "answer": self.answer,
            "examples": list(self.examples),
            "keywords": list(self.keywords),
            "product_ids": list(self.product_ids),
        }


@dataclass(frozen=True)
class MatchResult:
    """What the engine decided about one message, with enough detail to explain it."""

    entry: FaqEntry | None
    score: float
    kind: MatchKind
    runner_up: FaqEntry | None
    runner_up_score: float
    explanation: str
    concepts: tuple[str, ...] = ()
    """Labels of the concepts the message shares with the matched phrasing."""
    matched_text: str | None = None
    """The question, example or keyword of the entry that matched best."""
    category: str | None = None
    """The after-sales category (kind "after_sales"), or "greeting" / "small_talk"."""
    normalized: str = ""
    corrected: str | None = None
    """The message after typo correction, when that was needed."""
    candidates: tuple[tuple[str, float], ...] = field(default=())
    """The best few (entry key, score), best first."""
    candidate: FaqEntry | None = None
    """The best entry in scope whether or not it was answered (``score`` is its score)."""

    @property
    def answered(self) -> bool:
        return self.entry is not None and self.kind in ("faq", "keyword")

    @property
    def intent(self) -> str | None:
        return self.entry.intent if self.answered and self.entry is not None else None

    def to_dict(self) -> dict[str, Any]:
        def brief(entry: FaqEntry | None) -> dict[str, Any] | None:
            if entry is None:
                return None
            return {"key": entry.key, "intent": entry.intent, "question": entry.question}

        return {
            "kind": self.kind,
            "entry": brief(self.entry),
            "answer": self.entry.answer if self.answered and self.entry is not None else None,
            "score": round(self.score, 4),
            "runner_up": brief(self.runner_up),
            "runner_up_score": round(self.runner_up_score, 4),
            "explanation": self.explanation,
            "concepts": list(self.concepts),
            "matched_text": self.matched_text,
            "category": self.category,
            "normalized": self.normalized,
            "corrected": self.corrected,
            "candidates": [[key, round(score, 4)] for key, score in self.candidates],
            "candidate": brief(self.candidate),
        }


# --------------------------------------------------------------------------- features


@dataclass(frozen=True)
class _Features:
    concepts: dict[str, str]  # concept id → the surface form that expressed it
    ngrams: frozenset[str]


def _extract(text: str, tagger: ConceptTagger) -> _Features:
    concepts: dict[str, str] = {}
    for hit in tagger.tag(text):
        concepts.setdefault(hit.concept, hit.surface)
    ngrams: set[str] = set()
    if _FRAME_WORDS.search(text):
        text = _FRAME_WORDS.sub(" ", text)
    for segment in text.split(" "):
        ngrams.update(char for char in segment if char not in _STOP_CHARS)
        ngrams.update(segment[index:index + 2] for index in range(len(segment) - 1))
        ngrams.update(segment[index:index + 3] for index in range(len(segment) - 2))
    return _Features(concepts, frozenset(ngrams))


def _ngram_weight(feature: str) -> float:
    return _NGRAM_WEIGHTS[min(len(feature), 3)]


# --------------------------------------------------------------------------- the matcher


@dataclass(frozen=True)
class _Scored:
    order: np.ndarray[Any, np.dtype[np.int64]]  # entry indices, best first
    scores: np.ndarray[Any, np.dtype[np.float64]]
    cosine: np.ndarray[Any, np.dtype[np.float64]]  # by document
    query: _Features


class FaqMatcher:
    """Matches buyers' messages against one FAQ. Build once per FAQ version; ``match`` is
    thread-safe (it does not mutate the matcher).

    ``after_sales`` — what happens to an after-sales message (see :mod:`kefu.autoreply.guard`):

    - ``"entries"`` (the default): it is answered only by an entry written *for* that kind of
      problem — one whose own question or examples are after-sales messages of the same
      category (the platform help desk's "买到假货怎么投诉" answers "收到假货怎么办"). No other
      entry ever answers it. A store FAQ has no such entry, so for a store every after-sales
      message comes back as kind ``after_sales``.
    - ``"block"``: never answered at all, whatever the entries say.

    ``builtin_phrasings``: entries whose intent is one of the standard intents
    (:mod:`kefu.autoreply.intents`) also match the platform's own phrasings of that intent.
    """

    def __init__(
        self,
        entries: Sequence[FaqEntry],
        threshold: float = DEFAULT_THRESHOLD,
        margin: float = DEFAULT_MARGIN,
        *,
        after_sales: AfterSalesMode = "entries",
        builtin_phrasings: bool = True,
        tagger: ConceptTagger | None = None,
    ) -> None:
        self.entries: tuple[FaqEntry, ...] = tuple(entries)
        self.threshold = threshold
        self.margin = margin
        self.after_sales: AfterSalesMode = after_sales
        self.tagger = tagger or default_tagger()
        self._builtin = builtin_phrasings
        self._build()

    # ------------------------------------------------------------------ building

    def _build(self) -> None:
        tagger = self.tagger
        doc_texts: list[str] = []
        doc_entry: list[int] = []
        doc_features: list[_Features] = []
        entry_concepts: list[frozenset[str]] = []
        entry_after_sales: list[frozenset[str]] = []
        starts: list[int] = []
        for index, entry in enumerate(self.entries):
            starts.append(len(doc_texts))
            own = 1 + len(entry.examples)
            phrasings = [entry.question, *entry.examples]
            if self._builtin and entry.intent:
                phrasings.extend(builtin_phrasings(entry.intent))
            seen: set[str] = set()
            concepts: set[str] = set()
            after_sales: set[str] = set()
            for position, phrasing in enumerate(phrasings):
                basic = normalize(phrasing, strip_particles=False)
                text = remove_particles(guard.strip_greeting(basic))
                if not text or text in seen:
                    continue
                seen.add(text)
                if self.after_sales == "entries" and position < own:
                    category = guard._after_sales_normalised(basic)
                    if category is not None:
                        after_sales.add(category)
                features = _extract(text, tagger)
                concepts.update(features.concepts)
                doc_texts.append(phrasing)
                doc_entry.append(index)
                doc_features.append(features)
            if len(doc_texts) == starts[-1]:
                # An entry with nothing to match on still needs a (never matching) document.
                doc_texts.append(entry.question)
                doc_entry.append(index)
                doc_features.append(_Features({}, frozenset()))
            entry_concepts.append(frozenset(concepts))
            entry_after_sales.append(frozenset(after_sales))

        # Document frequency over entries (not phrasings: an entry with many examples should
        # not make its own words look common).
        entry_count = len(self.entries)
        df: dict[str, int] = {}
        for index in range(entry_count):
            end = starts[index + 1] if index + 1 < entry_count else len(doc_features)
            entry_features: set[str] = set()
            for features_of_doc in doc_features[starts[index]:end]:
                entry_features.update("#" + concept for concept in features_of_doc.concepts)
                entry_features.update(features_of_doc.ngrams)
            for feature in entry_features:
                df[feature] = df.get(feature, 0) + 1
        self._idf_unseen = math.log(1 + (entry_count + 0.5) / 0.5)
        self._unseen_ngram_sq = tuple(
            (weight_ * _UNSEEN_NGRAM_FACTOR * self._idf_unseen) ** 2 for weight_ in _NGRAM_WEIGHTS
        )
        weight: dict[str, float] = {}
        for feature, count in df.items():
            idf = math.log(1 + (entry_count - count + 0.5) / (count + 0.5))
            if feature.startswith("#"):
                base = _CONCEPT_WEIGHT * tagger.weights.get(feature[1:], 1.0)
            else:
                base = _ngram_weight(feature)
            weight[feature] = base * idf
        self._weight = weight

        postings: dict[str, list[int]] = {}
        norms = np.zeros(len(doc_features))
        for doc, features_of_doc in enumerate(doc_features):
            total = 0.0
            for feature in self._doc_keys(features_of_doc):
                postings.setdefault(feature, []).append(doc)
                total += weight[feature] ** 2
            norms[doc] = math.sqrt(total) or 1.0
        # feature → (documents, squared weight per document, squared weight)
        self._postings = {
            feature: (np.asarray(docs, dtype=np.int64),
                      np.full(len(docs), weight[feature] ** 2), weight[feature] ** 2)
            for feature, docs in postings.items()
        }
        self._doc_norms = norms
        # Squared weight of each document's topic concepts (inf when it has none: no penalty).
        self._doc_topic_sq = np.asarray(
            [sum(weight["#" + concept] ** 2 for concept in features_of_doc.concepts
                 if concept not in tagger.aspects) or math.inf
             for features_of_doc in doc_features])
        self._doc_texts = tuple(doc_texts)
        self._doc_features = tuple(doc_features)
        self._doc_entry = np.asarray(doc_entry, dtype=np.int64)
        self._starts = np.asarray(starts, dtype=np.int64)
        self._entry_concepts = tuple(entry_concepts)
        self._entry_after_sales = tuple(entry_after_sales)
        self._scoped = tuple(bool(entry.product_ids) for entry in self.entries)
        self._store_wide = np.asarray([not scoped for scoped in self._scoped], dtype=bool)
        self._scoped_bonus = np.asarray([1e-9 if scoped else 0.0 for scoped in self._scoped])
        by_product: dict[int, list[int]] = {}
        for index, entry in enumerate(self.entries):
            for product in entry.product_ids:
                by_product.setdefault(product, []).append(index)
        self._by_product = {product: np.asarray(indices, dtype=np.int64)
                            for product, indices in by_product.items()}
        self._nothing = np.zeros(len(self.entries), dtype=bool)
        self._category_masks: dict[str, np.ndarray[Any, Any]] = {}
        for index, categories in enumerate(entry_after_sales):
            for category in categories:
                mask = self._category_masks.setdefault(
                    category, np.zeros(len(self.entries), dtype=bool))
                mask[index] = True
        self._keywords: list[tuple[str, int, str]] = []
        for index, entry in enumerate(self.entries):
            for keyword in entry.keywords:
                normal = normalize(keyword)
                if normal:
                    self._keywords.append((normal, index, keyword))
        self._keywords.sort(key=lambda item: -len(item[0]))

    @staticmethod
    def _doc_keys(features: _Features) -> Iterable[str]:
        for concept in features.concepts:
            yield "#" + concept
        yield from features.ngrams

    # ------------------------------------------------------------------ scoring

    def _in_scope(self, index: int, product_id: int | None) -> bool:
        ids = self.entries[index].product_ids
        return not ids or (product_id is not None and product_id in ids)

    def _allowed(self, product_id: int | None, category: str | None) -> np.ndarray[Any, Any]:
        allowed = self._store_wide.copy()
        if product_id is not None:
            scoped = self._by_product.get(product_id)
            if scoped is not None:
                allowed[scoped] = True
        if category is not None:
            allowed &= self._category_masks.get(category, self._nothing)
        return allowed

    def _score(self, text: str, product_id: int | None, category: str | None) -> _Scored:
        query = _extract(text, self.tagger)
        postings = self._postings
        unseen_ngram_sq = self._unseen_ngram_sq
        doc_lists: list[np.ndarray[Any, Any]] = []
        weight_lists: list[np.ndarray[Any, Any]] = []
        norm_sq = 0.0
        seen_forms: set[str] | None = None
        for concept, form in query.concepts.items():
            posting = postings.get("#" + concept)
            if posting is None:
                # A concept no entry has counts against every entry — unless the same word
                # also expressed a concept the FAQ knows (材料: the fabric, or evidence).
                if seen_forms is None:
                    seen_forms = {other_form for other, other_form in query.concepts.items()
                                  if "#" + other in postings}
                if form in seen_forms:
                    continue
                unseen = _CONCEPT_WEIGHT * self.tagger.weights.get(concept, 1.0)
                if concept in self.tagger.aspects:
                    unseen *= _UNSEEN_ASPECT_FACTOR
                norm_sq += (unseen * self._idf_unseen) ** 2
            else:
                doc_lists.append(posting[0])
                weight_lists.append(posting[1])
                norm_sq += posting[2]
        for ngram in query.ngrams:
            posting = postings.get(ngram)
            if posting is None:
                norm_sq += unseen_ngram_sq[len(ngram)]
            else:
                doc_lists.append(posting[0])
                weight_lists.append(posting[1])
                norm_sq += posting[2]
        doc_count = len(self._doc_norms)
        dot: np.ndarray[Any, np.dtype[np.float64]]
        if doc_lists:
            dot = np.bincount(np.concatenate(doc_lists), weights=np.concatenate(weight_lists),
                              minlength=doc_count).astype(np.float64, copy=False)
        else:
            dot = np.zeros(doc_count)
        cosine = dot / (self._doc_norms * (math.sqrt(norm_sq) or 1.0))
        topic_lists = [postings["#" + concept] for concept in query.concepts
                       if concept not in self.tagger.aspects and "#" + concept in postings]
        if topic_lists:
            shared_topic = np.bincount(
                np.concatenate([posting[0] for posting in topic_lists]),
                weights=np.concatenate([posting[1] for posting in topic_lists]),
                minlength=doc_count,
            )
            factor = np.minimum(1.0, _ASPECT_ONLY_FACTOR
                                + _COVERAGE_SLOPE * shared_topic / self._doc_topic_sq)
        else:
            factor = np.where(np.isinf(self._doc_topic_sq), 1.0, _ASPECT_ONLY_FACTOR)
        cosine *= factor
        scores = np.maximum.reduceat(cosine, self._starts)
        # Out of scope: -1. Ties go to the entry scoped to the product (it is more specific).
        scores = np.where(self._allowed(product_id, category), scores + self._scoped_bonus, -1.0)
        order = np.argsort(-scores, kind="stable")
        return _Scored(order, scores, cosine, query)

    def _best_doc(self, scored: _Scored, index: int) -> int:
        """The phrasing of entry ``index`` that scored best (for the explanation)."""
        start = int(self._starts[index])
        end = int(self._starts[index + 1]) if index + 1 < len(self.entries) else len(
            self._doc_norms)
        return start + int(np.argmax(scored.cosine[start:end]))

    def _runner_up(self, scored: _Scored) -> int | None:
        """The best entry in scope with another intent than the best one."""
        if not len(scored.order):
            return None
        best = self.entries[int(scored.order[0])]
        for position in range(1, len(scored.order)):
            index = int(scored.order[position])
            if scored.scores[index] < 0:
                return None
            other = self.entries[index]
            if (other.intent or other.key) != (best.intent or best.key):
                return index
        return None

    def rank(self, text: str, product_id: int | None = None,
             limit: int = 5) -> list[tuple[FaqEntry, float]]:
        """The entries in scope by similarity to ``text``, best first (for a "try it" box)."""
        if not self.entries:
            return []
        normal = remove_particles(guard.strip_greeting(normalize(text, strip_particles=False)))
        scored = self._score(normal, product_id, category=None)
        return [
            (self.entries[index], float(max(0.0, scored.scores[index])))
            for index in map(int, scored.order[:limit])
            if scored.scores[index] >= 0
        ]

    # ------------------------------------------------------------------ matching

    def match(self, text: str, product_id: int | None = None) -> MatchResult:
        """The FAQ entry that answers ``text``, if the engine is confident; see the module doc."""
        result = self._match(text, product_id, corrected=None)
        if result.kind == "none" and result.category is None:
            basic = normalize(text, strip_particles=False)
            corrected = self.tagger.correct(basic)
            if corrected is not None:
                second = self._match(corrected, product_id, corrected=corrected)
                if second.kind != "none":
                    return second
        return result

    def _match(self, text: str, product_id: int | None, corrected: str | None) -> MatchResult:
        basic = normalize(text, strip_particles=False)
        category = guard._after_sales_normalised(basic)

        if category is not None and self.after_sales == "block":
            return MatchResult(
                None, 0.0, "after_sales", None, 0.0,
                f"after-sales message ({category}): never answered from the FAQ; hand over to "
                "a person", category=category, normalized=remove_particles(basic),
                corrected=corrected)

        if category is None and self._keywords:
            normal = remove_particles(basic)
            for keyword, index, original in self._keywords:
                if keyword in normal and self._in_scope(index, product_id):
                    entry = self.entries[index]
                    return MatchResult(
                        entry, 1.0, "keyword", None, 0.0,
                        f"keyword rule “{original}” of entry '{entry.key}'",
                        matched_text=original, normalized=normal, corrected=corrected,
                        candidate=entry)

        if category is None:
            small_talk = guard.classify_small_talk(basic)
            if small_talk is not None:
                return MatchResult(
                    None, 0.0, "greeting" if small_talk == "greeting" else "none", None, 0.0,
                    f"{small_talk.replace('_', ' ')}: not answered from the FAQ",
                    category=small_talk, normalized=remove_particles(basic),
                    corrected=corrected)

        body = remove_particles(guard.strip_greeting(basic))
        no_answer: MatchKind = "after_sales" if category is not None else "none"
        prefix = f"after-sales message ({category}); " if category is not None else ""
        if not self.entries or not body:
            return MatchResult(None, 0.0, no_answer, None, 0.0,
                               prefix + ("no FAQ entries" if not self.entries
                                         else "nothing to match"),
                               category=category, normalized=body, corrected=corrected)
        scored = self._score(body, product_id, category=category)
        best = int(scored.order[0])
        if scored.scores[best] < 0:
            return MatchResult(None, 0.0, no_answer, None, 0.0,
                               prefix + ("no after-sales entry in scope" if category
                                         else "no FAQ entry in scope"),
                               category=category, normalized=body, corrected=corrected)
        entry = self.entries[best]
        best_score = float(scored.scores[best])
        runner = self._runner_up(scored)
        runner_entry = self.entries[runner] if runner is not None else None
        runner_score = float(max(0.0, scored.scores[runner])) if runner is not None else 0.0
        doc = self._best_doc(scored, best)
        doc_concepts = self._doc_features[doc].concepts
        shared = tuple(self.tagger.labels.get(concept, concept)
                       for concept in scored.query.concepts if concept in doc_concepts)
        candidates = tuple(
            (self.entries[index].key, float(max(0.0, scored.scores[index])))
            for index in map(int, scored.order[:3])
            if scored.scores[index] >= 0
        )
        if best_score < 0.01:
            return MatchResult(None, best_score, no_answer, None, 0.0,
                               f"{prefix}no answer: nothing in common with any entry",
                               category=category, normalized=body, corrected=corrected)
        describe = (f"best '{entry.key}' {best_score:.2f} via “{self._doc_texts[doc]}”"
                    + (f", runner-up '{runner_entry.key}' {runner_score:.2f}"
                       if runner_entry is not None else "")
                    + (f"; concepts: {', '.join(shared)}" if shared else ""))
        veto = [concept for concept in scored.query.concepts
                if concept in self.tagger.veto and concept not in self._entry_concepts[best]]
        refusal: str | None = None
        if veto:
            labels = ", ".join(self.tagger.labels.get(concept, concept) for concept in veto)
            refusal = f"asks about {labels}, which the entry does not cover"
        elif best_score < self.threshold:
            refusal = f"score below the threshold {self.threshold:.2f}"
        elif best_score - runner_score < self.margin:
            refusal = f"too close to the runner-up (margin {self.margin:.2f})"
        if refusal is not None:
            return MatchResult(None, best_score, no_answer, runner_entry, runner_score,
                               f"{prefix}no answer: {refusal}; {describe}", concepts=shared,
                               matched_text=self._doc_texts[doc], category=category,
                               normalized=body, corrected=corrected, candidates=candidates,
                               candidate=entry)
        note = f" (typo corrected to “{corrected}”)" if corrected else ""
        return MatchResult(entry, best_score, "faq", runner_entry, runner_score,
                           f"answered: {describe}{note}", concepts=shared,
                           matched_text=self._doc_texts[doc], category=category,
                           normalized=body, corrected=corrected, candidates=candidates,
                           candidate=entry)


# --------------------------------------------------------------------------- loading


@dataclass(frozen=True)
class FaqFile:
    """A FAQ file: its entries and the after-sales mode it asks for."""

    entries: list[FaqEntry]
    after_sales: AfterSalesMode = "entries"
    name: str | None = None


def _entries_from(data: Any) -> list[FaqEntry]:
    rows = data.get("entries", []) if isinstance(data, dict) else data
    entries: list[FaqEntry] = []
    for position, row in enumerate(rows):
        intent = row.get("intent")
        key = str(row.get("key") or intent or f"entry-{position + 1}")
        entries.append(
            FaqEntry(
                key=key,
                intent=intent,
                question=str(row.get("question", "")),
                answer=str(row.get("answer", "")),
                examples=tuple(str(example) for example in row.get("examples", ())),
                keywords=tuple(str(keyword) for keyword in row.get("keywords", ())),
                product_ids=tuple(int(product) for product in row.get("product_ids", ())),
            )
        )
    return entries


def load_faq_file(path: str | PathLike[str]) -> FaqFile:
    """Read a FAQ file (``{"entries": [...]}``; optional ``"after_sales_mode"`` and ``"store"``)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    mode = data.get("after_sales_mode", "entries") if isinstance(data, dict) else "entries"
    if mode not in ("block", "entries"):
        raise ValueError(f"unknown after_sales_mode {mode!r}")
    checked: AfterSalesMode = "block" if mode == "block" else "entries"
    name = data.get("store") if isinstance(data, dict) else None
    return FaqFile(_entries_from(data), checked, name)


def load_faq_json(path: str | PathLike[str]) -> list[FaqEntry]:
    """The entries of a FAQ file in the shared format: ``entries[]`` with ``intent``,
    ``question``, ``answer``, ``examples`` (and optionally ``key``, ``keywords``,
    ``product_ids``). An entry's key is its ``key``, else its intent, else its position."""
    return load_faq_file(path).entries


HELPDESK_FAQ_PATH = Path(__file__).with_name("helpdesk_faq.json")


def helpdesk_matcher(threshold: float = DEFAULT_THRESHOLD,
                     margin: float = DEFAULT_MARGIN) -> FaqMatcher:
    """A matcher for the platform help desk FAQ (after-sales mode "entries")."""
    faq = load_faq_file(HELPDESK_FAQ_PATH)
    return FaqMatcher(faq.entries, threshold, margin, after_sales=faq.after_sales)
