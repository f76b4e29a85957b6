"""Tests of kb/targets.py on the seed 曾政发〔2022〕8号 (妇女/儿童发展规划 2021—2030).

Every pattern test runs on a sentence that ``real()`` first checks is a substring of a clause
body of the seed. Gold scoring is shared with ``benchmarks/eval_tagging.py`` (see its
docstring for how precision and recall are computed).
"""
from __future__ import annotations


import pytest
from conftest import load_benchmark

from kb.targets import extract_targets, normalize_indicator

E = load_benchmark("eval_tagging")  # gold scoring shared with benchmarks/eval_tagging.py


@pytest.fixture(scope="session")
def clauses():
    return E.load_clauses()


def rows(text: str, numeric_only: bool = True):
    return [(t.indicator, t.comparator, t.value, t.unit, t.year) for t in extract_targets(text)
            if not numeric_only or t.value is not None or t.value_min is not None]


# --- gold -----------------------------------------------------------------------------

def test_gold_precision_and_recall(clauses):
    gold = E.load_jsonl(E.GOLD_DIR / "targets.dev.jsonl")
    s = E.score_targets(gold, clauses)
    misses = [(r["id"], r["indicator"]) for r in s.misses]
    assert s.recall >= 0.95, misses
    assert s.precision >= 0.95, [(w, t.indicator, t.value) for w, t in s.extras]


def test_evidence_is_exact_span_everywhere(clauses):
    for c in clauses:
        for t in extract_targets(c.text):
            assert c.text[t.start:t.end] == t.evidence and t.evidence, (c.text, t)


# --- patterns, each on a real sentence --------------------------------------------------

def test_fenbie_two_years_and_chinese_fractions(real):
    text = real("到2025年和2030年,产前筛查率分别达80%以上和82%以上,孕产妇死亡率分别控制到万分之一以下和十万分之九以下")
    ts = extract_targets(text)
    assert [(t.indicator, t.comparator, t.value, t.unit, t.year) for t in ts] == [
        ("产前筛查率", ">=", 80, "%", 2025), ("产前筛查率", ">=", 82, "%", 2030),
        ("孕产妇死亡率", "<=", 1, "1/10000", 2025), ("孕产妇死亡率", "<=", 9, "1/100000", 2030)]
    assert [t.value_normalized for t in ts] == [0.8, 0.82, 0.0001, 0.00009]
    assert [t.value_text for t in ts[2:]] == ["万分之一", "十万分之九"]
    assert ts[0].qualifier == "达…以上"


def test_chain_of_indicators_permille_and_decimals(real):
    text = real("到2025年和2030年,新生儿死亡率分别降至3.5‰以下和3‰以下,婴儿死亡率分别控制在5‰以下和4.5‰以下,"
                "5岁以下儿童死亡率分别控制在6‰以下和5.5‰及以下")
    assert rows(text) == [
        ("新生儿死亡率", "<=", 3.5, "‰", 2025), ("新生儿死亡率", "<=", 3, "‰", 2030),
        ("婴儿死亡率", "<=", 5, "‰", 2025), ("婴儿死亡率", "<=", 4.5, "‰", 2030),
        ("5岁以下儿童死亡率", "<=", 6, "‰", 2025), ("5岁以下儿童死亡率", "<=", 5.5, "‰", 2030)]
    assert extract_targets(text)[0].value_normalized == 0.0035


def test_jun_shared_value_one_row_per_indicator(real):
    text = real("孕产妇艾滋病、梅毒、乙肝检测率均达98%以上")
    assert rows(text) == [(f"孕产妇{x}检测率", ">=", 98, "%", None) for x in ("艾滋病", "梅毒", "乙肝")]


def test_jun_across_a_comma(real):
    text = real("保健食品质量抽检合格率,药品、化妆品质量抽检合格率和日常专用消费品质量抽查复查合格率均达98%以上")
    assert [r[0] for r in rows(text)] == ["保健食品质量抽检合格率", "药品质量抽检合格率", "化妆品质量抽检合格率",
                                          "日常专用消费品质量抽查复查合格率"]


def test_enumerated_list_without_jun_and_shared_head(real):
    text = real("艾滋病、梅毒孕产妇感染者治疗率达95%以上")
    assert [r[0] for r in rows(text)] == ["艾滋病孕产妇感染者治疗率", "梅毒孕产妇感染者治疗率"]


