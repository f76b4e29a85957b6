"""Parse every national text of laws-cn and check each against its source.

For each Markdown file: every line of the source that opens an article (``第N条 …``,
``第N条之一 …``) must come out as exactly one article clause, in order, with the same label
(none merged, split, lost or invented); no file may be rejected. The same check runs on each
text stripped to plain text, and on that plain text wrapped in a portal-style HTML page
(navigation, breadcrumb, footer, one <p> per paragraph).

    python benchmarks/parse_laws.py [--corpus ../shared/corpora/laws-cn] [--sample N] [--forms md,txt,html]
        [--markdown docs/laws-parse.md]

Prints a table by folder and the speed of ``kb parse`` (files/s, MB/s) per form.
"""
from __future__ import annotations

import argparse
import html
import random
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ARTICLE_LINE = re.compile(r"^第([零〇一二三四五六七八九十百千两]+|\d+)条(之[一二三四五六七八九十]+)?(?=\s)")
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpora" / "laws-cn"


def expected_articles(source: str) -> list[str]:
    """Labels of the source lines that open an article, in order."""
    out = []
    for line in source.split("\n"):
        m = ARTICLE_LINE.match(line.strip().replace("\u3000", " "))
        if m:
            out.append(m.group(0))
    return out


def plain_text(md: str) -> str:
    """The Markdown as a portal would print it: no #, no comments."""
    text = re.sub(r"<!--.*?-->", "", md, flags=re.S)
    return "\n".join(re.sub(r"^#+\s*", "", ln) for ln in text.split("\n"))


def portal_html(text: str, title: str) -> str:
    paras = "\n".join(f"<p>{html.escape(p.strip())}</p>" for p in text.split("\n") if p.strip())
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            "<script>var x=1;</script><style>p{margin:0}</style></head><body>"
            "<div class='header'><a href='/'>首页</a> <a href='/flk'>法律法规库</a></div>"
            "<div class='breadcrumb'>当前位置: 首页 &gt; 法律法规</div>"
            f"<div class='content'>{paras}</div>"
            "<div class='footer'>主办单位: 某某网站 版权所有 联系我们</div></body></html>")


def check(doc, want: list[str]) -> tuple[bool, str]:
    got = [c.label for c in doc.clauses if c.label and re.match(r"^第.+条", c.label)]
    if got == want:
        return True, ""
    for i, (a, b) in enumerate(zip(got, want)):
        if a != b:
            return False, f"article {i + 1}: parsed {a}, source {b}"
    return False, f"{len(got)} articles parsed, {len(want)} in the source"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--sample", type=int, default=0, help="check N random files (0 = all)")
    ap.add_argument("--forms", default="md,txt,html")
    ap.add_argument("--markdown", type=Path, help="write the table as Markdown to this file")
    ap.add_argument("--show", type=int, default=10, help="failures to print")
    args = ap.parse_args(argv)
    from kb.errors import KbError
    from kb.grammars import parse_text
    from kb.read import decode_document
    try:
        from kb.readers import read_bytes
    except ImportError:  # before the readers package
        read_bytes = None

    files = sorted(args.corpus.rglob("*.md"))
    if args.sample:
        files = sorted(random.Random(0).sample(files, min(args.sample, len(files))))
    forms = args.forms.split(",")
    stats = {f: defaultdict(lambda: [0, 0, 0, 0]) for f in forms}  # folder → files, ok, articles, rejected
    speed = {f: [0.0, 0, 0] for f in forms}  # seconds, files, bytes
    failures = []
    grammars = defaultdict(int)
    for path in files:
        md = path.read_text("utf-8")
        want = expected_articles(md)
        folder = path.relative_to(args.corpus).parts[0]
        for form in forms:
            if form == "md":
                data, is_html = md.encode("utf-8"), None
            elif form == "txt":
                data, is_html = plain_text(md).encode("utf-8"), False
            else:
                data, is_html = portal_html(plain_text(md), path.stem).encode("utf-8"), True
            row = stats[form][folder]
            row[0] += 1
            t0 = time.perf_counter()
            try:
                text = read_bytes(data, name=path.name).text if form == "md" else \
                    decode_document(data, name=path.name, html=is_html)
                doc = parse_text(text, source=str(path))
            except KbError as e:
                row[3] += 1
                failures.append((form, path, f"rejected: {e}"))
                continue
            finally:
                speed[form][0] += time.perf_counter() - t0
                speed[form][1] += 1
                speed[form][2] += len(data)
            if form == "md":
                grammars[doc.grammar] += 1
            ok, why = check(doc, want)
            row[1] += ok
            row[2] += len(want)
            if not ok:
                failures.append((form, path, why))
    lines = ["| folder | files | " + " | ".join(f"{f}: exact" for f in forms) + " | articles | rejected |",
             "|---|---:|" + "---:|" * len(forms) + "---:|---:|"]
    folders = sorted(stats[forms[0]])
    for folder in folders + ["**all**"]:
        rows = [stats[f][folder] for f in forms] if folder != "**all**" else [
            [sum(r[i] for r in stats[f].values()) for i in range(4)] for f in forms]
        lines.append(f"| {folder} | {rows[0][0]} | " + " | ".join(str(r[1]) for r in rows)
                     + f" | {rows[0][2]} | {sum(r[3] for r in rows)} |")
    table = "\n".join(lines)
    print(table)
    print("\ngrammars chosen (md):", dict(grammars))
    for form in forms:
        s, n, b = speed[form]
        print(f"speed {form}: {n / s:.1f} files/s, {b / s / 1e6:.2f} MB/s ({n} files, {b / 1e6:.1f} MB, {s:.1f} s)")
    for form, path, why in failures[: args.show]:
        print(f"FAIL [{form}] {path.relative_to(args.corpus)}: {why}")
    print(f"{len(failures)} failure(s)")
    if args.markdown:
        args.markdown.write_text(table + "\n", "utf-8")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
