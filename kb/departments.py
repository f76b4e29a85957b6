"""Responsible bodies of one clause: text + lexicon → ``list[DepartmentTag]``.

The lexicon is data (``kb/data/departments.yaml``, see its header): canonical district
bodies with a ``type``, aliases, bare abbreviations (``short``), expansions (公检法司 → four
bodies) and subject-matter cues (学校 → 区教育局).

>>> lex = Lexicon.load()
>>> [(t.name, t.role) for t in tag_departments("监测组由区统计局牵头", lex) if t.explicit]
[('监测组', 'participant'), ('区统计局', 'lead')]
"""
from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

from kb.errors import LexiconError
from kb.types import DepartmentTag

DEFAULT_PATH = Path(__file__).parent / "data" / "departments.yaml"
BODY_TYPES = ("government", "party", "mass_organization", "people_congress_cppcc",
              "coordination_body", "judicial", "public_institution", "grassroots_body")
# Role: the body is followed by 牵头/负责/组织 (区统计局牵头组织开展年度监测, 妇女/监测评估/1).
_LEAD_RE = re.compile(r"(?:等(?:相关|有关)?(?:部门|单位))?(?:要|应|应当|共同|具体)?(?:牵头|负责|组织)")
# A list of departments ends in 等 with 部门 shortly after (等多部门, 等儿童关爱保护多部门).
_LIST_END_RE = re.compile(r"等[^,，。;；、]{0,12}?部门")
# Laws name a body by its function: 县级以上人民政府民政部门, 国务院卫生健康主管部门, 卫生行政部门,
# 人力资源社会保障行政部门 (反家庭暴力法, 母婴保健法, 女职工劳动保护特别规定). A body's ``short``
# name followed by one of these maps the mention to the body, the canonical role that plan
# clauses name as a district department (区民政局).
FUNCTION_SUFFIXES = ("部门", "主管部门", "行政部门", "行政主管部门")


@dataclass
class Body:
    """One canonical body of the lexicon."""

    name: str
    type: str
    aliases: tuple[str, ...] = ()
    short: tuple[str, ...] = ()


@dataclass
class Cue:
    """Subject-matter terms and the bodies they imply."""

    terms: tuple[str, ...]
    bodies: tuple[str, ...]


def _nfkc(s: str) -> str:
    """Per-character NFKC that keeps string length (and so offsets)."""
    if unicodedata.is_normalized("NFKC", s):  # most text: one C call instead of one per character
        return s
    return "".join(n if len(n := unicodedata.normalize("NFKC", c)) == 1 else c for c in s)


@functools.lru_cache(maxsize=None)
def _nfkc_term(term: str) -> str:
    """``_nfkc`` of a lexicon term, computed once (tagging the national corpus looks up every
    cue term in each of its 64,665 articles)."""
    return _nfkc(term)


