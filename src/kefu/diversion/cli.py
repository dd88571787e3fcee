"""``kefu diversion check CASES.jsonl``: run the detector over a labelled case file.

Each input line is a case: ``{"id", "sender", "messages": [...], "label": "diversion"|"clean",
"channel", "trick"}``. A case is a hit when any of its messages, judged with the messages
before it as the window, is a hit. One JSON line is written per case, then a summary line
``{"summary": {...}}`` with recall, false-positive rate and per-channel recall.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from kefu.diversion.detector import Detector, Verdict, default_detector

diversion_app = typer.Typer(help="Diversion (导流) detection tools.", no_args_is_help=True)

_PROGRESS_FROM = 500  # show a progress bar for files with at least this many cases


@diversion_app.callback()
def _group() -> None:
    """Diversion (导流) detection tools."""


def judge_case(detector: Detector, messages: list[str]) -> Verdict:
    """The verdict of a case: the first hit among its messages (each judged with the ones
    before it as window), else the verdict of the last message."""
    verdict = Verdict(False, None, None, "没有消息", "clean", False)
    for i, message in enumerate(messages):
        verdict = detector.detect(message, tuple(messages[:i]))
        if verdict.is_diversion:
            break
    return verdict


def _read_cases(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                yield number, json.loads(line)


def summarize(rows: list[tuple[dict[str, Any], Verdict]]) -> dict[str, Any]:
    """Recall, false-positive rate, per-channel recall and counts of judged cases."""
    tp = fn = fp = tn = unlabelled = 0
    by_channel: Counter[str] = Counter()
    hit_by_channel: Counter[str] = Counter()
    same_channel = 0
    for case, verdict in rows:
        label = case.get("label")
        if label == "diversion":
            channel = str(case.get("channel") or "other")
            by_channel[channel] += 1
            if verdict.is_diversion:
                tp += 1
                hit_by_channel[channel] += 1
                same_channel += verdict.channel == channel
            else:
                fn += 1
        elif label == "clean":
            if verdict.is_diversion:
                fp += 1
            else:
                tn += 1
        else:
            unlabelled += 1
    return {
        "cases": len(rows),
        "diversion_cases": tp + fn,
        "clean_cases": fp + tn,
        "unlabelled": unlabelled,
        "true_positives": tp,
        "false_negatives": fn,
        "false_positives": fp,
        "true_negatives": tn,
        "recall": round(tp / (tp + fn), 4) if tp + fn else None,
        "false_positive_rate": round(fp / (fp + tn), 4) if fp + tn else None,
        "channel_agreement": round(same_channel / tp, 4) if tp else None,
        "per_channel_recall": {
            channel: {"recall": round(hit_by_channel[channel] / total, 4),
                      "hits": hit_by_channel[channel], "cases": total}
            for channel, total in sorted(by_channel.items())
        },
    }


@diversion_app.command("check")
def check(
    cases: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True,
                                 help="JSONL file of cases (id, messages, label, channel)."),
    output: Path | None = typer.Option(None, "--output", "-o", dir_okay=False,
                                       help="Write the JSON lines here instead of stdout."),
) -> None:
    """Judge every case of CASES.jsonl; print one JSON line per case and a summary line."""
    detector = default_detector()
    try:
        loaded = list(_read_cases(cases))
    except json.JSONDecodeError as error:
        typer.echo(f"{cases}: not JSON lines ({error})", err=True)
        raise typer.Exit(2) from error
    stderr = Console(stderr=True)
    out: TextIO = open(output, "w", encoding="utf-8") if output else sys.stdout
    rows: list[tuple[dict[str, Any], Verdict]] = []
    try:
        with Progress(TextColumn("[bold]导流检测[/bold]"), BarColumn(),
                      TextColumn("{task.completed}/{task.total}"), TimeRemainingColumn(),
                      console=stderr, transient=True,
                      disable=len(loaded) < _PROGRESS_FROM) as progress:
            task = progress.add_task("check", total=len(loaded))
            for number, case in loaded:
                messages = [str(m) for m in case.get("messages") or []]
                if not messages and case.get("text"):
                    messages = [str(case["text"])]
                verdict = judge_case(detector, messages)
                rows.append((case, verdict))
                line = {
                    "id": case.get("id", f"line-{number}"),
                    "verdict": "diversion" if verdict.is_diversion else "clean",
                    "channel": verdict.channel,
                    "matched": verdict.matched,
                    "reason": verdict.reason,
                }
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
                progress.advance(task)
        out.write(json.dumps({"summary": summarize(rows)}, ensure_ascii=False) + "\n")
    finally:
        if output:
            out.close()
