"""Numeric and direction-only targets of one clause body: text → ``list[Target]``.

``extract_targets(text)`` takes a clause body *without* its leading ``N.`` number and
returns one ``Target`` per (indicator, value, year). The rules are drawn from the 曾都区
notice 曾政发〔2022〕8号 (妇女/儿童发展规划 2021—2030) and kept general; each rule names
the clause it was written for (妇女/妇女与健康/主要目标/2 = plan/domain/section/clause).

Shapes and units:
- ``comparator``: ``>=`` (以上, 不低于, 不少于, 至少, ≥), ``<=`` (以下, 以内, 不超过, ≤,
  N分钟…圈), ``~`` (左右), ``=`` (达到, 提高到, 增至, 设置 N 所…), ``range`` (2—3所),
  ``decrease_by``/``increase_by`` (bare 下降/提高 N%, 以2020年为基数下降20%), and for goals
  with no number ``increase``/``decrease`` (逐步提高, 明显下降; value None).
- ``unit``: ``%``, ``‰``, ``1/10000``, ``1/100000`` (万分之, 十万分之…), ``个百分点``, or a
  count/time unit as written (``名`` ``张`` ``个`` ``所`` ``次`` ``小时`` ``分钟``…).
- ``value_normalized``: rates only, as a fraction of 1 (98% → 0.98, 十万分之九 → 9e-05);
  None for counts and ranges.
- ``evidence`` is ``text[start:end]`` exactly (offsets in the input string).

Never raises on odd input (全角数字, "百分之" with nothing after, a stray %): what cannot be
read as a number is skipped.

>>> [(t.indicator, t.comparator, t.value, t.unit, t.year)
...  for t in extract_targets("到2025年和2030年,产前筛查率分别达80%以上和82%以上")]
[('产前筛查率', '>=', 80.0, '%', 2025), ('产前筛查率', '>=', 82.0, '%', 2030)]
"""
from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Optional

from kb.types import Target

# --- units ---------------------------------------------------------------------------
# Fraction words → (unit, denominator). 百分之/千分之 read as % and ‰.
_FRACTION_UNITS = {"百": ("%", 100), "千": ("‰", 1000), "万": ("1/10000", 10_000),
                   "十万": ("1/100000", 100_000), "百万": ("1/1000000", 1_000_000),
                   "十": ("1/10", 10), "千万": ("1/10000000", 10_000_000)}
_RATE_DENOM = {"%": 100, "‰": 1000, "个百分点": 100, **{u: d for u, d in _FRACTION_UNITS.values()}}
# Count units accepted after an Arabic number even with no comparator word
# (改扩建10所公办幼儿园, 儿童/教育/策略措施/4). Weak units need a comparator word or
# 以上/以下… so that 生命早期1000天 or a 24小时 hotline are not targets.
_STRONG_UNITS = ("名", "张", "个", "所", "家", "处", "座")
_UNIT_RE = r"(?:个百分点|小时|分钟|万元|亿元|%|‰|名|张|个|所|家|处|座|次|人|天|项|户|床|元)"
# A unit followed by one of these characters is a word, not a unit (6个月, 名称, 次数…).
_BAD_NEXT = {"个": "月别性体案", "名": "称义单额誉", "次": "性数", "所": "有在以属得谓",
             "家": "庭长务园乡", "处": "理置罚", "天": "然气", "项": "目", "座": "谈",
             "人": "口员民群次身格大", "元": "素旦"}
_CN = "零〇一二两三四五六七八九十百千万"
_QTY_RE = re.compile(
    r"(?P<range>(?<![\d.])(?P<a>\d+(?:\.\d+)?)\s*(?:%|‰)?\s*[—–~至到-]\s*(?P<b>\d+(?:\.\d+)?)\s*(?P<ur>" + _UNIT_RE + r"))"
    r"|(?P<frac>(?P<den>百万|十万|千万|百|千|万|十)分之(?P<fn>\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百点]+))"
    r"|(?P<num>(?<![\d.第])(?P<n>\d+(?:\.\d+)?)\s*(?P<un>" + _UNIT_RE + r"))"
    r"|(?P<cn>(?<![" + _CN + r"第统唯之])(?P<c>[" + _CN + r"]+(?:点[零〇一二三四五六七八九]+)?)(?P<uc>" + _UNIT_RE + r"))")