def test_fenbie_two_indicators_share_suffix(real):
    text = real("5岁以下儿童贫血患病率和生长迟缓率分别控制在8%和4%以下")
    assert rows(text) == [("5岁以下儿童贫血患病率", "<=", 8, "%", None), ("5岁以下儿童生长迟缓率", "<=", 4, "%", None)]


def test_a_and_b_rate_stays_one_indicator(real):
    text = real("公办幼儿园和普惠性民办幼儿园覆盖率达82%以上")
    assert rows(text) == [("公办幼儿园和普惠性民办幼儿园覆盖率", ">=", 82, "%", None)]


def test_decimal_percent(real):
    assert rows(real("九年义务教育巩固率达到98.5%")) == [("九年义务教育巩固率", "=", 98.5, "%", None)]


def test_per_thousand_decimal_counts_and_chained_subject(real):
    text = real("每千名儿童拥有儿科执业(助理)医生达到1.12名、床位增至3.17张")
    ts = extract_targets(text)
    assert [(t.indicator, t.comparator, t.value, t.unit, t.per) for t in ts] == [
        ("每千名儿童拥有儿科执业(助理)医生数", "=", 1.12, "名", "每千名儿童"),
        ("每千名儿童拥有床位数", "=", 3.17, "张", "每千名儿童")]


def test_range(real):
    t, = extract_targets(real("新建城区义务教育学校2—3所"))
    assert (t.comparator, t.value_min, t.value_max, t.unit, t.value) == ("range", 2, 3, "所", None)


def test_minimum_at_least_with_object(real):
    text = real("每所乡镇卫生院、社区卫生服务中心至少配备1名提供规范儿童基本医疗服务的全科医生,至少配备2名专业从事儿童保健的医生")
    ts = extract_targets(text)
    assert [(t.comparator, t.value, t.unit) for t in ts] == [(">=", 1, "名"), (">=", 2, "名")]
    assert ts[1].indicator == "每所乡镇卫生院、社区卫生服务中心专业从事儿童保健的医生数"
    assert ts[0].per == "每所乡镇卫生院、社区卫生服务中心"


def test_minimum_not_less_than_hours_per_day(real):
    t, = extract_targets(real("确保儿童每天接触户外自然光不少于1小时"))
    assert (t.indicator, t.comparator, t.value, t.unit, t.per, t.qualifier) == (
        "儿童每天接触户外自然光时间", ">=", 1, "小时", "每天", "不少于")


def test_parallel_subjects_after_dunhao(real):
    text = real("保证小学生每天睡眠时间达到10小时、初中生达到9小时、高中生达到8小时")
    assert [r[0] for r in rows(text)] == ["小学生每天睡眠时间", "初中生每天睡眠时间", "高中生每天睡眠时间"]


def test_about(real):
    assert rows(real("就业人员中女性比例保持在46%左右")) == [("就业人员中女性比例", "~", 46, "%", None)]


def test_reach_and_stay_above(real):
    t, = extract_targets(real("高中阶段毛入学率达到并保持在97%以上"))
    assert (t.comparator, t.value, t.qualifier) == (">=", 97, "达到并保持在…以上")


def test_relative_decrease_from_baseline(real):
    t, = extract_targets(real("儿童伤害死亡率以2020年为基数下降20%"))
    assert (t.indicator, t.comparator, t.value, t.unit, t.baseline_year, t.year) == (
        "儿童伤害死亡率", "decrease_by", 20, "%", 2020, None)


def test_per_thousand_population_with_year_and_age_band(real):
    t, = extract_targets(real("2025年,每千人口拥有3岁以下婴幼儿托位数达到4.5个"))
    assert (t.indicator, t.value, t.unit, t.year, t.per) == ("每千人口拥有3岁以下婴幼儿托位数", 4.5, "个", 2025, "每千人口")


def test_time_limit_circles(real):
    text = real("打造中心城区“10分钟急救圈”、非中心城区“15分钟急救圈”,城市15分钟社区卫生服务圈和农村30分钟医疗卫生服务圈")
    assert rows(text) == [("中心城区急救圈", "<=", 10, "分钟", None), ("非中心城区急救圈", "<=", 15, "分钟", None),
                          ("城市社区卫生服务圈", "<=", 15, "分钟", None), ("农村医疗卫生服务圈", "<=", 30, "分钟", None)]