class Lexicon:
    """Department lexicon loaded from YAML; see ``kb/data/departments.yaml``.

    ``names``: canonical names in file order. ``sha256``: hex digest of the file bytes.
    """

    def __init__(self, bodies: list[Body], expansions: dict[str, tuple[str, ...]],
                 cues: list[Cue], sha256: str = "", source: str = "<memory>"):
        self.bodies = {b.name: b for b in bodies}
        self.names = [b.name for b in bodies]
        self.expansions = expansions
        self.cues = cues
        self.sha256 = sha256
        self.source = source
        self._surface: dict[str, tuple[str, ...]] = {}
        self._short: dict[str, str] = {}
        for b in bodies:
            for s in (b.name, *b.aliases):
                self._surface[_nfkc(s)] = (b.name,)
            for s in b.short:
                self._short[_nfkc(s)] = b.name
                for suffix in FUNCTION_SUFFIXES:
                    self._surface.setdefault(_nfkc(s) + suffix, (b.name,))
        for k, v in expansions.items():
            self._surface[_nfkc(k)] = v
        self._by_length = sorted(self._surface, key=len, reverse=True)

    @classmethod
    def load(cls, path: Union[str, Path, None] = None) -> "Lexicon":
        """Read a lexicon file (None = the packaged ``kb/data/departments.yaml``).

        Raises ``LexiconError`` naming the file (and line, for YAML syntax errors) when the
        file is missing, not YAML, or names an unknown body or type.
        """
        import yaml

        p = Path(path) if path is not None else DEFAULT_PATH
        try:
            raw = p.read_bytes()
        except OSError as e:
            raise LexiconError(f"cannot read department lexicon {p}: {e.strerror}; check the path") from e
        try:
            data = yaml.load(raw.decode("utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except UnicodeDecodeError as e:
            raise LexiconError(f"{p}: not UTF-8 text; save the lexicon as UTF-8") from e
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown line"
            problem = getattr(e, "problem", None) or str(e)
            raise LexiconError(f"{p}: {where}: {problem}; fix the YAML syntax there") from e
        return cls._from_data(data, p, hashlib.sha256(raw).hexdigest())

    @classmethod
    def _from_data(cls, data: object, p: Path, sha: str) -> "Lexicon":
        if not isinstance(data, dict) or not isinstance(data.get("bodies"), list):
            raise LexiconError(f"{p}: expected a mapping with a 'bodies' list; see kb/data/departments.yaml")
        bodies = [_body(b, p, i) for i, b in enumerate(data["bodies"], 1)]
        known = {b.name for b in bodies}
        expansions = {str(k): tuple(_known(v, known, p, f"expansion {k}")) for k, v in (data.get("expansions") or {}).items()}
        cues = [Cue(tuple(map(str, c.get("terms") or ())), tuple(_known(c.get("bodies"), known, p, f"cue {i}")))
                for i, c in enumerate(data.get("cues") or [], 1)]
        return cls(bodies, expansions, cues, sha, str(p))

    def resolve(self, name: str) -> Optional[str]:
        """Canonical name for a canonical name, alias or abbreviation; None if unknown or an
        expansion naming several bodies (use ``expand``)."""
        found = self.expand(name)
        return found[0] if len(found) == 1 else None

    def expand(self, name: str) -> list[str]:
        """All canonical bodies a name stands for: 公检法司 → four bodies; [] if unknown."""
        key = _nfkc((name or "").strip())
        if key in self._surface:
            return list(self._surface[key])
        return [self._short[key]] if key in self._short else []

    def suggest(self, name: str, n: int = 5) -> list[str]:
        """Up to ``n`` canonical names close to ``name`` (rapidfuzz WRatio, best first)."""
        from rapidfuzz import fuzz, process

        choices = {s: self._surface.get(s, (self._short.get(s),))[0] for s in [*self._surface, *self._short]}
        out: list[str] = []
        for s, _, _ in process.extract(_nfkc(name), list(choices), scorer=fuzz.WRatio, limit=n * 4):
            canon = choices[s]
            if canon and canon not in out:
                out.append(canon)
        return out[:n]

    def type_of(self, name: str) -> Optional[str]:
        b = self.bodies.get(name)
        return b.type if b else None

    def user_words(self) -> list[str]:
        """Canonical names, aliases, abbreviations, expansions and cue terms, for a segmenter's
        user dictionary (sorted, unique)."""
        words = set(self.names) | set(self._surface) | set(self._short)
        words |= {t for c in self.cues for t in c.terms}
        return sorted(words)

    def mentions(self, t: str) -> list[tuple[int, int, tuple[str, ...]]]:
        """Non-overlapping (start, end, bodies) of names in NFKC text, longest match first."""
        taken = [False] * len(t)
        out = []
        for s in self._by_length:
            i = t.find(s)
            while i >= 0:
                if not any(taken[i:i + len(s)]):
                    taken[i:i + len(s)] = [True] * len(s)
                    out.append((i, i + len(s), self._surface[s]))
                i = t.find(s, i + 1)
        out.extend(m for m in self._list_mentions(t, taken))
        return sorted(out)

    def _list_mentions(self, t: str, taken: list[bool]):
        """Abbreviations inside 教育、公安、应急…等…部门 lists (儿童/儿童安全/策略措施/2)."""
        for m in _LIST_END_RE.finditer(t):
            start = max(t.rfind(c, 0, m.start()) for c in ",，。;；:：") + 1
            pos = start
            for item in t[start:m.start()].split("、"):
                a, b = pos, pos + len(item)
                pos = b + 1
                hit = next((s for s in sorted(self._short, key=len, reverse=True) if item.endswith(s)), None)
                if hit and not any(taken[b - len(hit):b]):
                    taken[b - len(hit):b] = [True] * len(hit)
                    yield (b - len(hit), b, (self._short[hit],))


def _body(b: object, p: Path, i: int) -> Body:
    if not isinstance(b, dict) or not b.get("name"):
        raise LexiconError(f"{p}: body #{i} has no 'name'; every body needs name and type")
    if b.get("type") not in BODY_TYPES:
        raise LexiconError(f"{p}: body {b['name']!r} has type {b.get('type')!r}; use one of {', '.join(BODY_TYPES)}")
    return Body(str(b["name"]), b["type"], tuple(map(str, b.get("aliases") or ())), tuple(map(str, b.get("short") or ())))


def _known(names: object, known: set[str], p: Path, where: str) -> list[str]:
    names = [str(n) for n in (names or [])]
    bad = [n for n in names if n not in known]
    if bad or not names:
        raise LexiconError(f"{p}: {where} names unknown bodies {bad or '(none)'}; use canonical names from 'bodies'")
    return names


def tag_departments(text: str, lexicon: Lexicon) -> list[DepartmentTag]:
    """Explicit tags (named bodies, with evidence and offsets in ``text``; role ``lead`` when
    the name is followed by 牵头/负责/组织) in text order, then inferred tags (``explicit=False``,
    ``cue`` = the triggering term) for bodies the clause does not name."""
    if not text:
        return []
    t = _nfkc(text)
    tags: dict[str, DepartmentTag] = {}
    for a, b, names in lexicon.mentions(t):
        lead = bool(_LEAD_RE.match(t, b)) or bool(re.match(r"[^,，。;；]{0,12}?(?:牵头|负责)", t[b:]) and t[max(0, a - 1):a] == "由")
        for name in names:
            tag = tags.get(name)
            if tag is None:
                tags[name] = DepartmentTag(name, True, "lead" if lead else "participant", text[a:b], a, b)
            elif lead and tag.role != "lead":
                tag.role = "lead"
    out = list(tags.values())
    seen = set(tags)
    for cue in lexicon.cues:
        term = next((w for w in cue.terms if _nfkc_term(w) in t), None)
        if term is None:
            continue
        for name in cue.bodies:
            if name not in seen:
                seen.add(name)
                out.append(DepartmentTag(name, False, "participant", cue=term))
    return out
