"""Throughput and latency of the diversion detector, and its recall / false-positive rate.

    PYTHONPATH=src .venv/bin/python bench/diversion_speed.py [--seconds 3] [--window]

The message mix: typical shop messages of 10–60 characters generated from templates (order
numbers, tracking numbers, prices, sizes, dates — about nine in ten are clean) plus every
message of the development and held-out sets. Every generated message is unique, so the
normaliser's cache does not flatter the numbers. One core, one thread.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from kefu.diversion.detector import Detector, Verdict  # noqa: E402

DEV = Path("/work/shared/data/diversion-dev.jsonl")
HELDOUT = ROOT / "tests" / "diversion" / "heldout_cases.jsonl"

CLEAN_TEMPLATES = [
    "亲，您的订单号是 {order}，已经发货啦",
    "快递单号 {courier}{track}，{carrier}发出，预计 {d} 天到",
    "这款价格 {price} 元，今天下单送{gift}",
    "身高 {h} 体重 {w} 斤建议 {size} 码",
    "{size} 码腰围 {cm}cm，适合 {w}-{w2} 斤",
    "满 {price} 减 {d}，满 {price2} 减 {d2}~",
    "亲，尺码偏小，建议拍大一码哦",
    "预计 {d}-{d2} 天送达，偏远地区 {d3} 天",
    "已经给您改成 {d} 件，合计 {price} 元",
    "您好，欢迎光临！有什么可以帮您的吗",
    "这个颜色是{colour}，不是纯灰",
    "请在订单页面点‘申请售后’，我们 24 小时内处理",
    "生产日期 {date}，保质期 {d} 个月",
    "第 {d}、{d2}、{d3} 号色有货",
    "退货请填写单号 {courier} {track4}，方便我们查件",
    "支持微信支付和支付宝，在拼单页面选就行",
    "这款是 QQ 糖口味的果冻，一袋 {price} 元",
    "型号 V{d} 和 V{d2} 的区别是功率不同",
    "平台客服电话是 95010，紧急问题可以拨打",
    "订单 {order} 什么时候发货",
    "条形码 {barcode} 是正品编码",
    "您的收件手机 1{d}{d2}****{d3}{d}{d2}{d3} 已核对无误",
    "亲亲，订单尾号 {d}{d2}{d3}{d} 的包裹已签收",
    "XL 码胸围 {cm} 衣长 {cm2}，适合 {h} 左右",
    "活动截止到 {m} 月 {d2} 日 23:59，前 {price} 名半价",
    "这款 V 领毛衣，{size} 码适合 {w}-{w2} 斤",
    "收到货麻烦给个五星好评，谢谢亲",
    "重量 {d}.{d2}kg，尺寸 {cm}*{cm2}*{d3}cm",
]
DIVERSION_TEMPLATES = [
    "加我微信 {wx} 给你返现{d}元",
    "薇信 {wx} 同款便宜{d}块",
    "有事打我电话 1{p}{phone}",
    "QQ号 {qq} 加我拉你进群",
    "去某宝搜 {shop} 那边便宜",
]
COLOURS = ["卫衣灰", "雾霾蓝", "奶白", "焦糖色", "墨绿"]
GIFTS = ["袜子", "运费险", "收纳袋", "小样"]
CARRIERS = ["顺丰", "中通", "圆通", "韵达", "极兔"]
COURIERS = ["SF", "YT", "ZTO", "JT", "YD"]
SIZES = ["S", "M", "L", "XL", "2XL"]


def _fill(template: str, rng: random.Random) -> str:
    return template.format(
        order=f"{rng.randint(230000, 251231)}-{rng.randint(10**11, 10**12 - 1)}",
        courier=rng.choice(COURIERS), track=rng.randint(10**12, 10**13 - 1),
        track4=" ".join(str(rng.randint(1000, 9999)) for _ in range(3)),
        carrier=rng.choice(CARRIERS), d=rng.randint(1, 9), d2=rng.randint(1, 9),
        d3=rng.randint(1, 9), price=rng.randint(9, 999), price2=rng.randint(300, 999),
        gift=rng.choice(GIFTS), h=rng.randint(150, 185), w=rng.randint(80, 160),
        w2=rng.randint(100, 180), size=rng.choice(SIZES), cm=rng.randint(60, 110),
        cm2=rng.randint(50, 80), colour=rng.choice(COLOURS),
        date=f"2025{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}",
        barcode=rng.randint(10**12, 10**13 - 1), m=rng.randint(1, 12),
        wx=f"shop_{rng.randint(100, 99999)}", p=rng.choice("3456789"),
        phone=rng.randint(10**8, 10**9 - 1), qq=rng.randint(10**6, 10**10),
        shop=rng.choice(["小美服饰", "鹿鹿家居", "果果小铺"]),
    )


def load_cases(path: Path) -> list[dict[str, object]]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def case_verdict(detector: Detector, messages: list[str]) -> Verdict:
    """A case is a hit when any of its messages, with the ones before it as window, is."""
    last = Verdict(False)
    for i, message in enumerate(messages):
        last = detector.detect(message, tuple(messages[:i]))
        if last.is_diversion:
            return last
    return last


def quality(detector: Detector, path: Path) -> str:
    cases = load_cases(path)
    tp = fn = fp = tn = 0
    for case in cases:
        messages = [str(m) for m in case["messages"]]  # type: ignore[attr-defined]
        hit = case_verdict(detector, messages).is_diversion
        if case["label"] == "diversion":
            tp, fn = tp + hit, fn + (not hit)
        else:
            fp, tn = fp + hit, tn + (not hit)
    recall = tp / max(tp + fn, 1)
    fpr = fp / max(fp + tn, 1)
    return (f"{path.name}: recall {recall:.1%} ({tp}/{tp + fn})  "
            f"false-positive rate {fpr:.1%} ({fp}/{fp + tn})")


def messages_mix(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    pool: list[str] = []
    for path in (DEV, HELDOUT):
        if path.exists():
            for case in load_cases(path):
                pool.extend(str(m) for m in case["messages"])  # type: ignore[attr-defined]
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < count:
        roll = rng.random()
        if roll < 0.85:
            text = _fill(rng.choice(CLEAN_TEMPLATES), rng)
        elif roll < 0.92:
            text = _fill(rng.choice(DIVERSION_TEMPLATES), rng)
        else:
            text = rng.choice(pool) + rng.choice(["", "～", "哦", "亲", f" {rng.randint(1, 99)}"])
        if text not in seen:
            seen.add(text)
            out.append(text)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--window", action="store_true",
                        help="also pass the two previous messages as the window")
    args = parser.parse_args()

    started = time.perf_counter()
    detector = Detector()
    detector.detect("预热 warm-up 加我微信 abc123 ① 1️⃣ 🐧")
    print(f"detector built in {(time.perf_counter() - started) * 1000:.0f} ms")

    messages = messages_mix(60_000)
    lengths = [len(m) for m in messages]
    print(f"{len(messages)} unique messages, {statistics.mean(lengths):.0f} chars on average")

    # Throughput: as many fresh messages as fit in the time budget. CPU time is reported too:
    # on a shared machine the wall clock also counts time spent waiting for the core.
    done = 0
    hits = 0
    started = time.perf_counter()
    cpu_started = time.process_time()
    deadline = started + args.seconds
    while time.perf_counter() < deadline and done < len(messages):
        for i in range(done, min(done + 1000, len(messages))):
            recent = tuple(messages[i - 2:i]) if args.window and i >= 2 else ()
            hits += detector.detect(messages[i], recent).is_diversion
        done = min(done + 1000, len(messages))
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    print(f"throughput: {done / cpu:,.0f} messages per CPU-second on one core "
          f"({done / elapsed:,.0f}/s wall clock; {done} messages, "
          f"{hits / max(done, 1):.1%} flagged"
          f"{', with a 2-message window' if args.window else ''})")

    # Latency, message by message, on messages the cache has not seen.
    fresh = messages_mix(5000, seed=11)
    wall: list[float] = []
    own: list[float] = []
    for i, text in enumerate(fresh):
        recent = tuple(fresh[i - 2:i]) if args.window and i >= 2 else ()
        t0, c0 = time.perf_counter_ns(), time.thread_time_ns()
        detector.detect(text, recent)
        own.append((time.thread_time_ns() - c0) / 1000)
        wall.append((time.perf_counter_ns() - t0) / 1000)
    for name, timings in (("CPU", own), ("wall", wall)):
        timings.sort()
        p50 = timings[len(timings) // 2]
        p99 = timings[int(len(timings) * 0.99)]
        print(f"latency per message ({name}): p50 {p50:.1f} µs  p99 {p99:.1f} µs  "
              f"max {timings[-1]:.0f} µs")

    for path in (DEV, HELDOUT):
        if path.exists():
            print(quality(detector, path))


if __name__ == "__main__":
    main()
