"""FAQ matching speed and accuracy.

Prints:

- the time to build a matcher for a synthetic 200-entry FAQ (product × topic entries, generated
  here) and the matches per second on one core, over distinct generated questions (no cache hits);
- accuracy on intent questions and the share of null questions answered, on the development set
  (``shared/data/faq-dev-queries.jsonl``), the held-out set and the help-desk set.

Run: ``PYTHONPATH=src python bench/faq_speed.py [--queries N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from kefu.autoreply.evaluate import evaluate, load_queries  # noqa: E402
from kefu.autoreply.matcher import (  # noqa: E402
    FaqEntry,
    FaqMatcher,
    helpdesk_matcher,
    load_faq_json,
)
from kefu.autoreply.normalize import clear_caches  # noqa: E402

PRODUCTS = (
    "连衣裙", "衬衫", "T恤", "牛仔裤", "卫衣", "外套", "羽绒服", "毛衣", "半身裙", "运动裤",
    "西装", "风衣", "打底衫", "阔腿裤", "吊带", "针织衫", "棉服", "短裤", "马甲", "睡衣",
)
TOPICS = (
    ("size", "{p}尺码怎么选？", ("{p}穿什么码", "{p}偏大还是偏小", "身高160穿{p}选哪个码")),
    ("material", "{p}是什么面料？", ("{p}什么材质", "{p}是纯棉的吗", "{p}含不含羊毛")),
    ("wash", "{p}怎么洗？", ("{p}能机洗吗", "{p}可以手洗吗", "{p}要干洗吗")),
    ("pilling", "{p}会起球吗？", ("{p}穿久了起球吗", "{p}容易起毛吗")),
    ("shrink", "{p}会缩水吗？", ("{p}洗了会变小吗", "{p}下水缩不缩")),
    ("color", "{p}有色差吗？", ("{p}颜色和图片一样吗", "{p}实物颜色深吗")),
    ("stock", "{p}还有货吗？", ("{p}M码有货吗", "{p}黑色还有吗", "{p}什么时候补货")),
    ("thick", "{p}厚不厚？", ("{p}冬天穿冷吗", "{p}透不透", "{p}薄吗")),
    ("fit", "{p}版型怎么样？", ("{p}显瘦吗", "{p}宽松还是修身", "{p}肚子大能穿吗")),
    ("season", "{p}适合什么季节穿？", ("{p}春天能穿吗", "{p}夏天穿热不热")),
)
QUERY_TEMPLATES = (
    "身高{h}体重{w}斤穿{p}什么码",
    "{p}是什么料子的呀",
    "{p}能不能机洗",
    "{p}起球吗亲",
    "{p}洗了会不会缩水",
    "{p}有没有色差",
    "{p}{s}码还有吗",
    "{p}冬天穿会冷吗",
    "{p}显不显瘦",
    "{p}{n}月份穿合适吗",
    "什么时候发货呀{n}号能到吗",
    "能便宜{n}块吗",
    "在吗在吗",
    "收到的{p}破了个洞",
    "{p}和另一款哪个好看",
    "寄到上海要几天，我{h}cm",
)


def synthetic_faq(count: int = 200) -> list[FaqEntry]:
    entries: list[FaqEntry] = []
    for product in PRODUCTS:
        for topic, question, examples in TOPICS:
            entries.append(FaqEntry(
                key=f"{topic}-{product}",
                intent=f"{topic}_{product}",
                question=question.format(p=product),
                answer=f"关于{product}的{topic}说明。",
                examples=tuple(example.format(p=product) for example in examples),
            ))
            if len(entries) == count:
                return entries
    return entries


def synthetic_queries(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    queries: set[str] = set()
    while len(queries) < count:
        template = rng.choice(QUERY_TEMPLATES)
        queries.add(template.format(
            p=rng.choice(PRODUCTS), h=rng.randint(145, 185), w=rng.randint(80, 160),
            s=rng.choice("SMLX"), n=rng.randint(1, 30000),
        ))
    return sorted(queries)


def shared_data() -> Path:
    configured = os.environ.get("KEFU_SHARED_DATA")
    if configured:
        return Path(configured)
    return ROOT.parent / "shared" / "data"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=20000)
    args = parser.parse_args()

    entries = synthetic_faq(200)
    FaqMatcher(entries)  # warm up: the synonym table and OpenCC load once per process
    started = time.process_time()
    rounds = 10
    for _ in range(rounds):
        clear_caches()  # every build normalises its texts afresh
        matcher = FaqMatcher(entries)
    build_ms = (time.process_time() - started) / rounds * 1000
    queries = synthetic_queries(args.queries)
    started = time.perf_counter()
    started_cpu = time.process_time()
    answered = 0
    for query in queries:
        if matcher.match(query).answered:
            answered += 1
    cpu = time.process_time() - started_cpu
    elapsed = time.perf_counter() - started
    print(f"synthetic FAQ: {len(entries)} entries, build {build_ms:.1f} ms (CPU)")
    # CPU time of this (single-threaded) process: what one core does, whatever else the machine
    # is running. Wall-clock for reference.
    print(f"matches/s on one core ({len(queries)} distinct questions): {len(queries) / cpu:,.0f}"
          f"  ({cpu / len(queries) * 1e6:.0f} µs CPU each; wall clock {len(queries) / elapsed:,.0f}"
          f"/s; {answered} answered)")

    data = shared_data()
    store = load_faq_json(data / "faq-store.json")
    sets = (
        ("dev", FaqMatcher(store), data / "faq-dev-queries.jsonl"),
        ("held-out", FaqMatcher(store), ROOT / "tests/autoreply/heldout_queries.jsonl"),
        ("help desk", helpdesk_matcher(), ROOT / "tests/autoreply/helpdesk_queries.jsonl"),
    )
    for name, set_matcher, path in sets:
        summary = evaluate(set_matcher, load_queries(path)).summary()
        print(f"{name:>9}: accuracy {summary['accuracy']:.1%} "
              f"({summary['intent_correct']}/{summary['intent_questions']}, "
              f"{summary['wrong_answers']} wrong answers), null answered "
              f"{summary['null_answer_rate']:.1%} "
              f"({summary['null_answered']}/{summary['null_questions']})")
    print(json.dumps({"build_ms": round(build_ms, 2),
                      "matches_per_second": round(len(queries) / cpu)}))


if __name__ == "__main__":
    main()