# --- comparator words ------------------------------------------------------------------
_SUFFIX_RE = re.compile(r"\s*(及以上|以上|及以下|以下|以内|之内|左右)")
_POST_CMP = {"及以上": ">=", "以上": ">=", "及以下": "<=", "以下": "<=", "以内": "<=",
             "之内": "<=", "左右": "~"}
_GE = {"不低于", "不少于", "至少", "最少", "不得低于", "高于", "超过", "达到或超过", "≥", ">="}
_LE = {"不高于", "不超过", "低于", "≤", "<=", "不得超过"}
_DOWN_BY = {"下降", "降低", "减少"}
_UP_BY = {"提高", "提升", "增加", "增长"}
_CUE_RE = re.compile(
    r"以(?P<base>\d{4})年为(?:基数|基准|基础)(?P<bdir>下降|降低|减少|提高|提升|增长|增加)"
    r"|达到并保持在|达到或超过|稳定在|保持在|控制在|控制到|下降至|下降到|降低到|降低至|降至|降到"
    r"|减少到|减少至|减至|提高到|提高至|提升到|提升至|增加到|增加至|增长到|增长至|增至|上升到|上升至"
    r"|达到|不得低于|不低于|不少于|不得超过|不高于|不超过|至少|最少|高于|超过|低于|>=|<=|≥|≤"
    r"|下降|降低|减少|提高|提升|增加|增长|达|为")
# What may stand between the comparator word and the number: 分别/均/各, an action verb
# (至少配备1名, 儿童/儿童与健康/策略措施/2) or "…的" (不低于市定考核目标的87%, 妇女/妇女与环境/主要目标/6).
_GAP_RE = re.compile(r"(?:各|分别|均|都)?(?:配备|安排|设置|建设|建立|开展|新建|培养|招收|设立)?"
                     r"|[^,，。、;；]{1,12}的")

# --- context -------------------------------------------------------------------------
_YEAR_RE = re.compile(r"(?:到|至|截至|截止)?(?P<y>(?:\d{4}年(?:底|末)?(?:和|、|及|与)?)+)(?![以度起来内的])")
_FILLER_RE = re.compile(r"^(?:和|及|以及|与|并且|并|且|、|其中|同时|确保|保证|保障|促进|力争|实现|推动|努力|"
                        r"使|让|全区|全市|全县|进一步|\s)+")
_TRAIL_RE = re.compile(r"(?:分别|均|都|各|也|将|要|需|应)+$")
_GENERIC_HEAD_RE = re.compile(r"^其?(?:覆盖率|普及率|达标率|比例|比率|完成率|合格率|参保率)$")
_PER_RE = re.compile(r"每(?:[千万百十]+(?:名|个)?(?:常住)?(?:人口|人|儿童|学生|妇女|户|家庭|新生儿)"
                     r"|天|日|周|月|年|学年|学期"
                     r"|(?:所|个|家|处)[^至配拥设有,，。]{1,20})")
_PER_HAS_RE = re.compile(r"^(每[^,，。]{1,12}?拥有)")
# Indicator heads: a list item ending in one of these is a whole indicator.
_RATE_HEAD_RE = re.compile(r"(?:率|比例|比重|占比|系数|指数)$")
_POP_RE = re.compile(r"^(.*?(?:儿童|妇女|女性|孕产妇|新生儿|婴儿|婴幼儿|学生|青少年|老年人|人群|居民))(?=.)")
_PCT_VERB_RE = re.compile(r"在|建立|接受|参加|参与|享有|开展|达到|获得|拥有|具有|具备|设立|实现|配备|使用|掌握")
_DIR_SUBJ_RE = re.compile(
    r"^(?P<ind>[^,，。;；]{2,40}?(?:率|比例|比重|占比|寿命|差距|水平|覆盖面|人数))"
    r"(?P<q>(?:逐步|不断|明显|持续|稳步|进一步|大幅|显著|有效|逐年)?"
    r"(?P<v>提高|提升|增加|增长|上升|扩大|延长|下降|降低|减少|缩小))$")
_DIR_VERB_RE = re.compile(
    r"^(?P<q>(?:逐步|不断|进一步|稳步|持续|巩固|努力|着力|有效|大力|切实)?"
    r"(?P<v>提高|提升|降低|减少|扩大|缩小|增加))(?P<ind>[^,，。;；]{2,30}?(?:率|比例|比重|占比))$")
_UP = {"提高", "提升", "增加", "增长", "上升", "扩大", "延长"}

