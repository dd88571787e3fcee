"""``kefu faq``: run the FAQ matcher on labelled questions, or explain one answer.

``kefu faq match --faq FAQ.json --queries QUERIES.jsonl`` writes one JSON line per question
(``text``, predicted ``intent`` or null, ``score``, ``kind``) and then a summary line
(``{"summary": {...}}``: accuracy on the questions that have an intent, the share of null
questions that were answered, counts).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from kefu.autoreply.evaluate import evaluate, load_queries
from kefu.autoreply.matcher import (
    DEFAULT_MARGIN,
    DEFAULT_THRESHOLD,
    AfterSalesMode,
    FaqMatcher,
    load_faq_file,
)

faq_app = typer.Typer(help="FAQ auto-answer tools.", no_args_is_help=True, add_completion=False)

_FaqOption = Annotated[Path, typer.Option("--faq", help="FAQ file (JSON, entries[]).",
                                          exists=True, dir_okay=False, readable=True)]
_ThresholdOption = Annotated[float, typer.Option(help="Score needed to answer (0-1).",
                                                 min=0.0, max=1.0)]
_MarginOption = Annotated[float, typer.Option(help="Lead needed over the runner-up.",
                                              min=0.0, max=1.0)]
_AfterSalesOption = Annotated[
    str | None,
    typer.Option("--after-sales", help="entries | block (default: the file's "
                                       "after_sales_mode, else entries)."),
]


def _matcher(faq: Path, threshold: float, margin: float, after_sales: str | None) -> FaqMatcher:
    faq_file = load_faq_file(faq)
    mode = after_sales or faq_file.after_sales
    if mode not in ("block", "entries"):
        raise typer.BadParameter("--after-sales must be block or entries")
    checked: AfterSalesMode = "entries" if mode == "entries" else "block"
    return FaqMatcher(faq_file.entries, threshold, margin, after_sales=checked)


@faq_app.command("match")
def match_command(
    faq: _FaqOption,
    queries: Annotated[Path, typer.Option("--queries", help="Questions (JSONL: text, intent).",
                                          exists=True, dir_okay=False, readable=True)],
    threshold: _ThresholdOption = DEFAULT_THRESHOLD,
    margin: _MarginOption = DEFAULT_MARGIN,
    after_sales: _AfterSalesOption = None,
    output: Annotated[Path | None, typer.Option("--output", help="Write here, not stdout.",
                                                dir_okay=False)] = None,
) -> None:
    """Match every question of QUERIES against FAQ; print one JSON line each, then a summary."""
    matcher = _matcher(faq, threshold, margin, after_sales)
    evaluation = evaluate(matcher, load_queries(queries))
    lines: list[dict[str, Any]] = []
    for query, result in evaluation.results:
        lines.append({
            "text": query.text,
            "intent": result.intent,
            "score": round(result.score, 4),
            "kind": result.kind,
            "expected": query.intent,
            "entry": result.entry.key if result.answered and result.entry else None,
            "category": result.category,
        })
    summary = evaluation.summary() | {"threshold": threshold, "margin": margin}
    handle: TextIO
    if output is None:
        _write(sys.stdout, lines, summary)
    else:
        with open(output, "w", encoding="utf-8") as handle:
            _write(handle, lines, summary)


def _write(handle: TextIO, lines: list[dict[str, Any]], summary: dict[str, Any]) -> None:
    for line in lines:
        handle.write(json.dumps(line, ensure_ascii=False) + "\n")
    handle.write(json.dumps({"summary": summary}, ensure_ascii=False) + "\n")


@faq_app.command("explain")
def explain_command(
    faq: _FaqOption,
    text: Annotated[str, typer.Argument(help="A buyer's message.")],
    product_id: Annotated[int | None, typer.Option("--product-id")] = None,
    threshold: _ThresholdOption = DEFAULT_THRESHOLD,
    margin: _MarginOption = DEFAULT_MARGIN,
    after_sales: _AfterSalesOption = None,
) -> None:
    """Show what the matcher does with one message (the "try it" box, on the command line)."""
    matcher = _matcher(faq, threshold, margin, after_sales)
    result = matcher.match(text, product_id)
    typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=1))
