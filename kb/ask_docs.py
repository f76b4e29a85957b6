"""Answers about documents and their articles, for ``kb ask`` (kb/ask.py routes here first).

Four kinds of question:

- **article**: a named law and 第N条 — "反家庭暴力法第二十三条说什么" → the article itself; an
  article the law does not have ("反家庭暴力法第五十条") → not found, saying which it has;
- **article count**: "妇女权益保障法一共多少条" → 第一条至第八十六条, 共86条 (the stored tree);
- **which article**: a named law and 哪一条/哪条/第几条 — "妇女权益保障法哪一条讲性骚扰" → the
  best article of that law, searched within it;
- **document**: a question about a document itself, answered from its metadata (the
  ``kb docs --json`` fields): when it was issued/published/took effect ("妇女权益保障法什么时候
  施行": ``dates.effective``, else the article saying 自…起施行, else the header line), who
  issued it ("谁印发的": ``issuer``), what a 文号 is ("曾政发〔2022〕8号是什么文件"), whether it is
  still in force ("这个文件还有效吗": ``validity``, and a newer version of the same law in
  the knowledge base).

A law named by a title that several versions share is answered from the current version:
the one with the latest date (amended, effective or signed), as the laws' files name them.
"""
from __future__ import annotations

import re
from typing import Any, Optional

from kb.query import named_documents, ordinal
from kb.search import ARTICLE_REF, SETTINGS, Filters, Hit, Searcher, article_number
from kb.versions import SUPERSEDED

WHICH_ARTICLE = re.compile(r"哪一?条|哪几条|哪些条(款|文)?|第几条")
LAW_ENDINGS = ("法", "条例", "规定", "办法", "细则")
LAW_NAME = re.compile(r"([\u4e00-\u9fff]{2,16}?(?:法|条例|规定|办法|细则))\s*(?:的)?第\s*[0-9一二两三四五六七八九十百千零〇]+\s*条")
DIVISION = re.compile(r"第\s*[0-9一二三四五六七八九十百]+\s*[编章节]")
ARTICLE_COUNT = re.compile(r"(多少|几)条(条文)?[?吗呢。.]*$")  # at the end: 几条措施 counts measures, not articles
DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,10}[〔\[［(（【]\s*(\d{4})\s*[〕\]］)）】]\s*(\d{1,4})\s*号")
WHEN = re.compile(r"什么时[候间]|何时|哪天|哪一天|哪年|哪一年|几月几[号日]|日期|时间|几号")
EVENTS = (("effective", re.compile(r"施行|生效|实施|开始执行")),
          ("published", re.compile(r"发布|公布|颁布|印发|下发|出台|发的")),
          ("signed", re.compile(r"通过|制定|签发|成文")),
          ("amended", re.compile(r"修订|修正|修改")))
WHO = re.compile(r"谁(印发|发布|制定|颁布|发的|出台|下发|签发)|(哪个|哪家|哪一?级|什么)(部门|单位|机关|机构|政府)"
                 r"(印发|发布|制定|颁布|出台|下发|发的)|发文(机关|单位|部门)|印发(单位|机关)|制定机关")
VALID = re.compile(r"(还|是否|仍然?|现在)有效|有效(吗|么|嘛|期)|失效|废止|作废|过期|还能用|还管用|现行有效|还在施行")
WHAT_DOC = re.compile(r"什么文件|哪个文件|什么规定|是什么|讲什么|哪份")
# Words that point at a document without naming it ("这个文件", "规划", "本法").
GENERIC = {"plan": re.compile(r"规划|纲要|通知|文件|这份|这个"), "law": re.compile(r"本法|该法|这部法|这个法")}
EVENT_WORDS = {"effective": "施行", "published": "发布", "signed": "通过/印发", "amended": "修订"}


def answer_documents(searcher: Searcher, q: str, k: int = 5):
    """The answer to a question about a document or a named article (see module
    docstring) → kb.ask.Answer, or None when the question is not of these kinds.
    ``q`` is the normalised question (kb.segment.normalize_query)."""
    from kb.segment import normalize_query

    q = normalize_query(q)
    searcher.warm_up()
    docs = {d["id"]: d for d in searcher.store.documents()}
    named = current_versions(named_documents(q, searcher.doc_names), docs, q)
    m = DOC_NUMBER.search(q)
    if m:
        by_number = [d for d in docs.values() if d.get("doc_number") and _same_number(d["doc_number"], m)]
        if by_number:
            return _doc_answer(searcher, q, by_number, docs, default="what")
    laws = [i for i in named if docs[i].get("grammar") == "law"]
    number = article_number(q)
    if laws:
        from_end = ordinal(q)
        if number is None and from_end is not None and from_end < 0:  # 最后一条, 倒数第二条 of a law
            last = max((n for _, _, n, _ in _article_rows(searcher, laws[:1])), default=None)
            number = last + 1 + from_end if last is not None else None
        if number is not None:
            return _article(searcher, laws, number, q)
        if ARTICLE_COUNT.search(q) and not WHICH_ARTICLE.search(q):
            return _article_count(searcher, laws, q)
        if WHICH_ARTICLE.search(q):
            return _which_article(searcher, q, laws, k)
    elif number is not None and LAW_NAME.search(q):
        return _unknown_law_article(searcher, q, number, docs)
    about = [docs[i] for i in named]
    if not about:
        about = [d for d in docs.values() if GENERIC["plan"].search(q) and d.get("grammar") != "law"]
    if about and _asks_metadata(q):
        return _doc_answer(searcher, q, about, docs)
    return None