_SENT_SEP = "。;；!！?？\n"
_SEG_SEP = ",，:："
_OPEN, _CLOSE = "(（[【", ")）]】"


@dataclass
class _Qty:
    """One number with its unit, at ``start:end`` of the clause text."""

    start: int
    end: int
    unit: str
    value: Optional[float] = None
    vmin: Optional[float] = None
    vmax: Optional[float] = None
    chinese: bool = False
    suffix: str = ""
    suffix_end: int = 0

    @property
    def weak(self) -> bool:
        return self.chinese or (self.unit not in _STRONG_UNITS)


@dataclass
class _Group:
    """Numbers that share one subject and comparator word (分别达80%以上和82%以上)."""

    region: int
    values: list[_Qty]
    end: int
    chained: bool = False
    circle: str = ""
    obj_end: int = 0
    pct_groups: list[str] = field(default_factory=list)


def extract_targets(text: str) -> list[Target]:
    """Targets of one clause body (no leading clause number), in text order.

    Returns ``[]`` for text with no target. Offsets and ``evidence`` refer to ``text``.
    """
    if not text or not text.strip():
        return []
    t = _mask(_normalize(text))
    qtys = _quantities(t)
    out: list[Target] = []
    for a, b in _split(t, _SENT_SEP, 0, len(t)):
        out.extend(_sentence(text, t, a, b, [q for q in qtys if a <= q.start < b]))
    return _dedup(out)


def normalize_indicator(s: str) -> str:
    """Indicator as compared and searched: NFKC, no spaces/quotes/的, no leading 确保/全区….

    >>> normalize_indicator("确保孕产妇的贫血率")
    '孕产妇贫血率'
    """
    s = unicodedata.normalize("NFKC", s or "")
    s = re.sub(r"[\s“”\"'‘’]", "", s).replace("的", "")
    s = re.sub(r"[–~-]", "—", s)
    return _FILLER_RE.sub("", s)


# --- text preparation ----------------------------------------------------------------

def _normalize(text: str) -> str:
    """Per-character NFKC (全角数字 → ASCII, ％ → %) that keeps every offset."""
    out = []
    for ch in text:
        n = unicodedata.normalize("NFKC", ch)
        out.append(n if len(n) == 1 else ch)
    return "".join(out)


def _mask(t: str) -> str:
    """Blank out 《…》 titles so law and plan names never yield numbers or years."""
    return re.sub(r"《[^》]*》", lambda m: "□" * len(m.group()), t)


def _split(t: str, seps: str, a: int, b: int) -> list[tuple[int, int]]:
    """Spans of ``t[a:b]`` between separator characters outside brackets, blanks trimmed."""
    spans, depth, start = [], 0, a
    for i in range(a, b):
        ch = t[i]
        depth += (ch in _OPEN) - (ch in _CLOSE and depth > 0)
        if ch in seps and depth == 0:
            spans.append((start, i))
            start = i + 1
    spans.append((start, b))
    return [(x + len(t[x:y]) - len(t[x:y].lstrip()), y - (len(t[x:y]) - len(t[x:y].rstrip())))
            for x, y in spans if t[x:y].strip()]


def _quantities(t: str) -> list[_Qty]:
    """Every number-with-unit in ``t``; Chinese numerals read with cn2an."""
    out = []
    for m in _QTY_RE.finditer(t):
        q = _qty(m)
        if q is None or t[m.end():m.end() + 1] in _BAD_NEXT.get(q.unit, "") and t[m.end():m.end() + 1]:
            continue
        s = _SUFFIX_RE.match(t, m.end())
        q.suffix, q.suffix_end = (s.group(1), s.end()) if s else ("", m.end())
        out.append(q)
    return out


def _qty(m: re.Match) -> Optional[_Qty]:
    try:
        if m.group("range"):
            lo, hi = float(m.group("a")), float(m.group("b"))
            return _Qty(m.start(), m.end(), m.group("ur"), vmin=min(lo, hi), vmax=max(lo, hi)) if lo != hi else None
        if m.group("frac"):
            unit, _ = _FRACTION_UNITS[m.group("den")]
            return _Qty(m.start(), m.end(), unit, value=_number(m.group("fn")), chinese=True)
        if m.group("num"):
            return _Qty(m.start(), m.end(), m.group("un"), value=float(m.group("n")))
        return _Qty(m.start(), m.end(), m.group("uc"), value=_number(m.group("c")), chinese=True)
    except (ValueError, TypeError):
        return None


