"""kb.readers: one reader per format, chosen by content. The .docx and PDF fixtures are
made from the seed by tests/fixtures/make_fixtures.py (committed with them)."""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT, SEED
from kb.errors import InputError
from kb.parse import parse_file, parse_text
from kb.readers import SUPPORTED_SUFFIXES, read_bytes, read_source
from kb.readers.numbering import W, Numbering, join_label

FIXTURES = Path(__file__).resolve().parent / "fixtures"
DOCX = FIXTURES / "seed-autonumbered.docx"
PDF = FIXTURES / "seed-text.pdf"
LAWS = ROOT.parent / "shared" / "corpora" / "laws-cn"


@pytest.fixture(scope="module")
def docx_source():
    return read_source(DOCX)


@pytest.fixture(scope="module")
def pdf_source():
    return read_source(PDF)


def _same_document(doc, seed_doc):
    assert [(c.id, c.text) for c in doc.clauses] == [(c.id, c.text) for c in seed_doc.clauses]
    assert [(n.id, n.kind, n.text) for n in doc.nodes] == [(n.id, n.kind, n.text) for n in seed_doc.nodes]
    def facts(d):
        return d.id, d.title, {k: v for k, v in d.meta.items() if k != "file"}

    assert facts(doc) == facts(seed_doc)


# ------------------------------------------------------------------------ .docx
def test_docx_parses_to_the_seed_clauses(docx_source, seed_doc):
    assert docx_source.format == "docx"
    doc = parse_file(DOCX)
    assert len(doc.clauses) == 357 and doc.warnings == seed_doc.warnings
    assert doc.meta["file"] == {"format": "docx", "title": "曾都区妇女发展规划和儿童发展规划(测试用自动编号版)",
                                "author": "tests/fixtures/make_fixtures.py", "created": "2013-12-23T23:15:00+00:00"}
    assert seed_doc.meta["file"] == {"format": "txt"}
    _same_document(doc, seed_doc)


def test_docx_renders_word_numbering_labels(docx_source):
    lines = docx_source.text.split("\n")
    # (一) is chineseCountingThousand "（%2）", NFKC-normalised like every reader's text
    assert "一、指导思想、基本原则和总体目标" in lines and "(五)妇女与社会保障" in lines
    assert "4.坚持促进妇女全面发展。" in lines
    # the second plan restarts 一、 (a w:num with startOverride), and so do goals/measures
    assert lines.count("一、指导思想、基本原则和总体目标") == 2
    assert lines.count("四、监测评估") == 2
    assert lines[lines.index("策略措施:") + 2].startswith("1.建立健全保障妇幼健康的体制机制。")


def test_docx_table_rows_are_paragraphs(docx_source):
    assert docx_source.text.startswith("索引号\t000014349/2023-01810\t主题分类\t政务公开\n\n"
                                       "发文单位\t曾都区人民政府\t发文字号\t曾政发〔2022〕8号\n\n")
    assert docx_source.meta["title"] == "曾都区妇女发展规划和儿童发展规划(测试用自动编号版)"


def _numbering(abstract: str, nums: str) -> Numbering:
    from lxml import etree

    xml = f'<w:numbering xmlns:w="{W[1:-1]}">{abstract}{nums}</w:numbering>'
    return Numbering.from_xml(etree.fromstring(xml), None)


def _p(num_id: int, ilvl: int):
    from lxml import etree

    return etree.fromstring(f'<w:p xmlns:w="{W[1:-1]}"><w:pPr><w:numPr><w:ilvl w:val="{ilvl}"/>'
                            f'<w:numId w:val="{num_id}"/></w:numPr></w:pPr></w:p>')


LAW_LEVELS = """<w:abstractNum w:abstractNumId="0">
 <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="chineseCountingThousand"/><w:lvlText w:val="第%1章"/></w:lvl>
 <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="chineseCountingThousand"/><w:lvlText w:val="第%2条"/>
   <w:lvlRestart w:val="0"/></w:lvl>
 <w:lvl w:ilvl="2"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="（%3）"/></w:lvl>
</w:abstractNum>"""