def current_versions(doc_ids: list[str], docs: dict[str, dict], q: str = "") -> list[str]:
    """Of documents sharing a short title (two versions of one law), the current one —
    the latest by ``version_date`` — unless ``q`` names a year that picks another."""
    by_title: dict[str, list[str]] = {}
    for i in doc_ids:
        by_title.setdefault(docs[i].get("short_title") or docs[i].get("title") or i, []).append(i)
    out = []
    for ids in by_title.values():
        years = [i for i in ids if (version_date(docs[i]) or "")[:4] and (version_date(docs[i]) or "")[:4] in q]
        out.append(years[0] if len(years) == 1 else max(ids, key=lambda i: version_date(docs[i]) or ""))
    return out


def version_date(doc: dict[str, Any]) -> Optional[str]:
    """The date a document's text is of (ISO): its last amendment, else its signing,
    publication or effective date; None when it states none."""
    d = doc.get("dates") or {}
    amended = [a for a in d.get("amended") or [] if a]
    return (sorted(amended)[-1] if amended else None) or d.get("signed") or d.get("published") or d.get("effective")


def _same_number(doc_number: str, m: re.Match) -> bool:
    n = DOC_NUMBER.search(doc_number)
    return bool(n) and n[1] == m[1] and n[2] == m[2] and doc_number[: n.start(1) - 1].strip() in m[0]


def _asks_metadata(q: str) -> bool:
    return bool((WHEN.search(q) and any(p.search(q) for _, p in EVENTS)) or WHO.search(q) or VALID.search(q))


def _article(searcher: Searcher, laws: list[str], number: int, q: str):
    """Article ``number`` of the named laws; when none of them has it ("反家庭暴力法第五十条",
    a law of 38 articles), a not-found answer that says which articles each law holds,
    never another article in its place."""
    from kb.ask import Answer

    marks = ",".join("?" * len(laws))
    rows = [c for c in searcher.clauses.where(f"doc_id IN ({marks}) AND number = ?", [*laws, number]) if c.label]
    if not rows:
        asked = ARTICLE_REF.search(q)
        return Answer(f"没有{asked[0] if asked else f'第{number}条'}:{_held(searcher, laws)}。", "not_found", [],
                      confident=False)
    hits = searcher.describe([Hit(clause=c, score=1.0) for c in rows])
    text = ";".join(f"{h.place}: {h.clause.text}" for h in hits)
    return Answer(text, "article", hits)


def _article_count(searcher: Searcher, laws: list[str], q: str):
    """"妇女权益保障法一共多少条" → the number of articles of each named law (current version),
    with its first and last article, from the stored tree; "…第十章有几条" → those of that
    编/章/节 (not found when the law has no such division)."""
    from kb.ask import Answer

    division = DIVISION.search(q)
    if division is None:
        rows = _article_rows(searcher, laws)
        return Answer(_held(searcher, laws, rows) + "。", "structure", []) if rows else None
    label = re.sub(r"\s", "", division[0])
    marks = ",".join("?" * len(laws))
    under: dict[tuple[str, str], list] = {}
    for c in searcher.clauses.where(f"doc_id IN ({marks}) AND label IS NOT NULL", laws):
        part = next((p for p in c.path[1:-1] if re.sub(r"\s", "", p).startswith(label)), None)
        if part is not None:
            under.setdefault((c.doc_id, part), []).append(c)
    if not under:
        return Answer(f"没有{label}:{_held(searcher, laws)}。", "not_found", [], confident=False)
    parts = [f"《{_title(searcher, d)}》{part}为{arts[0].label}" + (f"至{arts[-1].label}" if len(arts) > 1 else "")
             + f",共{len(arts)}条" for (d, part), arts in under.items()]
    return Answer(";".join(parts) + "。", "structure", [])