def _number(s: str) -> float:
    """'98.5' or '九十八点五' → 98.5; raises ValueError when unreadable."""
    if re.fullmatch(r"\d+(?:\.\d+)?", s):
        return float(s)
    import cn2an  # only here: Chinese numerals of a clause body, never headings
    try:
        return float(cn2an.cn2an(s, "smart"))
    except Exception as e:  # cn2an raises bare ValueError/KeyError variants
        raise ValueError(s) from e


# --- one sentence --------------------------------------------------------------------

@dataclass
class _Ctx:
    years: list[int] = field(default_factory=list)
    year_start: Optional[int] = None
    subject: str = ""
    prev_seg: str = ""
    pending: list[tuple[int, int]] = field(default_factory=list)


def _sentence(text: str, t: str, a: int, b: int, qtys: list[_Qty]) -> list[Target]:
    """Targets of one sentence. A 到2025年和2030年 prefix holds for the whole sentence
    (妇女/妇女与健康/主要目标/2)."""
    ctx, out = _Ctx(), []
    for sa, sb in _split(t, _SEG_SEP, a, b):
        m = _YEAR_RE.match(t, sa)
        if m and (m.end() == sb or not t[m.end()].isdigit()):
            ctx.years = [int(y) for y in re.findall(r"\d{4}", m.group("y")) if 1990 < int(y) < 2100]
            ctx.year_start = sa
            sa = m.end()
            if sa >= sb:
                continue
        seg_q = [q for q in qtys if sa <= q.start < sb]
        if not seg_q:
            out.extend(_segment_without_numbers(text, t, sa, sb, ctx))
            continue
        for g in _groups(t, seg_q, sa, sb):
            out.extend(_emit(text, t, g, ctx))
        ctx.prev_seg, ctx.pending = t[sa:sb], []
    return out


def _segment_without_numbers(text: str, t: str, sa: int, sb: int, ctx: _Ctx) -> list[Target]:
    seg = _FILLER_RE.sub("", t[sa:sb])
    if _RATE_HEAD_RE.search(seg) and not re.search(r"提高|降低|下降|减少|增加|提升", seg) and len(seg) <= 30:
        ctx.pending.append((sb - len(seg), sb))  # 保健食品质量抽检合格率,药品…均达98%以上
        return []
    ctx.pending = []
    ctx.prev_seg = t[sa:sb]
    return _direction(text, t, sb - len(seg), sb)


def _groups(t: str, qs: list[_Qty], sa: int, sb: int) -> list[_Group]:
    """Cut a segment into groups: values joined by 和/、 share one subject; a 、 right
    after a value starts a new group whose subject is parallel (小学生每天睡眠时间达到10小时、
    初中生达到9小时, 儿童/儿童与健康/策略措施/10)."""
    groups, region, chained, i = [], sa, False, 0
    while i < len(qs):
        q = qs[i]
        g = _Group(region, [q], q.suffix_end, chained)
        i += 1
        if q.unit == "%" and t[q.end:q.end + 1] == "的" and not q.suffix:
            i = _pct_of(t, qs, i, g, sb)
        else:
            while i < len(qs) and re.fullmatch(r"\s*(?:和|、|及|与|或)\s*", t[g.end:qs[i].start]) \
                    and _same_kind(qs[i].unit, q.unit):
                g.values.append(qs[i])
                g.end = qs[i].suffix_end
                i += 1
            c = re.match(r"[”\"]?([^,，。、“”\d]{0,12}?圈)[”\"]?", t[g.end:sb]) if q.unit == "分钟" else None
            if c:
                g.circle, g.end = c.group(1), g.end + c.end()
        groups.append(g)
        nxt = qs[i].start if i < len(qs) else sb
        cut = t.rfind("、", g.end, nxt)
        chained = t[g.end:g.end + 1] == "、"
        region = g.end + 1 if chained else (cut + 1 if cut >= 0 and i < len(qs) else g.end)
        g.obj_end = region - 1 if (chained or (cut >= 0 and i < len(qs))) else nxt
    return groups


def _same_kind(u: str, v: str) -> bool:
    """Units that can share one list: equal, or both rates (万分之一以下和十万分之九以下)."""
    return u == v or (u in _RATE_DENOM and v in _RATE_DENOM)


