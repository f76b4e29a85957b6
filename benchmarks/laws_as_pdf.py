"""Do laws printed to PDF parse as their Markdown does? A check of the PDF reader on text
it was not tuned on.

    python benchmarks/laws_as_pdf.py [--sample 20] [--seed 8] [--laws ../shared/corpora/laws-cn]

Needs fpdf2 and Debian's fonts-wqy-zenhei (as tests/fixtures/make_fixtures.py). For a
random sample of the Markdown law texts: read the .md, lay its paragraphs out as an A4
PDF the way make_fixtures does (justified, indented, hard-wrapped, running header, page
numbers), read that PDF back, parse both, and compare the clauses (path and text). Prints
one line per law and the totals. Figures: docs/formats.md.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "fixtures"))


def main() -> None:
    from make_fixtures import make_pdf

    from kb.errors import KbError
    from kb.parse import parse_file
    from kb.readers import read_source

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sample", type=int, default=20)
    ap.add_argument("--seed", type=int, default=8)
    ap.add_argument("--laws", type=Path, default=ROOT.parent / "shared" / "corpora" / "laws-cn")
    args = ap.parse_args()
    laws = sorted(args.laws.rglob("*.md"))
    sample = random.Random(args.seed).sample(laws, min(args.sample, len(laws)))
    same_docs = clauses = same_clauses = pages = 0
    read_s = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for law in sample:
            pdf = Path(tmp) / "law.pdf"
            paras = [p for p in read_source(law).text.split("\n\n") if p.strip()]
            make_pdf(pdf, paras, running_header=law.stem)
            try:
                want = [(c.id.split(".", 1)[-1], c.text) for c in parse_file(law).clauses]
                t = time.perf_counter()
                doc = parse_file(pdf)
                read_s += time.perf_counter() - t
                got = [(c.id.split(".", 1)[-1], c.text) for c in doc.clauses]
                pages += doc.meta["file"]["pages"]
            except KbError as e:
                print(f"{law.relative_to(args.laws)}: {e}")
                continue
            same = sum(a == b for a, b in zip(want, got)) if len(want) == len(got) else 0
            clauses += len(want)
            same_clauses += same
            same_docs += same == len(want)
            print(f"{same:5}/{len(want):<5} {law.relative_to(args.laws)}")
    print(f"{same_docs}/{len(sample)} laws with every clause equal; {same_clauses}/{clauses} clauses; "
          f"{pages} pages read and parsed in {read_s:.1f} s ({pages / read_s:.1f} pages/s)")


if __name__ == "__main__":
    main()