def _article_rows(searcher: Searcher, laws: list[str]) -> list[tuple[str, int, int, int]]:
    """(doc id, first, last article number, count of articles) per law holding articles."""
    marks = ",".join("?" * len(laws))
    return searcher.store.db.execute(
        f"SELECT doc_id, min(number), max(number), count(*) FROM clauses WHERE doc_id IN ({marks}) "
        "AND label IS NOT NULL AND number IS NOT NULL GROUP BY doc_id ORDER BY doc_id", laws).fetchall()


def _held(searcher: Searcher, laws: list[str], rows: Optional[list] = None) -> str:
    """What the knowledge base holds of the laws: "知识库中《title》为第一条至第三十八条,共38条"
    (per law, the labels of its first and last articles and how many it has, from ``rows``
    of :func:`_article_rows` when already read), or "知识库中没有它的条文"."""
    spans = []
    for doc_id, first, last, n in _article_rows(searcher, laws) if rows is None else rows:
        labels = {c.number: c.label for c in searcher.clauses.where(
            "doc_id = ? AND label IS NOT NULL AND number IN (?, ?)", [doc_id, first, last])}
        spans.append(f"《{_title(searcher, doc_id)}》为{labels.get(first, first)}至{labels.get(last, last)},共{n}条")
    return "知识库中" + ";".join(spans) if spans else "知识库中没有它的条文"


def _title(searcher: Searcher, doc_id: str) -> str:
    return searcher.docs[doc_id].title if doc_id in searcher.docs and searcher.docs[doc_id].title else doc_id


def _unknown_law_article(searcher: Searcher, q: str, number: int, docs: dict[str, dict]):
    """第N条 of a law named by a name no document has ("反家暴法第二十三条", "劳动法第十条"): the
    article N of the law whose title holds the name's characters in order (an abbreviation:
    反家暴法 → 反家庭暴力法), said to be read so; else not found, saying the knowledge base
    holds no such law — never another article in its place."""
    from kb.ask import Answer

    name = re.sub(r"^(请问|问一下|我想问|想问|根据|按照|依据|依照|关于)", "", LAW_NAME.search(q)[1])
    laws = [d["id"] for d in docs.values() if d.get("grammar") == "law" and d.get("version_status") != SUPERSEDED
            and _abbreviates(name, d.get("short_title") or d.get("title") or "")]
    if not laws:
        return Answer(f"知识库中没有《{name}》(`kb docs` 列出已收录的文件)。", "not_found", [], confident=False)
    answer = _article(searcher, current_versions(laws, docs)[:1], number, q)
    answer.answer = f"「{name}」按《{_title(searcher, answer.hits[0].clause.doc_id if answer.hits else laws[0])}》理解:" \
        + (answer.answer or "")
    return answer


def _abbreviates(name: str, title: str) -> bool:
    """Whether ``name`` reads as an abbreviation of ``title``: its characters in order, the
    same first character and the same kind of ending (…法, …条例, …规定, …办法)."""
    if not name or not title or name[0] != title[0] or not any(name.endswith(e) and title.endswith(e) for e in LAW_ENDINGS):
        return False
    it = iter(title)
    return all(ch in it for ch in name)


def _which_article(searcher: Searcher, q: str, laws: list[str], k: int):
    """The law's articles ranked by the question, best first; not found when no article of
    the law shares a content word with the question (other than the law's own name:
    "妇女权益保障法哪一条讲个人所得税")."""
    from kb.ask import CONFIDENCE, NOT_FOUND, Answer

    hits: list[Hit] = []
    for doc in laws:
        hits += searcher.search(q, k=max(k, CONFIDENCE["depth"]), filters=Filters(doc=doc)).hits
    hits.sort(key=lambda h: -h.score)
    names = [n for n, ids in searcher.doc_names.items() if set(ids) & set(laws)]
    topical = [h for h in hits if any(not any(t in n for n in names) for t in h.matched_terms)]
    if not topical:
        return Answer(NOT_FOUND, "not_found", hits[: CONFIDENCE["suggestions"]], confident=False)
    best = topical[0]
    return Answer(f"{best.place}: {best.clause.text}", "article", [best, *(h for h in hits if h is not best)][:k])


def _doc_answer(searcher: Searcher, q: str, about: list[dict], docs: dict[str, dict], default: str = ""):
    from kb.ask import Answer

    parts, cited = [], []
    for d in about:
        sentence, clause = _doc_sentence(searcher, q, d, docs, default)
        parts.append(sentence)
        if clause is not None:
            cited.append(Hit(clause=clause, score=1.0))
    return Answer(";".join(parts), "document", searcher.describe(cited))