def _pct_of(t: str, qs: list[_Qty], i: int, g: _Group, sb: int) -> int:
    """95%的城市社区和85%的农村社区(村)建立家长学校… (儿童/儿童与家庭/主要目标/5): each
    share is the rate of its population group; the predicate after the last group is shared."""
    while i < len(qs) and qs[i].unit == "%" and t[qs[i].end:qs[i].end + 1] == "的" \
            and re.fullmatch(r"[^,，。]*?(?:和|、|及|与)", t[g.values[-1].end + 1:qs[i].start]):
        g.pct_groups.append(re.sub(r"(?:和|、|及|与)$", "", t[g.values[-1].end + 1:qs[i].start]))
        g.values.append(qs[i])
        i += 1
    g.pct_groups.append(t[g.values[-1].end + 1:sb])
    g.end = sb
    return i


def _cue(t: str, a: int, q: _Qty) -> Optional[re.Match]:
    """The comparator word that governs ``q``: the last one in ``t[a:q.start]`` separated
    from the number only by an allowed gap."""
    best = None
    for m in _CUE_RE.finditer(t, a, q.start):
        if _GAP_RE.fullmatch(t, m.end(), q.start):
            best = m
    return best


def _emit(text: str, t: str, g: _Group, ctx: _Ctx) -> list[Target]:
    q0 = g.values[0]
    cue = _cue(t, g.region, q0)
    subj_end = cue.start() if cue else q0.start
    subject, flags = _subject(t, g.region, subj_end, g, ctx)
    if g.pct_groups:
        return _emit_pct(text, g, subject, ctx)
    if not cue and not q0.suffix and not g.circle and (q0.weak or q0.unit in _RATE_DENOM):
        return []
    obj, end = "", g.end
    if q0.unit not in _RATE_DENOM and not g.circle:
        obj = t[g.end:max(g.end, g.obj_end)].strip()
        obj = "" if _CUE_RE.match(obj) else obj
        end = g.end + len(t[g.end:max(g.end, g.obj_end)].rstrip()) if obj else g.end
    if not subject and not obj and not g.circle:
        return []
    ind = subject + obj
    if g.circle:
        ind = re.sub(r"^(?:打造|建设|构建|建成|形成)", "", subject) + g.circle
    ind = _with_head(ind, q0.unit) if not g.circle else ind
    inds = _split_list(ind, flags) if q0.unit in _RATE_DENOM and "~" not in flags else [ind]
    if ctx.pending and ("均" in flags or "分别" in flags):
        inds = [_FILLER_RE.sub("", t[x:y]) for x, y in ctx.pending] + inds
    region = g.region + len(re.match(r"(?:和|及|以及|与|、|\s)*", t[g.region:]).group())
    start = min([region] + [x for x, _ in ctx.pending]) if ctx.pending else region
    if ctx.years and ctx.year_start is not None:
        start = min(start, ctx.year_start)
    per = _per(subject)
    targets = []
    for ind, q, year in _pairs(inds, g.values, ctx.years, "分别" in flags):
        targets.append(_target(text, ind, q, year, cue, g, per, start, end))
    return targets


def _subject(t: str, a: int, b: int, g: _Group, ctx: _Ctx) -> tuple[str, str]:
    """Subject of a group and its 分别/均 flags; inherits from the sentence when empty."""
    raw = t[a:b].strip()
    raw = re.sub(r"^[“”\"]+|[“”\"]+$", "", raw)
    s = _FILLER_RE.sub("", raw)
    flags = ""
    m = _TRAIL_RE.search(s)
    if m:
        flags, s = m.group(), s[:m.start()]
    if not s:
        return ctx.subject, flags
    if _GENERIC_HEAD_RE.match(s) and ctx.prev_seg:
        # 各镇、街道、管委会建立未成年人保护站,覆盖率达到100% (儿童/儿童与福利/主要目标/8):
        # the rate belongs to the previous segment's noun phrase (up to its first 的).
        s = _FILLER_RE.sub("", ctx.prev_seg).split("的")[0] + s
        flags += "~"
    elif g.chained and ctx.subject and not _RATE_HEAD_RE.search(s) and len(s) <= 4:
        s = _parallel(s, ctx.subject)
    ctx.subject = s
    return s, flags


