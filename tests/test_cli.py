"""The `kb` command line (typer CliRunner) over the session's index of the bundled corpus
(the seed + 16 laws, tests/conftest.py ``corpus_index``); a test about the seed's plans
names it with ``--doc czf-2022-8``.

Values asserted come from the seed (corpus/zengdu/…women-children-plans.txt): e.g. line 50,
妇女/妇女与健康/主要目标/2 "孕产妇死亡率分别控制到万分之一以下和十万分之九以下", and line 563,
儿童/儿童安全/策略措施/3 "预防和控制儿童溺水。…".
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "corpus" / "zengdu" / "zengzhengfa-2022-8-women-children-plans.txt"

# A wide console so rich tables do not fold the Chinese cells we look for.
runner = CliRunner(env={"COLUMNS": "1000"})

CLAUSE_FIELDS = {"id", "doc_id", "plan", "part", "domain", "section", "number", "heading", "text", "path",
                 "targets", "departments"}


def kb(*args, env=None):
    """Invoke `kb ARGS`; stdout and stderr are kept apart (click >= 8.2)."""
    return runner.invoke(app, [str(a) for a in args], env=env)


def kb_json(*args):
    r = kb(*args, "--json")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def snapshot(index: Path) -> dict[str, str]:
    """Every file under the index (symlinks by target) with its sha256: equal ⇔ unchanged."""
    out = {}
    for p in sorted(index.rglob("*")):
        rel = str(p.relative_to(index))
        if p.is_symlink():
            out[rel] = "-> " + str(p.readlink())
        elif p.is_file():
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
        else:
            out[rel] = "dir"
    return out


@pytest.fixture
def session_model(monkeypatch, real_embedder):
    """`kb ingest` (no --model) reuses the session's loaded model instead of loading another."""
    import kb.embed

    monkeypatch.setattr(kb.embed, "load_embedder", lambda spec=None: real_embedder)


# ------------------------------------------------------------------ ingest

def test_ingest_summary_table(corpus_index_copy, session_model):
    r = kb("ingest", SEED, "--index", corpus_index_copy)
    assert r.exit_code == 0, r.stderr
    assert "Ingested 1 document(s)" in r.stdout
    rows = {line.split("│")[3].strip(): line.split("│")[4].strip()
            for line in r.stdout.splitlines() if line.count("│") > 6 and "czf-2022-8" in line}
    # 妇女: 8 domains / 78 goals / 83 measures; 儿童: 7 / 67 / 81 (issue 2, structure.json)
    assert rows["妇女"] == "8 发展领域 · 78 主要目标 · 83 策略措施"
    assert rows["儿童"] == "7 发展领域 · 67 主要目标 · 81 策略措施"
    assert "通知 (plan)" in r.stdout


def test_ingest_json_report(corpus_index_copy, session_model):
    report = kb_json("ingest", SEED, "--index", corpus_index_copy)
    assert report["documents"] == ["czf-2022-8"]
    plans = {p["plan"]: p for p in report["plans"]}
    assert (plans["妇女"]["domains"], plans["妇女"]["goals"], plans["妇女"]["measures"]) == (8, 78, 83)
    assert (plans["儿童"]["domains"], plans["儿童"]["goals"], plans["儿童"]["measures"]) == (7, 67, 81)
    assert plans["妇女"]["targets"] > 0 and plans["儿童"]["departments"] > 0


def test_reingest_keeps_ids_and_counts(corpus_index, corpus_index_copy, session_model):
    before = kb_json("clauses", "--index", corpus_index)
    assert kb("ingest", SEED, "--index", corpus_index_copy).exit_code == 0
    after = kb_json("clauses", "--index", corpus_index_copy)
    assert [c["id"] for c in after] == [c["id"] for c in before]


# ------------------------------------------------------------------ bad input

