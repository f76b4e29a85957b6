"""Reading speed per format (kb.readers.read_source): MB/s of input, and pages/s for PDFs.

    python benchmarks/bench_readers.py [--repeat 3] [--laws ../shared/corpora/laws-cn]

Inputs: the seed (.txt), the seed as an HTML page (one <p> per line, written to a temp
file), the seed's .docx and PDF fixtures (tests/fixtures), the scanned one-page fixture
through OCR when the ``ocr`` extra is installed, and every Markdown law text under
``--laws`` when that folder exists. Each figure is the best of ``--repeat`` runs (OCR: one
run after the models are loaded). Figures: docs/formats.md.
"""
from __future__ import annotations

import argparse
import html
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kb.readers import read_source  # noqa: E402

SEED = ROOT / "corpus" / "zengdu" / "zengzhengfa-2022-8-women-children-plans.txt"
FIXTURES = ROOT / "tests" / "fixtures"


def best_of(repeat: int, files: list[Path]) -> tuple[float, list]:
    best, sources = float("inf"), []
    for _ in range(repeat):
        t = time.perf_counter()
        sources = [read_source(f) for f in files]
        best = min(best, time.perf_counter() - t)
    return best, sources


def row(label: str, files: list[Path], seconds: float, sources: list) -> None:
    mb = sum(f.stat().st_size for f in files) / 1e6
    pages = sum(s.meta.get("pages", 0) for s in sources)
    per_page = f"{pages / seconds:8.1f}" if pages else f"{'':8}"
    print(f"{label:28} {len(files):6} {mb:8.2f} {pages or '':>6} {seconds:9.2f} {mb / seconds:8.2f} {per_page}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--laws", type=Path, default=ROOT.parent / "shared" / "corpora" / "laws-cn")
    args = ap.parse_args()
    print(f"{'input':28} {'files':>6} {'MB':>8} {'pages':>6} {'seconds':>9} {'MB/s':>8} {'pages/s':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "seed.html"
        body = "".join(f"<p>{html.escape(ln)}</p>\n" for ln in SEED.read_text(encoding="utf-8").split("\n"))
        page.write_text(f"<!doctype html><html><head><meta charset='utf-8'></head><body>{body}</body></html>",
                        encoding="utf-8")
        for label, files in [("txt: the seed", [SEED]), ("html: the seed as a page", [page]),
                             ("docx: seed-autonumbered", [FIXTURES / "seed-autonumbered.docx"]),
                             ("pdf: seed-text (A4)", [FIXTURES / "seed-text.pdf"])]:
            row(label, files, *best_of(args.repeat, files))
    if args.laws.is_dir():
        laws = sorted(args.laws.rglob("*.md"))
        row("md: laws-cn", laws, *best_of(1, laws))
    from kb.readers import ocr

    if ocr.available():
        scan = [FIXTURES / "seed-scan.pdf"]
        t = time.perf_counter()
        ocr._engine()
        print(f"(OCR models loaded in {time.perf_counter() - t:.1f} s)")
        row("pdf-ocr: seed-scan (1 page)", scan, *best_of(1, scan))


if __name__ == "__main__":
    main()