def _parallel(s: str, prev: str) -> str:
    """Complete a short chained subject from the previous one: 初中生 after 小学生每天睡眠时间
    → 初中生每天睡眠时间; 床位 after 每千名儿童拥有儿科…医生 → 每千名儿童拥有床位."""
    m = _PER_HAS_RE.match(prev)
    if m and not s.startswith("每"):
        return m.group(1) + s
    toks = _tokens(prev)
    if toks and len(toks[0]) == len(s) and toks[0][-1] == s[-1]:
        return s + prev[len(toks[0]):]
    return s


def _with_head(ind: str, unit: str) -> str:
    """Name counts and durations as such: …医生 → …医生数, …运动 → …运动时间."""
    if unit in _RATE_DENOM or not ind:
        return ind
    if unit in ("小时", "分钟", "天"):
        return ind if re.search(r"时间|时长$", ind) else ind + "时间"
    if unit == "次":
        return ind if ind.endswith("次数") else ind + "次数"
    return ind if re.search(r"[数量额]$", ind) else ind + "数"


def _split_list(ind: str, flags: str) -> list[str]:
    """One indicator per list item, sharing head and population prefix.

    Split when two items are whole rates (贫血患病率和生长迟缓率, 儿童/儿童与健康/主要目标/8),
    or the list is enumerated with 、 or governed by 均/分别 and ends in a rate
    (孕产妇艾滋病、梅毒和乙肝检测率, 妇女/妇女与健康/策略措施/6). A lone "A和B…率" stays one
    indicator (公办幼儿园和普惠性民办幼儿园覆盖率, 儿童/儿童与教育/主要目标/2).
    """
    if ind.startswith("每"):
        return [ind]
    parts = _list_parts(ind)
    whole = [p for p in parts if _RATE_HEAD_RE.search(p)]
    if len(parts) < 2 or not _RATE_HEAD_RE.search(parts[-1]):
        return [ind]
    if len(whole) < 2 and "、" not in ind and not flags:
        return [ind]
    if any(len(p) < 2 for p in parts):
        return [ind]  # 初、中、高级女性专业技术人员的比例: abbreviated items, keep whole
    out, run = [], []
    for p in parts:
        if not _RATE_HEAD_RE.search(p):
            run.append(p)
            continue
        if run:
            item, head = _head(p, run[-1])
            prefix, run[0] = _prefix(run[0], item)
            out.extend(prefix + r + head for r in run)
            p = p if p.startswith(prefix) else prefix + p
        out.append(p)
        run = []
    pop = _POP_RE.match(out[0])
    if pop:
        out = [o if _POP_RE.match(o) or i == 0 else pop.group(1) + o for i, o in enumerate(out)]
    return out