def test_numbering_restarts_and_overrides():
    n = _numbering(LAW_LEVELS, '<w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num>'
                               '<w:num w:numId="2"><w:abstractNumId w:val="0"/>'
                               '<w:lvlOverride w:ilvl="0"><w:startOverride w:val="5"/></w:lvlOverride></w:num>')
    labels = [n.label(_p(1, lvl))[0] for lvl in (0, 1, 2, 2, 1, 0, 1, 2)]
    # articles never restart (lvlRestart 0: numbered through the law, 第一百零一条 style);
    # items restart under each article
    assert labels == ["第一章", "第一条", "（一）", "（二）", "第二条", "第二章", "第三条", "（一）"]
    assert n.label(_p(2, 0))[0] == "第五章"  # a w:num with startOverride restarts where first used
    assert n.label(_p(2, 1))[0] == "第四条"  # …and continues the abstract list's other levels
    assert n.label(_p(1, 0))[0] == "第六章"  # every w:num of one abstractNum shares the counters


@pytest.mark.parametrize("fmt,n,shown", [
    ("chineseCounting", 11, "十一"), ("chineseCounting", 20, "二十"), ("chineseCounting", 101, "一〇一"),
    ("chineseCountingThousand", 110, "一百一十"), ("ideographTraditional", 3, "丙"),
    ("decimalEnclosedCircle", 3, "③"), ("chineseLegalSimplified", 12, "壹拾贰"),
    ("upperRoman", 14, "XIV"), ("lowerLetter", 28, "bb"), ("decimalZero", 7, "07"),
])
def test_number_formats(fmt, n, shown):
    assert Numbering({}, {}, {}).format(n, fmt) == shown


def test_label_joined_without_tab_after_punctuation():
    assert join_label("一、", "tab", "总体目标") == "一、总体目标"
    assert join_label("第一章", "tab", "总则") == "第一章 总则"
    assert join_label("第一章", "nothing", "总则") == "第一章总则"


# -------------------------------------------------------------------------- PDF
def test_pdf_parses_to_the_seed_clauses(pdf_source, seed_doc):
    assert pdf_source.format == "pdf" and pdf_source.meta == {"pages": 38}
    doc = parse_file(PDF)
    assert len(doc.clauses) == 357 and doc.meta["file"] == {"format": "pdf", "pages": 38}
    _same_document(doc, seed_doc)


def test_libreoffice_pdf_gives_the_seed_clauses(seed_doc):
    """A PDF this project did not lay out: LibreOffice's print of the .docx (ragged right,
    so "…规划(2021—2030" / "年)》印发…" is a wrap because "年)》" would not have fitted).
    Every clause has the seed's path and text; the header table's cells wrap inside their
    cells, which the reader does not reassemble, so the document id is not the seed's."""
    doc = parse_file(FIXTURES / "seed-libreoffice.pdf")
    assert doc.meta["file"]["pages"] == 35
    assert [(c.id.split(".", 1)[1], c.text) for c in doc.clauses] == \
           [(c.id.split(".", 1)[1], c.text) for c in seed_doc.clauses]


def test_pdf_drops_running_header_and_page_numbers(pdf_source):
    assert "曾政发〔2022〕8号  曾都区人民政府" not in pdf_source.text
    assert not re.search(r"^[-\s]*\d+[-\s]*$", pdf_source.text, re.M)
    # the body's own mention of the issuer is kept
    assert "发文单位 曾都区人民政府 发文字号 曾政发〔2022〕8号" in pdf_source.text


def test_pdf_rejoins_wraps_without_spaces(pdf_source):
    paras = pdf_source.text.split("\n\n")
    seed = [ln.strip() for ln in SEED.read_text(encoding="utf-8").split("\n") if ln.strip()]
    assert len(paras) == len(seed) == 428
    assert "2.到2025年和2030年,产前筛查率分别达80%以上和82%以上,孕产妇死亡率分别控制到万分之一以下和十万分之九以下," \
           "优于全省平均水平,城乡、区域差距逐步缩小。" in paras
    # a title wrapped mid-number, "(2" / "021—2030年)", is one line again
    assert paras[4] == "区人民政府关于印发曾都区妇女发展规划(2021—2030年)和 曾都区儿童发展规划(2021—2030年)的通知"


