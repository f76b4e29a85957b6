"""Which .docx reader renders Word's automatic numbering as the reader sees it?

    python benchmarks/compare_docx_readers.py [--dpc-python PYTHON]

Reads tests/fixtures/seed-autonumbered.docx (the seed with 一、/（一）/1. as Word automatic
numbering: chineseCounting, chineseCountingThousand, decimal; style-linked and restarted
lists; a table) with each candidate and compares its paragraphs with the seed's lines:

* kb.readers.docx (this project: numbering.xml replayed over python-docx's XML);
* python-docx alone (``Document.paragraphs`` and table cells: no labels);
* docx-parser-converter's ``docx_to_text`` (run with ``--dpc-python``, a Python that has
  it installed, so it need not be in the project's environment);
* LibreOffice headless (``soffice --convert-to txt``), if ``soffice`` is on PATH.

Prints, per reader: paragraphs equal to the seed's (NFKC, label spacing ignored), the
numbered paragraphs whose label is right, and the time to read the file (one cold run,
including the process start for the subprocess readers). Figures: docs/formats.md.
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "fixtures"))

DOCX = ROOT / "tests" / "fixtures" / "seed-autonumbered.docx"
LABEL = re.compile(r"^((?:[一二三四五六七八九十]+、)|\([一二三四五六七八九十\d]+\)|\d+\.)\s*")


def normalise(line: str) -> str:
    line = unicodedata.normalize("NFKC", line).replace("\u3000", " ").strip().lstrip("\ufeff")
    line = line.lstrip("• ").strip()
    return LABEL.sub(r"\1", re.sub(r"\s+", " ", line))


def ours() -> list[str]:
    from kb.readers import read_source

    return read_source(DOCX).text.split("\n\n")


def python_docx() -> list[str]:
    import docx

    d = docx.Document(str(DOCX))
    rows = [" ".join(c.text for c in row.cells) for t in d.tables for row in t.rows]
    return rows + [p.text for p in d.paragraphs]


def dpc(python: str) -> list[str]:
    code = ("import sys; from docx_parser_converter import docx_to_text; "
            "sys.stdout.write(docx_to_text(sys.argv[1]))")
    out = subprocess.run([python, "-c", code, str(DOCX)], capture_output=True, text=True, check=True).stdout
    return [ln.replace("\t", " ") for ln in out.split("\n")]


def libreoffice() -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["soffice", "--headless", "--convert-to", "txt:Text (encoded):UTF8", str(DOCX),
                        "--outdir", tmp], capture_output=True, check=True)
        lines = (Path(tmp) / (DOCX.stem + ".txt")).read_text(encoding="utf-8-sig").split("\n")
    lines = [ln for ln in lines if ln.strip()]
    return [" ".join(lines[i:i + 4]) for i in range(0, 16, 4)] + lines[16:]  # one table cell per line


def score(lines: list[str], seed: list[str], numbered: set[int]) -> tuple[int, int]:
    got = [normalise(ln) for ln in lines if ln.strip()]
    want = [normalise(ln) for ln in seed]
    same = sum(a == b for a, b in zip(got, want)) if len(got) == len(want) else \
        sum(1 for w in want if w in set(got))
    labels = sum(1 for i in numbered if want[i] in set(got))
    return same, labels


def main() -> None:
    from make_fixtures import number_plan, seed_paragraphs

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dpc-python", help="a Python with docx-parser-converter installed")
    args = ap.parse_args()
    seed = seed_paragraphs()
    numbered = {i + 4 for i, (level, _, _) in enumerate(number_plan(seed[4:])) if level is not None}
    readers = [("kb.readers.docx", ours), ("python-docx alone", python_docx)]
    if args.dpc_python:
        readers.append(("docx-parser-converter", lambda: dpc(args.dpc_python)))
    if shutil.which("soffice"):
        readers.append(("LibreOffice headless", libreoffice))
    print(f"{DOCX.name}: {len(seed)} paragraphs, {len(numbered)} with automatic numbering")
    print(f"{'reader':24} {'paragraphs equal':>17} {'labels right':>13} {'seconds':>8}")
    for name, read in readers:
        t = time.perf_counter()
        lines = read()
        dt = time.perf_counter() - t
        same, labels = score(lines, seed, numbered)
        print(f"{name:24} {same:>8}/{len(seed):<8} {labels:>6}/{len(numbered):<6} {dt:>8.2f}")


if __name__ == "__main__":
    main()