@pytest.fixture
def bad_files(tmp_path):
    d = tmp_path / "bad"
    d.mkdir()
    (d / "empty.txt").write_bytes(b"")
    (d / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (d / "plan.pdf").write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    (d / "prose.txt").write_text("今天天气很好,我们去公园散步。\n公园里有很多人在跑步和打太极拳。\n", encoding="utf-8")
    return d


@pytest.mark.parametrize("name, says", [
    ("empty.txt", "empty"),
    ("binary.txt", "binary"),
    ("plan.pdf", ".pdf"),
    ("prose.txt", "no plan structure"),
    ("missing.txt", "no such file"),
])
def test_bad_input_exits_1_and_leaves_index_unchanged(corpus_index_copy, bad_files, name, says):
    before = snapshot(corpus_index_copy)
    r = kb("ingest", bad_files / name, "--index", corpus_index_copy)
    assert r.exit_code == 1, (r.stdout, r.stderr)
    assert "error:" in r.stderr and says in r.stderr, r.stderr
    assert name in r.stderr  # the message names the failing file
    assert "Traceback" not in r.stderr + r.stdout
    assert r.stdout == ""
    assert snapshot(corpus_index_copy) == before
    assert len(kb_json("clauses", "--doc", "czf-2022-8", "--index", corpus_index_copy)) == 357


def test_one_bad_file_among_good_ingests_nothing(corpus_index_copy, bad_files):
    before = snapshot(corpus_index_copy)
    r = kb("ingest", SEED, bad_files / "empty.txt", "--index", corpus_index_copy)
    assert r.exit_code == 1
    assert "nothing was ingested" in r.stderr
    assert snapshot(corpus_index_copy) == before


def test_unstructured_text_stored_as_paragraphs_when_allowed(corpus_index_copy, bad_files, session_model):
    before = {d["id"] for d in kb_json("docs", "--index", corpus_index_copy)}
    r = kb("ingest", bad_files / "prose.txt", "--allow-unstructured", "--index", corpus_index_copy)
    assert r.exit_code == 0, r.stderr
    assert "warning" in r.stderr and "paragraphs" in r.stderr
    after = {d["id"] for d in kb_json("docs", "--index", corpus_index_copy)}
    assert before < after and len(after - before) == 1  # the seed and the laws stay


def test_ingest_pdf_of_the_seed_gives_the_same_clauses(corpus_index_copy, session_model):
    """The seed printed to PDF (tests/fixtures/seed-text.pdf: running header, page numbers,
    hard wraps) replaces the .txt with the same 357 clauses."""
    def clauses():  # line numbers are the source text's, so they differ
        return [{k: v for k, v in c.items() if k not in ("line_start", "line_end")}
                for c in kb_json("clauses", "--doc", "czf-2022-8", "--index", corpus_index_copy)]

    before = clauses()
    r = kb("ingest", ROOT / "tests" / "fixtures" / "seed-text.pdf", "--index", corpus_index_copy)
    assert r.exit_code == 0, r.stderr
    assert len(before) == 357 and clauses() == before
    assert [d["source"].endswith("seed-text.pdf") for d in kb_json("docs", "--index", corpus_index_copy)
            if d["id"] == "czf-2022-8"] == [True]


# ------------------------------------------------------------------ browsing JSON

def test_docs_json(corpus_index):
    docs = kb_json("docs", "--index", corpus_index)
    assert len(docs) == 17  # the seed + 16 laws, both versions of 妇女权益保障法 and 未成年人保护法
    d = next(d for d in docs if d["id"] == "czf-2022-8")
    assert d["clauses"] == 357 and d["doc_type"] == "通知"
    assert d["meta"]["发文字号"] == "曾政发〔2022〕8号"
    assert d["meta"]["成文日期"] == "2022-12-29"
    assert [p["key"] for p in d["meta"]["plans"]] == ["妇女", "儿童"]


def test_tree_json(corpus_index):
    nodes = kb_json("tree", "--index", corpus_index)
    assert nodes[0]["kind"] == "document"
    assert {"id", "doc_id", "kind", "title", "parent_id", "path"} <= set(nodes[0])
    domains = [n["title"] for n in nodes if n["kind"] == "domain"]
    assert len(domains) == 15 and "儿童安全" in domains
    top = kb_json("tree", "czf-2022-8", "--depth", "1", "--index", corpus_index)
    assert [n["title"] for n in top if n["kind"] == "plan"] == ["曾都区妇女发展规划(2021—2030年)",
                                                               "曾都区儿童发展规划(2021—2030年)"]


def test_clauses_json_contract(corpus_index):
    rows = kb_json("clauses", "--doc", "czf-2022-8", "--index", corpus_index)
    assert len(rows) == 357
    for c in rows:
        assert CLAUSE_FIELDS <= set(c), CLAUSE_FIELDS - set(c)
        assert isinstance(c["path"], list) and isinstance(c["targets"], list)
        if c["part"] != "发展领域、主要目标和策略措施":
            assert c["domain"] is None, c["id"]
    measures = kb_json("clauses", "--plan", "儿童", "--domain", "儿童安全", "--section", "策略措施",
                       "--index", corpus_index)
    assert measures[2]["number"] == 3 and measures[2]["heading"] == "预防和控制儿童溺水"
    assert measures[2]["path"] == ["曾都区儿童发展规划(2021—2030年)", "发展领域、主要目标和策略措施",
                                   "儿童安全", "策略措施", "3"]


def test_clauses_unknown_filter(corpus_index):
    r = kb("clauses", "--domain", "儿童安", "--index", corpus_index)
    assert r.exit_code == 1 and "儿童安全" in r.stderr


def test_show_path_prints_heading(corpus_index):
    r = kb("show", "儿童/儿童安全/策略措施/3", "--index", corpus_index)
    assert r.exit_code == 0, r.stderr
    assert "预防和控制儿童溺水" in r.stdout
    assert "学校每年至少安排1次预防溺水和应急救援知识技能教育" in r.stdout
    assert "儿童/儿童安全/策略措施/2" in r.stdout  # previous neighbour


def test_show_json(corpus_index):
    d = kb_json("show", "儿童/儿童安全/策略措施/3", "--index", corpus_index)
    assert d["id"] == "czf-2022-8.ertong.p2.d2.m3"
    c = d["clause"]
    assert CLAUSE_FIELDS <= set(c)
    assert (c["plan"], c["domain"], c["section"], c["number"]) == ("儿童", "儿童安全", "策略措施", 3)
    assert c["text"].startswith("预防和控制儿童溺水。加强看护并落实监护责任")
    assert {t["name"] for t in c["departments"]} >= {"区应急管理局", "区水利和湖泊局"}  # 溺水 cue
    assert d["next"]["heading"] == "预防和控制儿童道路交通伤害"


@pytest.mark.parametrize("key,first_line,node", [
    ("反家庭暴力法", "中华人民共和国反家庭暴力法", "fanjiatingbaolifa-2015-12-27"),            # a short title: the document
    ("妇女权益保障法", "中华人民共和国妇女权益保障法", "funvquanyibaozhangfa-2022-10-30"),   # … its current version
    ("反家庭暴力法/第二十三条", "中华人民共和国反家庭暴力法 › 第四章 人身安全保护令 › 第二十三条",
     "fanjiatingbaolifa-2015-12-27.a23"),                                               # the law's name leads
    ("儿童/儿童安全/策略措施/3", "曾都区儿童发展规划(2021—2030年) › 发展领域、主要目标和策略措施 › 儿童安全 › 策略措施 › 3",
     "czf-2022-8.ertong.p2.d2.m3"),                                                     # the notice left out
])
def test_show_breadcrumb_and_documents_by_title(corpus_index, key, first_line, node):
    r = kb("show", key, "--index", corpus_index)
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == first_line and lines[1] == node


def test_show_unknown_path(corpus_index):
    r = kb("show", "儿童/儿童安全/策略措施/99", "--index", corpus_index)
    assert r.exit_code == 1 and "no clause at path" in r.stderr


# ------------------------------------------------------------------ targets

def test_targets_2030_json_has_maternal_mortality(corpus_index):
    rows = kb_json("targets", "--year", "2030", "--index", corpus_index)
    assert rows and all(t["clause_id"] and t["short_path"] for t in rows)
    assert all(t["year"] == 2030 or (t["year"] is None and t["year_implied"] == 2030) for t in rows)
    mmr = [t for t in rows if t["indicator"] == "孕产妇死亡率" and t["year"] == 2030]
    assert len(mmr) == 1
    # the undated 降低孕产妇死亡率 of 策略措施 3 is due by the plan's end, 2030
    assert any(t["indicator"] == "孕产妇死亡率" and t["comparator"] == "decrease" and t["year_implied"] == 2030
               for t in rows)
    t = mmr[0]
    assert (t["comparator"], t["value"], t["unit"]) == ("<=", 9, "1/100000")
    assert t["value_normalized"] == pytest.approx(9e-05)
    assert t["clause_id"] == "czf-2022-8.funv.p2.d1.g2"
    assert "十万分之九以下" in t["evidence"]


def test_targets_table(corpus_index):
    r = kb("targets", "--indicator", "近视率", "--index", corpus_index)
    assert r.exit_code == 0, r.stderr
    for text in ("儿童/儿童与健康/主要目标/10", "小学生近视率", "38%", "初中生近视率", "60%", "降至…以下"):
        assert text in r.stdout, text
    r = kb("targets", "--year", "2030", "--plan", "妇女", "--index", corpus_index)
    assert "孕产妇死亡率" in r.stdout and "9/100000" in r.stdout


def test_targets_filters(corpus_index):
    kids = kb_json("targets", "--plan", "儿童", "--indicator", "近视率", "--index", corpus_index)
    assert {(t["indicator"], t["value"]) for t in kids} >= {("小学生近视率", 38), ("初中生近视率", 60),
                                                           ("高中生近视率", 70)}
    assert kb_json("targets", "--plan", "妇女", "--indicator", "近视率", "--index", corpus_index) == []
    r = kb("targets", "--indicator", "不存在的指标", "--index", corpus_index)
    assert r.exit_code == 0 and "no targets match" in r.stderr


def test_targets_csv_has_bom_and_chinese(corpus_index, tmp_path):
    f = tmp_path / "targets.csv"
    r = kb("targets", "--csv", f, "--index", corpus_index)
    assert r.exit_code == 0, r.stderr
    assert str(f) in r.stderr and r.stdout == ""
    raw = f.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("clause_id,short_path,indicator")
    assert "孕产妇死亡率" in text and "妇女/妇女与健康/主要目标/2" in text
    n = len(kb_json("targets", "--index", corpus_index))
    assert f"wrote {n} targets" in r.stderr


def test_targets_csv_unwritable(corpus_index, tmp_path):
    r = kb("targets", "--csv", tmp_path / "no-such-dir" / "t.csv", "--index", corpus_index)
    assert r.exit_code == 1 and "cannot write" in r.stderr


# ------------------------------------------------------------------ departments

def test_departments_counts(corpus_index):
    rows = kb_json("departments", "--index", corpus_index)
    by = {r["name"]: r for r in rows}
    assert {"name", "explicit", "inferred", "type"} <= set(rows[0])
    assert by["区教育局"]["explicit"] >= 2 and by["区教育局"]["inferred"] > 30
    assert by["区统计局"]["type"] == "government"
    r = kb("departments", "--index", corpus_index)
    assert r.exit_code == 0 and "区妇儿工委" in r.stdout and "区教育局" in r.stdout


def test_department_explicit_first(corpus_index):
    d = kb_json("departments", "区教育局", "--doc", "czf-2022-8", "--index", corpus_index)
    assert d["name"] == "区教育局"
    flags = [c["explicit"] for c in d["clauses"]]
    assert flags[0] and flags == sorted(flags, reverse=True)
    first = d["clauses"][0]
    # "构建完善包含教育、公安、应急、卫健、司法、市场监管等多部门合作的儿童伤害防控工作机制"
    assert first["short_path"] == "儿童/儿童安全/策略措施/2" and first["evidence"] == "教育"
    drowning = next(c for c in d["clauses"] if c["short_path"] == "儿童/儿童安全/策略措施/3")
    assert drowning["explicit"] is False and drowning["cue"] == "学校"

    r = kb("departments", "区教育局", "--doc", "czf-2022-8", "--index", corpus_index)
    assert r.exit_code == 0, r.stderr
    out = r.stdout
    assert "区教育局: 2 explicit" in out
    assert out.index("儿童/儿童安全/策略措施/2") < out.index("推断:学校")


def test_department_alias_resolves(corpus_index):
    assert kb_json("departments", "卫健", "--index", corpus_index)["name"] == "区卫生健康局"


def test_department_group_shows_each_body(corpus_index):
    found = kb_json("departments", "区妇儿工委及其办公室", "--index", corpus_index)
    assert [d["name"] for d in found] == ["区妇儿工委", "区妇儿工委办公室"]
    assert all(d["clauses"] for d in found)
    r = kb("departments", "区妇儿工委及其办公室", "--index", corpus_index)
    assert "区妇儿工委:" in r.stdout and "区妇儿工委办公室:" in r.stdout


def test_unknown_department_suggests(corpus_index):
    r = kb("departments", "区教育", "--index", corpus_index)
    assert r.exit_code == 1
    assert "unknown department" in r.stderr and "区教育局" in r.stderr
    assert r.stdout == ""  # never everything


# ------------------------------------------------------------------ index location

def test_kb_index_env_is_honoured(corpus_index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = kb("docs", "--json", env={"KB_INDEX": str(corpus_index)})
    assert r.exit_code == 0, r.stderr
    assert "czf-2022-8" in {d["id"] for d in json.loads(r.stdout)}


@pytest.mark.parametrize("args", [["docs"], ["targets"], ["departments"], ["departments", "区教育局"],
                                  ["show", "儿童/儿童安全/策略措施/3"], ["clauses", "--json"]])
def test_missing_index_says_run_ingest(tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    r = kb(*args, env={"KB_INDEX": None})
    assert r.exit_code == 1
    assert "run `kb ingest" in r.stderr
    r = kb(*args, "--index", tmp_path / "nowhere")
    assert r.exit_code == 1 and "nowhere" in r.stderr and "run `kb ingest" in r.stderr


# ------------------------------------------------------------------ errors found by a fresh-user trial

def test_batch_reads_gb18030_and_keeps_line_order(corpus_index, tmp_path):
    f = tmp_path / "q.txt"
    f.write_bytes("儿童溺水\n\n宫颈癌筛查\n".encode("gb18030"))
    r = kb("search", "--batch", f, "--json", "-k", "3", "--index", corpus_index)
    assert r.exit_code == 0, r.stderr
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(lines) == 3 and lines[1] == []
    assert lines[0][0]["id"] == "czf-2022-8.ertong.p2.d2.m3"


@pytest.mark.parametrize("args,message", [
    (["search", "--batch", "/bin/ls"], "binary"),
    (["search", "--batch", "nope.txt"], "no such file"),
    (["search", "溺水", "--batch", "nope.txt"], "not both"),
    (["eval", "/bin/ls"], "binary"),
    (["ask", " "], "give a question"),
    (["show", "czf-2022-8.ertong.p2.d2.m33"], "did you mean czf-2022-8.ertong.p2.d2.m3"),
])
def test_bad_arguments_say_what_to_fix(corpus_index, args, message):
    r = kb(*args, "--index", corpus_index)
    assert r.exit_code != 0 and message in r.stderr + r.stdout


def test_search_unknown_plan_exits_1_listing_the_known(corpus_index):
    """An unknown value exits 1 listing the known values (README), as kb clauses does;
    known values no clause combines give [] and say so."""
    r = kb("search", "溺水", "--plan", "老年", "--json", "--index", corpus_index)
    assert r.exit_code == 1 and r.stdout == ""
    assert "known: 儿童, 妇女" in r.stderr
    r = kb("search", "溺水", "--plan", "儿童", "--domain", "妇女与健康", "--json", "--index", corpus_index)
    assert r.exit_code == 0 and json.loads(r.stdout) == [] and "no clause matches" in r.stderr