def test_share_of_population_groups(real):
    text = real("95%的城市社区和85%的农村社区(村)建立家长学校或家庭教育指导服务站点")
    assert [(t.comparator, t.value) for t in extract_targets(text)] == [("=", 95), ("=", 85)]
    assert extract_targets(text)[1].indicator == "建立家长学校或家庭教育指导服务站点的农村社区(村)比例"


def test_symbol_and_gap_before_value(real):
    text = real("空气质量优良天数比率不低于市定考核目标的87%,重点城市声环境功能区夜间达标率≥80%")
    assert rows(text) == [("空气质量优良天数比率", ">=", 87, "%", None), ("重点城市声环境功能区夜间达标率", ">=", 80, "%", None)]


@pytest.mark.parametrize("sentence", [
    "关心关爱65岁以上女性老年痴呆病患者",                      # age band
    "推进以视力、听力、肢体、智力及孤独症等五类残疾为重点的0—6岁儿童残疾筛查",  # age band, 五类
    "加强“12338”妇女维权公益服务热线建设",                      # hotline
    "落实母婴安全五项制度",                                      # 五项制度
    "支持妇女投身“一带一路”建设",                               # 一带一路
    "全面实施《国家学生体质健康标准》",                           # law / standard names
    "深入开展《中华人民共和国宪法》《民法典》《中华人民共和国反家庭暴力法》",
    "重视生命早期1000天的健康保障",                              # a number but no target word
    "普及6月龄以上儿童合理添加辅食的知识技能",
    "经营性娱乐场所禁止雇佣不满18周岁的未成年人",
])
def test_not_targets(real, sentence):
    assert rows(real(sentence)) == []


def test_age_band_inside_indicator_is_not_a_target(real):
    assert rows(real("0—6岁儿童眼保健和视力检查覆盖率保持在90%以上")) == [
        ("0—6岁儿童眼保健和视力检查覆盖率", ">=", 90, "%", None)]


def test_years_in_titles_and_clause_numbers():
    assert rows("曾都区妇女发展规划(2021—2030年)") == []
    assert rows("3.提高宫颈癌和乳腺癌的早诊早治率") == []


@pytest.mark.parametrize("sentence,comparator,indicator", [
    ("乳腺癌人群筛查率逐步提高", "increase", "乳腺癌人群筛查率"),
    ("儿童新发近视率明显下降", "decrease", "儿童新发近视率"),
    ("妇女心理健康素养水平不断提升", "increase", "妇女心理健康素养水平"),
    ("降低人工流产率", "decrease", "人工流产率"),
])
def test_direction_only_goals(real, sentence, comparator, indicator):
    t, = [t for t in extract_targets(real(sentence))]
    assert (t.indicator, t.comparator, t.value, t.unit) == (indicator, comparator, None, None)


# --- odd input --------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "", "   ", "百分之", "百分之以上", "十万分之", "达到%以上", "%%%", "比例达到1..2%", "达９９９９９９９９９９９９９９９９９９％以上",
    "达到百分之点以上", "每千人口拥有", "至少配备名医生", "到2025年和2030年,", "分别达和以上", "（一）", "\x00\ufeff",
])
def test_malformed_numbers_never_crash(text):
    for t in extract_targets(text):
        assert text[t.start:t.end] == t.evidence


def test_fullwidth_digits_and_percent():
    t, = extract_targets("孕产妇系统管理率达９０％以上")
    assert (t.value, t.unit, t.comparator, t.value_text) == (90, "%", ">=", "９０％")


def test_chinese_numerals_in_body_only():
    t, = extract_targets("比例达到百分之九十八点五以上")
    assert (t.value, t.unit, t.value_normalized) == (98.5, "%", 0.985)
    t, = extract_targets("纪委领导班子至少配备一名女干部")
    assert (t.value, t.unit, t.comparator) == (1, "名", ">=")


def test_normalize_indicator():
    assert normalize_indicator("确保孕产妇的贫血率") == "孕产妇贫血率"
    assert normalize_indicator("高级专业技术人员中的女性比例") == "高级专业技术人员中女性比例"


def test_percent_range_in_a_law_has_bounds_not_a_value():
    # 森林法实施条例(2018-03-19) 第四十四条 (laws-cn): a range crashed the tagger before
    text = "使用伪造、涂改的木材运输证运输木材的,由县级以上人民政府林业主管部门没收非法运输的木材,并处没收木材价款10%至50%的罚款。"
    (t,) = extract_targets(text)
    assert (t.value, t.value_min, t.value_max, t.unit, t.value_normalized) == (None, 10.0, 50.0, "%", None)
