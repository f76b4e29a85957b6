"""Score the parser on real fragments of other plans (``tests/gold/fragments``, a copy of
``../shared/eval/fragments``), by the rules of that folder's README.

    python benchmarks/eval_fragments.py [--dir tests/gold/fragments] [-v]

Per fragment: recall (every non-optional expected clause found under its number, text start
and path tail), extras (parser clauses matching no expected clause, or holding a non-clause
line), grouping (one parser section per expected block, none shared), boundaries (text end),
sub-items, headings and departments (names as written). A fragment passes the core check
with full recall and zero extras.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DIR = ROOT / "tests" / "gold" / "fragments"
_MARKER = re.compile(r"^(?:[一二三四五六七八九十]+、|\([一二三四五六七八九十]+\))")


def norm(s: str) -> str:
    """The fragments README's norm(): NFKC, no whitespace, dashes → '-', straight quotes."""
    s = unicodedata.normalize("NFKC", s or "")
    s = re.sub(r"\s+", "", s)
    s = re.sub(r"[—–\-‐‑―]+", "-", s)
    return s.replace("“", '"').replace("”", '"').replace("‘", "'").replace("’", "'")


def norm_heading(s: str) -> str:
    return _MARKER.sub("", norm(s).lstrip("?")).rstrip("。:")


@dataclass
class FragmentScore:
    """Scores of one fragment; ``core`` is full recall and no extras."""

    file: str
    expected: int = 0
    found: int = 0
    extras: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    grouping_errors: list[str] = field(default_factory=list)
    boundary_errors: list[str] = field(default_factory=list)
    subitem_errors: list[str] = field(default_factory=list)
    department_errors: list[str] = field(default_factory=list)
    headings_missing: list[str] = field(default_factory=list)

    @property
    def core(self) -> bool:
        return self.found == self.expected and not self.extras


def score_fragment(txt: Path, gold: dict) -> FragmentScore:
    """Parse ``txt`` with kb and score it against its expected parse ``gold``."""
    from kb.parse import parse_file

    doc = parse_file(txt)
    parent = {n.id: n.parent_id for n in doc.nodes}
    titles = {norm_heading(n.title) for n in doc.nodes}
    s = FragmentScore(txt.name)
    matched: set[str] = set()
    section_of_block: list[set[str]] = []
    for block in gold["blocks"]:
        want_path = [norm_heading(p) for p in block["path"] if not p.startswith("?")]
        sections = set()
        for p in block["path"]:
            if not p.startswith("?") and norm_heading(p) not in titles:
                s.headings_missing.append(p)
        for exp in block["clauses"]:
            optional = exp.get("optional")
            hit = None
            for c in doc.clauses:
                heads = [norm_heading(x) for x in (c.part, c.domain, c.section) if x]
                if (c.number == exp["number"] and norm(c.text).startswith(norm(exp["starts_with"]))
                        and heads[len(heads) - len(want_path):] == want_path if want_path else
                        c.number == exp["number"] and norm(c.text).startswith(norm(exp["starts_with"]))):
                    hit = c
                    break
            if optional:
                if hit:
                    matched.add(hit.id)
                continue
            s.expected += 1
            if hit is None:
                s.missed.append(f"{exp['number']}. {exp['starts_with']}")
                continue
            s.found += 1
            matched.add(hit.id)
            sections.add(parent[hit.id])
            if not exp.get("truncated") and not norm(hit.text).endswith(norm(exp["ends_with"])):
                s.boundary_errors.append(f"{exp['number']}: ends {hit.text[-12:]!r}, want {exp['ends_with']!r}")
            for sub in exp.get("sub_items", []):
                if norm(sub["starts_with"]) not in norm(hit.text):
                    s.subitem_errors.append(f"{exp['number']}: {sub['starts_with']}")
            if "departments" in exp:
                got = [d.evidence and d.name for d in hit.departments if d.explicit and d.cue == "responsibility line"]
                if set(got) != set(exp["departments"]):
                    s.department_errors.append(f"{exp['number']}: {got} != {exp['departments']}")
        if len(sections) > 1:
            s.grouping_errors.append(f"block {block['path']} spread over {len(sections)} parser sections")
        section_of_block.append(sections)
    for i, a in enumerate(section_of_block):
        for b in section_of_block[i + 1:]:
            if a & b:
                s.grouping_errors.append("two expected blocks share a parser section")
    banned = [norm(x) for x in gold.get("non_clause_lines", []) if norm(x)]
    for c in doc.clauses:
        if c.id not in matched:
            s.extras.append(f"{c.short_path}: {c.text[:30]}")
        elif any(b in norm(c.text) for b in banned):
            s.extras.append(f"{c.short_path} holds a non-clause line")
    return s


def score_dir(folder: Path) -> list[FragmentScore]:
    out = []
    for gold_file in sorted(folder.glob("*.json")):
        gold = json.loads(gold_file.read_text("utf-8"))
        out.append(score_fragment(folder / gold["file"], gold))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    scores = score_dir(args.dir)
    print("| fragment | found/expected | extras | grouping | boundaries | sub-items | departments | core |")
    print("|---|---:|---:|---:|---:|---:|---:|:---:|")
    for s in scores:
        print(f"| {s.file[:40]} | {s.found}/{s.expected} | {len(s.extras)} | {len(s.grouping_errors)} | "
              f"{len(s.boundary_errors)} | {len(s.subitem_errors)} | {len(s.department_errors)} | "
              f"{'pass' if s.core else 'FAIL'} |")
        if args.verbose:
            for k in ("missed", "extras", "grouping_errors", "boundary_errors", "subitem_errors",
                      "department_errors", "headings_missing"):
                for x in getattr(s, k):
                    print(f"    {k}: {x}")
    return 0 if all(s.core for s in scores) else 1


if __name__ == "__main__":
    sys.exit(main())
