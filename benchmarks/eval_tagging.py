"""Score the taggers against the dev gold of the seed (曾政发〔2022〕8号).

Usage: ``python benchmarks/eval_tagging.py [--gold-dir tests/gold] [--seed FILE]``

Prints target precision/recall over ``targets.dev.jsonl`` with every miss, explicit
department recall over ``departments.jsonl``, and totals of targets and department tags
over ALL clauses of the seed.

How target P/R are computed (also used by ``tests/test_targets.py``):
- a gold row matches an extracted target of the same clause when the indicators match
  (``indicators_match``), comparators are compatible (``=`` and ``>=`` count as one, for
  达到/提高到 wording), and value (or min/max), unit and year are equal; each extracted
  target matches at most one gold row;
- recall = matched gold rows / gold rows;
- precision = matched numeric targets / numeric targets extracted *in the clauses the gold
  covers*. The gold lists numeric targets only, so direction-only targets
  (``increase``/``decrease``, value None) are left out of the denominator. Clauses without
  gold rows are not scored: the gold is only part of all targets in the seed.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kb.departments import Lexicon, tag_departments  # noqa: E402
from kb.targets import extract_targets, normalize_indicator  # noqa: E402
from kb.types import Target  # noqa: E402

GOLD_DIR = ROOT / "tests" / "gold"  # copy of ../shared/eval
SEED = ROOT / "corpus" / "zengdu" / "zengzhengfa-2022-8-women-children-plans.txt"


@dataclass
class SeedClause:
    """A clause body of the seed, keyed as the gold keys it."""

    plan: str | None
    domain: str | None
    section: str | None
    number: int | None
    text: str
    line_start: int
    line_end: int


@dataclass
class Score:
    precision: float
    recall: float
    matched: int
    gold: int
    extracted: int
    misses: list[dict] = field(default_factory=list)
    extras: list[tuple[str, Target]] = field(default_factory=list)


def load_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_clauses(seed: Path = SEED) -> list[SeedClause]:
    """Clauses of the seed as parsed by ``kb.parse``."""
    from kb.parse import parse_file

    doc = parse_file(seed)
    return [SeedClause(c.plan, c.domain, c.section, c.number, c.text, c.line_start or 0,
                       c.line_end or c.line_start or 0) for c in doc.clauses]


def clause_for(row: dict, clauses: list[SeedClause]) -> SeedClause:
    """The clause holding gold row ``row``: by its 1-based ``line``, checked against
    plan/domain/section/clause_no when the parser provides them."""
    for c in clauses:
        if c.line_start <= row["line"] <= c.line_end:
            if c.plan is not None:
                assert (c.plan, c.domain, c.number) == (row["plan"], row["domain"], row["clause_no"]), (row, c)
            return c
    raise LookupError(f"no clause at line {row['line']} for {row.get('id')}")


def _norm(s: str) -> str:
    s = normalize_indicator(s)
    return re.sub(r"[()（）/、,，“”]", "", s)


def indicators_match(gold: str, found: str) -> bool:
    """Normalised containment either way, or a reordered phrase: at least 90% of the shorter
    indicator's characters occur in the longer and they cover 60% of it
    (35—45岁妇女接受高效宫颈癌筛查的比例 ~ 在35—45岁接受高效宫颈癌筛查的妇女比例)."""
    g, f = _norm(gold), _norm(found)
    if not g or not f:
        return False
    if g in f or f in g:
        return True
    short, long_ = sorted((g, f), key=len)
    common = sum((Counter(short) & Counter(long_)).values())
    return common >= 0.9 * len(short) and common >= 0.6 * len(long_)


def target_matches(row: dict, t: Target) -> bool:
    compat = {"=": {"=", ">="}, ">=": {"=", ">="}}
    if t.comparator not in compat.get(row["comparator"], {row["comparator"]}):
        return False
    if row["comparator"] == "range":
        if (t.value_min, t.value_max) != (row.get("value_min"), row.get("value_max")):
            return False
    elif t.value is None or abs(t.value - float(row["value"])) > 1e-9:
        return False
    return t.unit == row["unit"] and t.year == row.get("year") and indicators_match(row["indicator"], t.indicator_norm or t.indicator)


def score_targets(gold: list[dict], clauses: list[SeedClause]) -> Score:
    by_clause: dict[int, list[dict]] = {}
    keyed: dict[int, SeedClause] = {}
    for row in gold:
        c = clause_for(row, clauses)
        by_clause.setdefault(id(c), []).append(row)
        keyed[id(c)] = c
    matched, extracted, misses, extras = 0, 0, [], []
    for key, rows in by_clause.items():
        c = keyed[key]
        found = [t for t in extract_targets(c.text) if t.comparator not in ("increase", "decrease")]
        extracted += len(found)
        used: set[int] = set()
        for row in rows:
            j = next((j for j, t in enumerate(found) if j not in used and target_matches(row, t)), None)
            if j is None:
                misses.append(row)
            else:
                used.add(j)
                matched += 1
        extras += [(f"{c.plan}/{c.domain}/{c.section}/{c.number}", t) for j, t in enumerate(found) if j not in used]
    return Score(matched / max(extracted, 1), matched / max(len(gold), 1), matched, len(gold), extracted, misses, extras)


def score_departments(gold: list[dict], clauses: list[SeedClause], lexicon: Lexicon) -> Score:
    """Recall of explicitly named bodies (every gold name, expanded through the lexicon, must
    be an explicit tag of its clause) and of 牵头 leads."""
    total, hit, misses = 0, 0, []
    for row in gold:
        tags = tag_departments(clause_for(row, clauses).text, lexicon)
        explicit = {t.name for t in tags if t.explicit}
        leads = {t.name for t in tags if t.explicit and t.role == "lead"}
        for name in row["departments"]:
            total += 1
            want = set(lexicon.expand(name))
            if want and want <= explicit and (name not in row["lead"] or want <= leads):
                hit += 1
            else:
                misses.append({"id": row["id"], "name": name, "want": sorted(want), "got": sorted(explicit)})
    return Score(1.0, hit / max(total, 1), hit, total, total, misses)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gold-dir", type=Path, default=GOLD_DIR)
    ap.add_argument("--seed", type=Path, default=SEED)
    args = ap.parse_args(argv)
    clauses = load_clauses(args.seed)
    lexicon = Lexicon.load()
    ts = score_targets(load_jsonl(args.gold_dir / "targets.dev.jsonl"), clauses)
    print(f"clauses: {len(clauses)}")
    print(f"targets: precision {ts.precision:.3f} ({ts.matched}/{ts.extracted}), "
          f"recall {ts.recall:.3f} ({ts.matched}/{ts.gold})")
    for row in ts.misses:
        print(f"  MISS {row['id']} {row['indicator']} {row['comparator']} {row.get('value')} {row['unit']} {row.get('year')}")
    for where, t in ts.extras:
        print(f"  EXTRA {where} {t.indicator} {t.comparator} {t.value} {t.unit} {t.year}")
    ds = score_departments(load_jsonl(args.gold_dir / "departments.jsonl"), clauses, lexicon)
    print(f"departments: explicit recall {ds.recall:.3f} ({ds.matched}/{ds.gold})")
    for m in ds.misses:
        print(f"  MISS {m['id']} {m['name']} want {m['want']} got {m['got']}")
    all_t = [t for c in clauses for t in extract_targets(c.text)]
    all_d = [d for c in clauses for d in tag_departments(c.text, lexicon)]
    numeric = sum(t.comparator not in ("increase", "decrease") for t in all_t)
    print(f"all clauses: {len(all_t)} targets ({numeric} numeric, {len(all_t) - numeric} direction-only), "
          f"{len(all_d)} department tags ({sum(d.explicit for d in all_d)} explicit, "
          f"{sum(not d.explicit for d in all_d)} inferred)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