def _doc_sentence(searcher: Searcher, q: str, d: dict, docs: dict[str, dict], default: str):
    name = f"《{d.get('title') or d['id']}》"
    if WHEN.search(q):
        for event, pattern in EVENTS:
            if pattern.search(q):
                return _date_sentence(searcher, name, d, event)
    if WHO.search(q):
        issuer = d.get("issuer")
        return (f"{name}由{issuer}印发" if issuer else f"{name}未写明发文机关") + _number_of(d), None
    if VALID.search(q) and default != "what":
        return _validity_sentence(name, d, docs), None
    return _what_sentence(name, d), None


def _date_sentence(searcher: Searcher, name: str, d: dict, event: str):
    dates = d.get("dates") or {}
    value = dates.get(event)
    if event == "amended":
        value = "、".join(dates.get("amended") or []) or None
    if event == "published" and not value:
        value = dates.get("signed") and f"{dates['signed']}(成文日期)"
    if value:
        return f"{name}{EVENT_WORDS[event]}日期: {str(value).replace('T', ' ')}", None
    if event == "effective":
        clause = _in_force_article(searcher, d["id"])
        if clause is not None:
            return f"{name}: {clause.text.strip()}({clause.short_path})", clause
    header = "；".join((d.get("meta") or {}).get("header") or [])
    if header:
        return f"{name}未单独写明{EVENT_WORDS[event]}日期;文件题注: {header}", None
    return f"{name}未写明{EVENT_WORDS[event]}日期", None


def _in_force_article(searcher: Searcher, doc_id: str):
    """The article saying when the law takes effect (本法自2016年3月1日起施行), the last one."""
    rows = [c for c in searcher.clauses.where("doc_id = ?", [doc_id]) if re.search(r"自.{0,20}起施行", c.text)]
    return max(rows, key=lambda c: c.ord) if rows else None


def _validity_sentence(name: str, d: dict, docs: dict[str, dict]) -> str:
    newer = [o for o in docs.values() if o["id"] != d["id"] and o.get("short_title")
             and o.get("short_title") == d.get("short_title") and (version_date(o) or "") > (version_date(d) or "")]
    if newer:
        n = max(newer, key=lambda o: version_date(o) or "")
        return f"{name}({version_date(d)})已有新版本: {n['id']}({version_date(n)}),以新版本为准"
    if d.get("validity"):
        return f"{name}效力状态: {d['validity']}" + _number_of(d)
    dates = d.get("dates") or {}
    known = [f"文本日期{version_date(d)}"] if version_date(d) else []
    known += [f"{dates['effective']}起施行"] if dates.get("effective") else []
    return f"{name}未写明效力状态;它是知识库中的最新版本" + (f"({','.join(known)})" if known else "") + \
        ",知识库中没有它的更新版本或废止决定"


def _what_sentence(name: str, d: dict) -> str:
    bits = [b for b in (d.get("issuer") and f"{d['issuer']}印发", d.get("doc_type"),
                        (d.get("dates") or {}).get("signed") and f"成文日期{d['dates']['signed']}") if b]
    return f"{d.get('doc_number') or ''}是{name}" + (f"({','.join(bits)})" if bits else "")


def _number_of(d: dict) -> str:
    return f"(文号{d['doc_number']})" if d.get("doc_number") else ""


# A law article is put beside the best plan measure when it scores at least this share of
# the best hit's fused score (and vice versa): both answer the question, neither is a tail hit.
# It is kb.search SETTINGS law_factor_unasked (0.5), so that for a question naming neither
# family a law article qualifies when, before that family weight, it scores as high as the
# best plan clause (0.6 when the weight was 0.6; sentence vectors, docs/evaluation.md).
SIDE_BY_SIDE_MIN_SHARE = SETTINGS["law_factor_unasked"]


def side_by_side(hits: list[Hit], k: int = 5) -> Optional[tuple[str, list[Hit]]]:
    """When the hits (best first, fused scores) hold both a plan clause and a law article
    that answer the question (each within ``SIDE_BY_SIDE_MIN_SHARE`` of the best score), the
    sentence citing the two side by side — 规划措施: 妇女/妇女与法律/策略措施/4 …;法律依据:
    反家庭暴力法 第四章 第二十三条 — and the hits with those two first; else None."""
    if not hits or hits[0].score <= 0:
        return None
    floor = hits[0].score * SIDE_BY_SIDE_MIN_SHARE
    plan = next((h for h in hits if h.clause.plan and h.score >= floor), None)
    law = next((h for h in hits if not h.clause.plan and h.clause.label and h.score >= floor), None)
    if plan is None or law is None:
        return None
    p = plan.clause
    sentence = (f"规划措施: {p.short_path} {p.heading or p.text[:40]};"
                f"法律依据: {law.place} {law.clause.text[:60]}{'…' if len(law.clause.text) > 60 else ''}")
    first = sorted([plan, law], key=lambda h: -h.score)
    return sentence, first + [h for h in hits if h is not plan and h is not law]
