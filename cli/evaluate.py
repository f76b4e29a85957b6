"""`kb eval`: thin over kb.evaluate.evaluate — retrieval metrics by mode, the naive
300-character-chunk baseline, negatives and direct answers, as a table or JSON."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from cli.common import IndexOpt, JsonOpt, emit_json, handle_errors, open_kb, out
from cli.main import app

DEFAULT_QUESTIONS = Path("tests/gold/questions.dev.jsonl")


@app.command("eval")
@handle_errors
def eval_(questions: Path = typer.Argument(DEFAULT_QUESTIONS, help="Gold questions (JSONL)."),
          mode: str = typer.Option("all", "--mode", help="hybrid | bm25 | dense | all (all = the three + naive baseline)."),
          index: Optional[Path] = IndexOpt, json: bool = JsonOpt) -> None:
    """Score search and ask on gold questions: recall@1/5/10, MRR@10, nDCG@10 by mode and kind."""
    from kb.errors import QueryError
    from kb.evaluate import MODES, NAIVE, evaluate, load_questions

    if mode not in (*MODES, "all"):
        raise QueryError(f"unknown mode {mode!r}; use hybrid, bm25, dense or all")
    if not questions.exists():
        raise typer.BadParameter(f"{questions}: no such file")
    modes = (*MODES, NAIVE) if mode == "all" else (mode,)
    report = evaluate(open_kb(index), load_questions(questions), modes)
    if json:
        return emit_json(report.to_dict())
    print_report(report)


def print_report(report) -> None:
    """Metrics table (overall, then per kind, per mode) and the answer/negative summary."""
    t = Table(title=f"kb eval — {report.questions} questions")
    for col in ("mode", "kind", "n", "R@1", "R@5", "R@10", "MRR@10", "nDCG@10"):
        t.add_column(col, justify="left" if col in ("mode", "kind") else "right")
    for name, r in report.modes.items():
        for kind, s in [("all", r.overall), *r.by_kind.items()]:
            t.add_row(name, kind, str(s.n), *(f"{s.recall[k]:.3f}" for k in (1, 5, 10)), f"{s.mrr:.3f}",
                      f"{s.ndcg:.3f}", style="bold" if kind == "all" else None)
        t.add_section()
    out.print(t)
    for kind in ("target_value", "structure"):
        ok, n = report.answer_accuracy(kind)
        if n:
            wrong = [a.id for a in report.answers if a.kind == kind and not a.ok]
            out.print(f"ask {kind}: {ok}/{n} answers state the expected value" + (f" (wrong: {', '.join(wrong)})" if wrong else ""))
    neg = report.negatives
    if neg:
        out.print(f"negatives answered 未找到相关条款: {neg.rejected}/{neg.negatives}"
                  + (f" (accepted: {', '.join(neg.accepted_negatives)})" if neg.accepted_negatives else "")
                  + f"  |  false 未找到相关条款 on positives: {len(neg.false_not_found)}/{neg.positives}"
                  + (f" ({', '.join(neg.false_not_found)})" if neg.false_not_found else ""))
        if neg.threshold is not None:
            out.print(f"not-found threshold of this index: {neg.threshold:.4f} (kb.ask.threshold)")
        if neg.margin is not None:
            out.print(f"confidence margin (least confident positive − most confident negative): {neg.margin:+.4f}")
