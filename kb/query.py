"""Query understanding: what a Chinese question says about plan, section, year,
department and indicator, used as boosts by the searcher and as routing by ``kb ask``.

Cue words live in ``kb/data/query.yaml``; department names come from the department
lexicon (kb/departments.py) and indicator names from the targets of the indexed clauses.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Iterable, Optional, Sequence

import yaml

from kb.segment import normalize_query

YEAR_RE = re.compile(r"(20\d{2})\s*年?")


@dataclass
class Intent:
    """What a query mentions. ``plans``: plan short names (empty when none or all);
    ``section``: 主要目标 or 策略措施 when the wording asks for one; ``years``: 4-digit
    years; ``departments``: canonical names; ``indicators``: indicator names (normalised)
    found in the query; ``wants_value``: the question asks for a number; ``domains``: 发展领域
    names written in the query; ``number``: N of a 第N条 reference (negative from the end: ``LAST`` for 最后一条);
    ``expansions``: official
    terms for the query's colloquial words (``colloquial`` in kb/data/query.yaml); ``doc_ids``:
    the documents the query names by title (see ``named_documents``) and ``families`` the
    document families it speaks of ("plan", "law"; see ``asked_families``), set by the searcher."""

    text: str
    plans: list[str] = field(default_factory=list)
    section: Optional[str] = None
    years: list[int] = field(default_factory=list)
    departments: list[str] = field(default_factory=list)
    indicators: list[str] = field(default_factory=list)
    wants_value: bool = False
    domains: list[str] = field(default_factory=list)
    number: Optional[int] = None
    expansions: list[str] = field(default_factory=list)
    doc_ids: list[str] = field(default_factory=list)
    families: list[str] = field(default_factory=list)

    @property
    def dense_text(self) -> str:
        """What the embedder sees: the normalised query plus the official terms of its
        colloquial words (老公打老婆 → … 丈夫 妻子 家庭暴力)."""
        return " ".join([self.text, *self.expansions]) if self.expansions else self.text

    @property
    def reads_tags(self) -> bool:
        """Whether ranking reads the candidates' tags: a department, year or indicator boost."""
        return bool(self.departments or self.years or self.indicators)


@lru_cache(maxsize=1)
def cues() -> dict:
    """The packaged cue file, parsed once."""
    text = resources.files("kb").joinpath("data/query.yaml").read_text("utf-8")
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # libyaml: 0.17 s → ~0.02 s


def understand(query: str, plan_keys: Iterable[str] = (), lexicon=None,
               indicators: Iterable[str] = (), domains: Iterable[str] = ()) -> Intent:
    """Read ``query`` (any length; normalised with NFKC + traditional→simplified).

    ``plan_keys`` are the plans present in the index; ``lexicon`` a kb.departments.Lexicon
    (or None); ``indicators`` the normalised indicator names of the index; ``domains`` its
    发展领域 names.
    """
    q = normalize_query(query)
    c = cues()
    intent = Intent(text=q)
    plans = [p for p in plan_keys if p in q or any(w in q for w in c["plans"].get(p, []))]
    intent.plans = plans if len(plans) == 1 else []
    goal = any(w in q for w in c["sections"]["主要目标"])
    measure = any(w in q for w in c["sections"]["策略措施"])
    intent.section = "主要目标" if goal and not measure else "策略措施" if measure and not goal else None
    intent.years = sorted({int(y) for y in YEAR_RE.findall(q)})
    if lexicon is not None:
        from kb.departments import tag_departments

        intent.departments = sorted({t.name for t in tag_departments(q, lexicon) if t.explicit})
    intent.indicators = mentioned_indicators(q, indicators)
    intent.wants_value = bool(intent.indicators) and any(w in q for w in c["value_question"])
    named = sorted({d for d in domains if d and d in q}, key=len, reverse=True)
    intent.domains = [d for d in named if not any(d != e and d in e for e in named)]
    intent.number = ordinal(q)
    intent.expansions = expansions(q)
    return intent


def expansions(q: str) -> list[str]:
    """Official terms for the everyday words of ``q`` (kb/data/query.yaml ``colloquial``),
    without those already in ``q``. ``expansions("老公打老婆")`` → ['丈夫', '妻子', '家庭暴力']."""
    out: list[str] = []
    for word, terms in cues().get("colloquial", {}).items():
        if word in q:
            out += [t for t in terms if t not in q and t not in out]
    return out


ARTICLE_RE = re.compile(r"第\s*(?:[0-9]{1,4}|[一二两三四五六七八九十百千零〇]{1,8})\s*条")


def asked_families(q: str, named_grammars: Iterable[str] = (), words: Optional[Sequence[str]] = None) -> list[str]:
    """The document families ``q`` speaks of, sorted: "plan" for 规划/纲要, "law" for a law
    word (法律, 法规, 法定, 条例, 依法: ``families`` in kb/data/query.yaml), a 第N条 or a named
    law (``named_grammars``: the grammars of the documents it names, kb.grammars). ``[]`` when
    it speaks of neither: the searcher then weighs the families by SETTINGS.

    ``words``: ``q`` cut into words (kb.segment.Segmenter.words). A cue then counts only as
    the head of a word, its last part (管理条例, 法律法规, 依法), not inside another word
    (法律援助 is aid, 儿童与法律保护 a plan's 发展领域) or across two (保健法|规定 holds 法规).
    Without ``words`` any occurrence counts. Plan dev set on the seed + 16 laws: R@5 0.920 →
    0.932, MRR 0.943 → 0.953 (q031 法律援助), laws unchanged (docs/evaluation.md).

    >>> asked_families("两个规划对家庭暴力分别有哪些规定?"), asked_families("法律上有哪些保障")
    (['plan'], ['law'])
    >>> asked_families("妇女和儿童的法律援助有哪些规定?", words=["妇女", "和", "儿童", "的", "法律援助", "有", "哪些", "规定", "?"])
    []
    """
    cue_words = cues().get("families", {})
    if words is None:
        found = {fam for fam, cue in cue_words.items() if any(w in q for w in cue)}
    else:
        found = {fam for fam, cue in cue_words.items() if any(t.endswith(w) for t in words for w in cue)}
    if ARTICLE_RE.search(q) or "law" in named_grammars:
        found.add("law")
    return sorted(found)