def test_pdf_overprinted_headings_read_once():
    """Fake bold (a heading drawn twice 0.3 mm apart); a page of short lines has no right
    margin to wrap at, so nothing is joined."""
    assert read_source(FIXTURES / "seed-fake-bold.pdf").text.split("\n\n") == [
        "(一)指导思想", "坚持以人民为中心的发展思想,贯彻落实男女平等基本国策,准确把", "(二)基本原则",
        "1.坚持党的全面领导。", "2.坚持男女两性平等发展。"]


def test_pdf_with_user_password_is_refused():
    with pytest.raises(InputError, match=r"seed-encrypted\.pdf: the PDF is encrypted.*save an unprotected copy"):
        read_source(FIXTURES / "seed-encrypted.pdf")


def test_scanned_pdf_without_ocr_says_how_to_install_it(monkeypatch):
    from kb.readers import ocr

    monkeypatch.setattr(ocr, "available", lambda: False)
    with pytest.raises(InputError, match=r"seed-scan\.pdf: the PDF has no usable text layer.*pip install 'policy-kb\[ocr\]'"):
        read_source(FIXTURES / "seed-scan.pdf")


def test_scanned_pdf_is_read_by_ocr():
    pytest.importorskip("rapidocr_onnxruntime")
    src = read_source(FIXTURES / "seed-scan.pdf")
    assert src.format == "pdf-ocr" and "OCR" in src.warnings[0]
    lines = src.text.split("\n\n")
    assert "(二)基本原则" in lines and "1.坚持党的全面领导。" in lines


def test_damaged_pdf():
    with pytest.raises(InputError, match=r"plan\.pdf: damaged or truncated PDF.*re-download"):
        read_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "plan.pdf")


# ----------------------------------------------------------------- bad formats
def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


