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
DEFAULT_STARD = Path("../shared/eval/stard/queries.train.jsonl")  # from the repository's folder


@app.command("eval")
@handle_errors
def eval_(questions: Path = typer.Argument(DEFAULT_QUESTIONS, help="Gold questions (JSONL)."),
          mode: str = typer.Option("all", "--mode", help="hybrid | bm25 | dense | all (all = the three + naive baseline)."),
          set_: str = typer.Option("dev", "--set", help="dev (gold questions of the seed and laws) or stard "
                                   "(citizens' questions over the national laws: recall@5/10/100, MRR@10 "
                                   f"per mode at article level; questions default to {DEFAULT_STARD})."),
          index: Optional[Path] = IndexOpt, json: bool = JsonOpt) -> None:
    """Score search and ask on gold questions: recall@1/5/10, MRR@10, nDCG@10 by mode and kind."""
    from kb.errors import QueryError
    from kb.evaluate import MODES, NAIVE, evaluate, load_questions

    if mode not in (*MODES, "all"):
        raise QueryError(f"unknown mode {mode!r}; use hybrid, bm25, dense or all")
    if set_ not in ("dev", "stard"):
        raise QueryError(f"unknown set {set_!r}; use dev or stard")
    if set_ == "stard":
        return eval_stard(DEFAULT_STARD if questions == DEFAULT_QUESTIONS else questions, mode, index, json)
    if not questions.exists():
        raise typer.BadParameter(f"{questions}: no such file")
    modes = (*MODES, NAIVE) if mode == "all" else (mode,)
    report = evaluate(open_kb(index), load_questions(questions), modes)
    if json:
        return emit_json(report.to_dict())
    print_report(report)


def eval_stard(questions: Path, mode: str, index: Optional[Path], json: bool) -> None:
    """``kb eval --set stard``: kb.evaluate_stard over the index, a table beside the baselines."""
    from kb.evaluate_stard import KS, MODES, evaluate_stard, load_stard

    if not questions.exists():
        raise typer.BadParameter(f"{questions}: no such file (the STARD questions; pass their path)")
    report = evaluate_stard(open_kb(index), load_stard(questions), MODES if mode == "all" else (mode,))
    if json:
        return emit_json(report.to_dict())
    t = Table(title=f"kb eval --set stard — {report.questions} questions, article level")
    for col in ("mode", *(f"R@{k}" for k in KS), "MRR@10"):
        t.add_column(col, justify="left" if col == "mode" else "right")
    for name, s in report.modes.items():
        t.add_row(name, *(f"{s.recall[k]:.3f}" for k in KS), f"{s.mrr:.3f}", style="bold")
    t.add_section()
    for name, b in report.baselines.items():
        t.add_row(f"baseline: {name}", *(f"{b[f'recall@{k}']:.3f}" for k in KS), f"{b['mrr@10']:.3f}", style="dim")
    out.print(t)


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