def question_words() -> frozenset[str]:
    """Tokens that only shape a question (规划, 哪些, 措施…): dropped from BM25 queries."""
    return frozenset(cues().get("question_words", []))


_CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


LAST = -1  # ordinal() of 最后一条 / 最后一项 / 末条: the last clause of the section asked about


def ordinal(q: str) -> Optional[int]:
    """N of 第N条/第N项 (Arabic or Chinese numerals up to 99); counted from the end as a
    negative number: ``LAST`` (-1) for 最后一条 / 最后1项 / 末条 / 倒数第一条, -2 for 倒数第二条;
    else None."""
    if re.search(r"最后\s*[一1]?\s*[条项点]|末[条项]", q):
        return LAST
    m = re.search(r"(倒数)?第\s*([0-9]{1,2}|[一二两三四五六七八九十]{1,3})\s*[条项点]", q)
    if not m:
        return None
    s = m[2]
    if s.isdigit():
        n = int(s)
    elif "十" in s:
        tens, _, ones = s.partition("十")
        n = _CN_DIGITS.get(tens, 1) * 10 + _CN_DIGITS.get(ones, 0)
    else:
        n = _CN_DIGITS.get(s)
    return -n if m[1] and n else n


def mentioned_indicators(q: str, indicators: Iterable[str]) -> list[str]:
    """Indicator names contained in ``q`` — as the plans write them, or by another name of
    the statistic in the indicator lexicon (kb/data/indicator_synonyms.yaml, the one the
    actuals import reads: 孕产妇贫血患病率 is the plans' 孕产妇贫血率); when none is contained
    whole, those sharing their longest part (≥ 3 characters ending in 率/比例, e.g. 近视率 for
    小学生近视率)."""
    names, cores, held = _indicator_table(tuple(indicators))
    whole = [i for i in names if i in q]
    whole += [i for i, other in _lexicon_names() if other in q and i in held and i not in whole]
    if whole:
        return [i for i in whole if not any(i != j and i in j for j in whole)]
    return [i for i, core in cores if core in q]


@lru_cache(maxsize=1)
def _lexicon_names() -> tuple[tuple[str, str], ...]:
    """(indicator as the plans write it, another name of it) from the indicator lexicon."""
    from kb.actuals import load_synonyms

    return tuple((i, other) for i, others in load_synonyms().items() for other in others if other)


@lru_cache(maxsize=8)
def _indicator_table(indicators: tuple[str, ...]) -> tuple[list[str], list[tuple[str, str]], frozenset[str]]:
    """(names longest first, [(name, its core)] for the names that have one, the names as a
    set), once per index's indicator list: at the national size (~1,300 names) matching each
    query's cores by regex cost 7 ms a query, and looking the lexicon's names up in the list
    2 ms."""
    names = sorted({i for i in indicators if i}, key=len, reverse=True)
    return names, [(i, c) for i in names if (c := _core(i))], frozenset(names)


def _core(indicator: str) -> Optional[str]:
    m = re.search(r"([\u4e00-\u9fff]{2,4}(?:率|比例|人数|寿命))$", indicator)
    return m[1] if m else None


_PRC = "中华人民共和国"


def document_names(docs: Iterable[dict]) -> dict[str, list[str]]:
    """Names a question may call each document by → {name: [doc ids]}: its title, its short
    title, each without the 中华人民共和国 prefix, and for a part of a code (民法典 婚姻家庭编) the
    code's name and the part's name joined and alone. Names shorter than 3 characters are
    left out. ``docs`` are ``Store.documents()`` rows (id, title, short_title)."""
    out: dict[str, list[str]] = {}
    for d in docs:
        names = set()
        for t in (d.get("title"), d.get("short_title")):
            if not t:
                continue
            t = normalize_query(t).replace("《", "").replace("》", "")
            bare = t[len(_PRC):] if t.startswith(_PRC) else t
            names |= {t, bare, bare.replace(" ", "")}
            parts = bare.split()
            if len(parts) > 1:
                names |= set(parts)
        for n in names:
            if len(n) >= 3 and d["id"] not in out.setdefault(n, []):
                out[n].append(d["id"])
    return out


def named_documents(q: str, names: dict[str, list[str]]) -> list[str]:
    """Ids of the documents ``q`` names (with or without 《》, full or short title), from
    ``document_names``; a name inside a longer named one (母婴保健法 in 母婴保健法实施办法) does
    not count. Both versions of a law share its names, so both are returned."""
    q = normalize_query(q).replace("《", "").replace("》", "").replace(" ", "")
    found = [n for n in names if n in q]
    keep = [n for n in found if not any(n != m and n in m and names[m] != names[n] for m in found)]
    return list(dict.fromkeys(i for n in sorted(keep, key=len, reverse=True) for i in names[n]))
