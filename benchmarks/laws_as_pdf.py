"""Do laws printed to PDF, or saved as Word files with automatic article numbering, parse
as their Markdown does? A check of the PDF and .docx readers on text they were not tuned on.

    python benchmarks/laws_as_pdf.py [--format pdf|docx] [--sample 20] [--seed 8] [--laws DIR]

For a random sample of the Markdown law texts (default ``../shared/corpora/laws-cn``):
read the .md, write its paragraphs as

* ``pdf``: an A4 PDF laid out as tests/fixtures/make_fixtures.py does (justified,
  indented, hard-wrapped, running header, page numbers; needs fpdf2 and Debian's
  fonts-wqy-zenhei), or
* ``docx``: a Word file where every ``第N章`` and ``第N条`` in sequence is Word automatic
  numbering (chineseCountingThousand ``第%1章`` / ``第%1条``, articles numbered through the
  law), the rest plain paragraphs,

read that file back, parse both, and compare the clauses (path and text). Prints one line
per law and the totals. Figures: docs/formats.md.
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
    ap.add_argument("--format", choices=("pdf", "docx"), default="pdf")
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
            pdf = Path(tmp) / f"law.{args.format}"
            paras = [p for p in read_source(law).text.split("\n\n") if p.strip()]
            if args.format == "pdf":
                make_pdf(pdf, paras, running_header=law.stem)
            else:
                make_law_docx(pdf, paras)
            try:
                want = [(c.id.split(".", 1)[-1], c.text) for c in parse_file(law).clauses]
                t = time.perf_counter()
                doc = parse_file(pdf)
                read_s += time.perf_counter() - t
                got = [(c.id.split(".", 1)[-1], c.text) for c in doc.clauses]
                pages += doc.meta["file"].get("pages", 0)
            except KbError as e:
                print(f"{law.relative_to(args.laws)}: {e}")
                continue
            same = sum(a == b for a, b in zip(want, got)) if len(want) == len(got) else 0
            clauses += len(want)
            same_clauses += same
            same_docs += same == len(want)
            print(f"{same:5}/{len(want):<5} {law.relative_to(args.laws)}")
    print(f"{same_docs}/{len(sample)} laws with every clause equal; {same_clauses}/{clauses} clauses; "
          f"read and parsed in {read_s:.1f} s" + (f" ({pages} pages, {pages / read_s:.1f} pages/s)" if pages else ""))


def make_law_docx(path: Path, paragraphs: list[str]) -> None:
    """``paragraphs`` as a .docx whose chapter and article labels are automatic numbering."""
    import re

    import docx
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    from kb.parse import cn_number

    d = docx.Document()
    numbering = d.part.numbering_part.element
    for definition in list(numbering):
        numbering.remove(definition)
    for i, text in enumerate(("第%1章", "第%1条")):
        numbering.append(parse_xml(
            f'<w:abstractNum {nsdecls("w")} w:abstractNumId="{i}"><w:lvl w:ilvl="0"><w:start w:val="1"/>'
            f'<w:numFmt w:val="chineseCountingThousand"/><w:lvlText w:val="{text}"/></w:lvl></w:abstractNum>'))
    for i in range(2):
        numbering.append(parse_xml(f'<w:num {nsdecls("w")} w:numId="{i + 1}"><w:abstractNumId w:val="{i}"/></w:num>'))
    expected = {"章": 1, "条": 1}
    for para in paragraphs:
        m = re.match(r"^第([一二三四五六七八九十百千零〇]+)([章条])\s+(.+)$", para, re.S)
        if m and cn_number(m.group(1)) == expected[m.group(2)]:
            expected[m.group(2)] += 1
            p = d.add_paragraph(m.group(3))
            p._p.get_or_add_pPr().append(parse_xml(
                f'<w:numPr {nsdecls("w")}><w:ilvl w:val="0"/><w:numId w:val="{1 if m.group(2) == "章" else 2}"/></w:numPr>'))
        else:
            d.add_paragraph(para)
    d.save(path)


if __name__ == "__main__":
    main()