def _list_parts(s: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    i = 0
    while i < len(s):
        ch = s[i]
        depth += (ch in _OPEN) - (ch in _CLOSE and depth > 0)
        # Only 、 and 和 separate items: 及/与 live inside words (普及率, 参与率).
        if depth == 0 and (ch == "、" or (ch == "和" and s[i + 1:i + 2] not in "谐睦平")) and cur:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
        i += 1
    parts.append(cur)
    return [p for p in parts if p]


def _head(last: str, model: str) -> tuple[str, str]:
    """Split the last list item into (item, shared head) so that the item is as long as the
    item before it: 乙肝检测率 after 梅毒 → (乙肝, 检测率)."""
    toks = _tokens(last)
    best, acc = (last, ""), ""
    cands = []
    for tok in toks[:-1]:
        acc += tok
        cands.append((abs(len(acc) - len(model)), len(acc), acc))
    if cands:
        _, _, item = min(cands)
        best = (item, last[len(item):])
    return best


def _prefix(first: str, item: str) -> tuple[str, str]:
    """Split the first list item into (shared prefix, item): 孕产妇艾滋病 → (孕产妇, 艾滋病)."""
    toks = _tokens(first)
    cands, acc = [], ""
    for tok in reversed(toks):
        acc = tok + acc
        cands.append((abs(len(acc) - len(item)), len(acc), acc))
    _, _, it = min(cands) if cands else (0, 0, first)
    return first[:len(first) - len(it)], it


_JIEBA = None


def _tokens(s: str) -> list[str]:
    """Words of a short phrase (own jieba instance, loaded on first use)."""
    global _JIEBA
    if _JIEBA is None:
        import jieba
        jieba.setLogLevel(logging.WARNING)
        _JIEBA = jieba.Tokenizer()
    return [w for w in _JIEBA.lcut(s) if w]


def _per(subject: str) -> Optional[str]:
    m = _PER_RE.search(subject)
    return m.group().rstrip("、") if m else None


def _pairs(inds: list[str], values: list[_Qty], years: list[int], fenbie: bool):
    """(indicator, value, year) triples: 分别 pairs values with years or with indicators."""
    k, m, y = len(inds), len(values), len(years)
    one_year = years[0] if y == 1 else None
    if m == 1:
        return [(i, values[0], yr) for i in inds for yr in (years or [None])]
    if k == 1 and m == y:
        return [(inds[0], v, yr) for v, yr in zip(values, years)]
    if k == m:
        return [(i, v, one_year) for i, v in zip(inds, values)]
    return [(i, v, one_year) for i in inds for v in values]


def _target(text: str, ind: str, q: _Qty, year: Optional[int], cue: Optional[re.Match],
            g: _Group, per: Optional[str], start: int, end: int) -> Target:
    suffix = q.suffix or next((v.suffix for v in g.values[g.values.index(q):] if v.suffix), "")
    word = cue.group() if cue else ""
    baseline = int(cue.group("base")) if cue and cue.group("base") else None
    bare = cue.group("bdir") if baseline else word
    if bare in _DOWN_BY or bare in _UP_BY:
        comparator = "decrease_by" if bare in _DOWN_BY else "increase_by"
    elif q.vmin is not None:
        comparator = "range"
    elif suffix:
        comparator = _POST_CMP[suffix]
    elif word in _GE:
        comparator = ">="
    elif word in _LE or g.circle:
        comparator = "<="
    else:
        comparator = "="
    qualifier = f"{word}…{suffix}" if word and suffix else (word or suffix or None)
    denom = _RATE_DENOM.get(q.unit)
    end = max(end, q.suffix_end)
    return Target(
        indicator=ind, comparator=comparator, indicator_norm=normalize_indicator(ind),
        value=q.value, value_min=q.vmin, value_max=q.vmax, unit=q.unit,
        value_normalized=round(q.value / denom, 12) if denom and q.value is not None else None,
        value_text=text[q.start:q.end], year=year, baseline_year=baseline, per=per,
        qualifier=qualifier, evidence=text[start:end], start=start, end=end)


def _emit_pct(text: str, g: _Group, subject: str, ctx: _Ctx) -> list[Target]:
    last = g.pct_groups[-1]
    m = _PCT_VERB_RE.search(last)
    pred = last[m.start():] if m and m.start() > 0 else ""
    groups = [p if p.endswith(pred) and pred else p for p in g.pct_groups[:-1]] + [last[:len(last) - len(pred)]]
    out = []
    for grp, q in zip(groups, g.values):
        ind = f"{pred}的{grp}比例" if pred else f"{grp}比例"
        out.append(Target(
            indicator=ind, comparator="=", indicator_norm=normalize_indicator(ind), value=q.value,
            value_min=q.vmin, value_max=q.vmax, unit="%",  # a range (10%至50%) has no single value
            value_normalized=round(q.value / 100, 12) if q.value is not None else None, value_text=text[q.start:q.end],
            year=ctx.years[0] if len(ctx.years) == 1 else None, qualifier="…%的",
            evidence=text[g.region:g.end], start=g.region, end=g.end))
    return out


def _direction(text: str, t: str, a: int, b: int) -> list[Target]:
    """Goals with no number: 乳腺癌人群筛查率逐步提高 (妇女/妇女与健康/主要目标/3),
    降低人工流产率 (ibid. 4) → comparator increase/decrease, value None."""
    seg = t[a:b]
    m = _DIR_SUBJ_RE.match(seg) or _DIR_VERB_RE.match(seg)
    if not m:
        return []
    comparator = "increase" if m.group("v") in _UP else "decrease"
    ind = m.group("ind")
    inds = _split_list(ind, "") if _RATE_HEAD_RE.search(ind) else [ind]
    return [Target(indicator=i, comparator=comparator, indicator_norm=normalize_indicator(i),
                   qualifier=m.group("q"), evidence=text[a:b], start=a, end=b) for i in inds]


def _dedup(targets: list[Target]) -> list[Target]:
    seen, out = set(), []
    for x in targets:
        key = (x.indicator_norm, x.comparator, x.value, x.value_min, x.value_max, x.unit, x.year)
        if key not in seen:
            seen.add(key)
            out.append(x)
    return out