@pytest.mark.parametrize("name,data,says", [
    ("plan.docx", _zip({"notes.txt": b"hello"}), r"plan\.docx: is a zip archive, not a Word \.docx.*extract it"),
    ("plan.docx", _zip({"xl/workbook.xml": b"<x/>"}), r"plan\.docx: is an Excel \.xlsx workbook"),
    ("plan.docx", _zip({"word/document.xml": b"<not-word/>"}), r"plan\.docx: .*re-save it"),
    ("plan.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), r"plan\.doc: is a Word 97-2003.*save it as \.docx"),
    ("table.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), r"table\.xls: is a Word 97-2003 \.doc / \.xls"),
    ("blob.bin", bytes(range(256)) * 8, r"blob\.bin: looks like a binary file.*kb reads \.txt, \.html, \.md, \.docx and \.pdf"),
    ("plan.pdf", b"<html><body>404 Not Found</body></html>", r"plan\.pdf: is not a \.pdf file \(its content is an HTML page"),
])
def test_unreadable_formats_name_the_file_and_what_to_do(name, data, says):
    with pytest.raises(InputError, match=says):
        read_bytes(data, name)


def test_portal_doc_that_is_html_is_read_as_html():
    page = "<html><body><p>一、总体要求</p><p>(一)指导思想</p></body></html>".encode("gb18030")
    src = read_bytes(page, "附件1.doc")
    assert src.format == "html" and src.text.split() == ["一、总体要求", "(一)指导思想"]
    assert src.warnings[0].startswith("the content is HTML, not what the suffix '.doc' says")


# --------------------------------------------------------------------- Markdown
LAW_MD = """# 中华人民共和国反家庭暴力法

2015年12月27日 第十二届全国人民代表大会常务委员会第十八次会议通过

<!-- INFO END -->

## 第一章 总则

第一条 为了预防和制止家庭暴力，保护家庭成员的合法权益，维护平等、和睦、文明的家庭关系，促进家庭和谐、社会稳定，制定本法。

第二条 本法所称家庭暴力，是指家庭成员之间以殴打、捆绑、残害、限制人身自由以及经常性谩骂、恐吓等方式实施的身体、精神等侵害行为。
"""


def test_markdown_law_text_keeps_header_block_and_drops_markup():
    src = read_bytes(LAW_MD.encode("utf-8"), "反家庭暴力法.md")
    assert src.format == "md" and src.meta == {"title": "中华人民共和国反家庭暴力法"}
    assert src.text.split("\n\n")[:4] == [
        "中华人民共和国反家庭暴力法", "2015年12月27日 第十二届全国人民代表大会常务委员会第十八次会议通过",
        "第一章 总则", "第一条 为了预防和制止家庭暴力,保护家庭成员的合法权益,维护平等、和睦、文明的家庭关系,促进家庭和谐、社会稳定,制定本法。"]
    assert "<!--" not in src.text and "#" not in src.text


def test_markdown_front_matter_tables_links_and_emphasis():
    md = ("---\ntitle: 某市儿童发展规划\n发文字号: 某政发〔2022〕1号\n成文日期: 2022-12-29\n---\n\n# 某市儿童发展规划\n\n"
          "**一、总体要求**\n\n1. 坚持[儿童优先](https://example.org)原则。\n\n"
          "| 指标 | 目标值 |\n|---|---|\n| 婴儿死亡率 | 5‰以下 |\n\n```\n(二)代码块原样保留\n```\n")
    src = read_bytes(md.encode("utf-8"), "plan.md")
    assert src.meta == {"title": "某市儿童发展规划", "发文字号": "某政发〔2022〕1号", "成文日期": "2022-12-29"}
    assert src.text.split("\n\n") == ["某市儿童发展规划", "一、总体要求", "1. 坚持儿童优先原则。",
                                      "指标\t目标值", "婴儿死亡率\t5‰以下", "(二)代码块原样保留"]


@pytest.mark.skipif(not LAWS.is_dir(), reason="../shared/corpora/laws-cn is not beside the checkout")
def test_markdown_real_law_keeps_every_article_line():
    path = LAWS / "社会法" / "反家庭暴力法(2015-12-27).md"
    if not path.exists():
        path = next(LAWS.rglob("*反家庭暴力法*.md"))
    raw = path.read_text(encoding="utf-8")
    src = read_source(path)
    article = re.compile(r"^第[一二三四五六七八九十百]+条 ")
    assert [ln for ln in src.text.split("\n") if article.match(ln)] == \
           [ln.replace("，", ",").replace("：", ":").replace("；", ";").replace("（", "(").replace("）", ")")
            for ln in raw.split("\n") if article.match(ln)]


# ------------------------------------------------------------------- dispatcher
def test_supported_suffixes_and_folder_collection(tmp_path):
    from kb.build import collect_paths

    assert {".txt", ".html", ".htm", ".md", ".docx", ".pdf"} <= SUPPORTED_SUFFIXES
    for name in ("a.docx", "b.pdf", "c.md", "d.txt", "e.xls", "f.doc"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in collect_paths([tmp_path])] == ["a.docx", "b.pdf", "c.md", "d.txt"]


def test_text_reader_unchanged_for_the_seed(seed_doc):
    src = read_source(SEED)
    assert src.format == "txt" and src.meta == {} and src.warnings == []
    assert parse_text(src.text, source=str(SEED)).clauses == seed_doc.clauses


def test_unmapped_glyphs_count_as_no_text_layer():
    from kb.readers.pdf import _readable

    assert _readable("一、指导思想、基本原则和总体目标")
    assert not _readable("(cid:1234)" * 20 + "一、总体目标")  # fonts without a Unicode map
    assert not _readable("- 3 -")


def test_docx_revisions_hidden_text_links_and_layout_tables(tmp_path):
    """Deleted revisions and hidden runs are left out, hyperlink text kept, a one-cell
    layout table gives each of its paragraphs a paragraph."""
    import docx
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    d = docx.Document()
    p = d.add_paragraph("到2025年,")
    p._p.append(parse_xml(f'<w:del {nsdecls("w")} w:id="1" w:author="a"><w:r><w:delText>删去的</w:delText></w:r></w:del>'))
    p._p.append(parse_xml(f'<w:r {nsdecls("w")}><w:rPr><w:vanish/></w:rPr><w:t>隐藏</w:t></w:r>'))
    p._p.append(parse_xml(f'<w:hyperlink {nsdecls("w")}><w:r><w:t>新生儿死亡率</w:t></w:r></w:hyperlink>'))
    p.add_run("降至3‰以下。")
    cell = d.add_table(rows=1, cols=1).rows[0].cells[0]
    cell.text = "一、总体要求"
    cell.add_paragraph("(一)指导思想")
    d.save(tmp_path / "t.docx")
    assert read_source(tmp_path / "t.docx").text.split("\n\n") == [
        "到2025年,新生儿死亡率降至3‰以下。", "一、总体要求", "(一)指导思想"]
