"""The plans of a knowledge base as monitoring sees them: which area (地区) each covers and
its period, read from the documents' metadata (``meta["plans"]``, written by ``kb.parse``).

The area is the administrative unit a plan's title starts with: 曾都区妇女发展规划
(2021—2030年) → 曾都区; when the title names none, the issuing body without 人民政府
(发文单位 曾都区人民政府 → 曾都区).

>>> area_of("曾都区儿童发展规划(2021—2030年)")
'曾都区'
>>> region_matches("曾都", "曾都区"), region_matches("随州市曾都区", "曾都区"), region_matches("随县", "曾都区")
(True, True, False)
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Optional

# Administrative units, longest first so that 自治县 wins over 县.
_AREA_RE = re.compile(r"^(?P<area>.{1,12}?(?:自治区|自治州|自治县|特别行政区|省|市|地区|盟|州|区|县|旗|镇|乡|街道))"
                      r"(?=.*(?:规划|纲要|方案|计划))")
_ISSUER_RE = re.compile(r"(?:人民政府|政府|办公室|委员会)$")


@dataclass(frozen=True)
class PlanInfo:
    """One plan: ``doc_id`` and ``key`` (妇女/儿童) identify it, ``area`` is the 地区 its
    targets apply to, ``period`` its (first, last) year, e.g. (2021, 2030), or None."""

    doc_id: str
    key: str
    title: str
    area: str
    period: Optional[tuple[int, int]] = None

    @property
    def base_year(self) -> Optional[int]:
        """The year before the period starts (2020 for 2021—2030): the plans' usual 基数."""
        return self.period[0] - 1 if self.period else None

    @property
    def end_year(self) -> Optional[int]:
        return self.period[1] if self.period else None


def area_of(title: str, issuer: str = "") -> str:
    """The 地区 a plan covers, from its title, else from the issuing body; "" when neither names one."""
    m = _AREA_RE.match(_norm(title))
    if m:
        return m["area"]
    return _ISSUER_RE.sub("", _norm(issuer))


def plan_infos(documents: list[dict[str, Any]]) -> list[PlanInfo]:
    """PlanInfo for every plan of ``documents`` (``KnowledgeBase.documents()`` rows)."""
    out = []
    for d in documents:
        meta = d.get("meta") or {}
        for p in meta.get("plans", []):
            period = tuple(p["period"]) if p.get("period") else None
            out.append(PlanInfo(d["id"], p["key"], p.get("title") or "", area_of(p.get("title") or "", meta.get("发文单位", "")),
                                period))
    return out


def region_matches(region: str, area: str) -> bool:
    """True when a 地区 as a statistics office writes it names ``area``: the same name, the
    name without its unit (曾都 for 曾都区), or a longer name ending in it (随州市曾都区)."""
    r, a = _norm(region), _norm(area)
    if not r or not a:
        return False
    return r == a or r.endswith(a) or (len(r) >= 2 and a.startswith(r) and len(a) - len(r) <= 3)


def _norm(s: str) -> str:
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", s or ""))
