"""OCR for PDF pages without a text layer (scans), an optional extra:
``pip install 'policy-kb[ocr]'`` installs ``rapidocr_onnxruntime``, whose PP-OCR detection,
classification and recognition models ship inside its wheel (nothing is downloaded at run
time), over onnxruntime. Pages are rendered with pypdfium2 (a pdfplumber dependency) at
``RENDER_DPI``.

Measured on this project's machines (2 cores, shared): ~1 s to load the models, then
about 8 s per A4 page at 144 dpi (see docs/formats.md); OCR'd text needs checking.
"""
from __future__ import annotations

import importlib.util
import statistics
from functools import lru_cache

from kb.readers.pdf import PdfLine

RENDER_DPI = 144  # 2x PDF points; enough for 10.5–16 pt Chinese type
MIN_SCORE = 0.5  # recognitions below this confidence are dropped


def available() -> bool:
    """True when the ``ocr`` extra (rapidocr_onnxruntime) is installed."""
    return importlib.util.find_spec("rapidocr_onnxruntime") is not None


def read_pages(data: bytes, pages: list[int]) -> dict[int, list[PdfLine]]:
    """OCR the 1-based ``pages`` of the PDF ``data``; return their lines, top to bottom,
    in PDF points (so :mod:`kb.readers.pdf` removes furniture and joins wraps as for a
    text layer). Raises ImportError when :func:`available` is False."""
    import pypdfium2

    engine = _engine()
    scale = RENDER_DPI / 72
    doc = pypdfium2.PdfDocument(data)
    try:
        return {n: _lines(engine(doc[n - 1].render(scale=scale).to_numpy())[0] or [], n, scale) for n in pages}
    finally:
        doc.close()


@lru_cache(maxsize=1)
def _engine():
    from rapidocr_onnxruntime import RapidOCR

    return RapidOCR()


def _lines(boxes: list, page: int, scale: float) -> list[PdfLine]:
    """Group recognised boxes (``[[4 corner points], text, score]``) into lines: boxes
    whose vertical centres lie within half a box height of each other share a line."""
    items = []
    for corners, text, score in boxes:
        if score < MIN_SCORE or not text.strip():
            continue
        xs, ys = [p[0] / scale for p in corners], [p[1] / scale for p in corners]
        items.append((min(xs), max(xs), min(ys), max(ys), text.strip()))
    items.sort(key=lambda b: (b[2] + b[3]) / 2)
    rows: list[list[tuple]] = []
    for item in items:
        centre, height = (item[2] + item[3]) / 2, item[3] - item[2]
        if rows and abs(centre - (rows[-1][0][2] + rows[-1][0][3]) / 2) < height / 2:
            rows[-1].append(item)
        else:
            rows.append([item])
    out = []
    for row in rows:
        row.sort(key=lambda b: b[0])
        size = statistics.median(b[3] - b[2] for b in row)
        out.append(PdfLine(page, " ".join(b[4] for b in row), row[0][0], row[-1][1],
                           min(b[2] for b in row), max(b[3] for b in row), size, lead=size))
    return out
