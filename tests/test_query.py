"""kb.query: which document families a question speaks of (the cue words of kb/data/query.yaml)."""
from __future__ import annotations

import pytest

from kb.query import LAST, asked_families, ordinal


@pytest.mark.parametrize("q,named,families", [
    ("两个规划对家庭暴力分别有哪些规定?", [], ["plan"]),           # 规定 alone is no law word
    ("怀孕了公司要把我辞退,规划里有说法吗?", [], ["plan"]),         # 说法 is no law
    ("公检法司在未成年人保护中有什么责任?", [], []),                 # nor 公检法司
    ("残疾孩子上幼儿园、进普通中小学读书,法律上有哪些保障?", [], ["law"]),
    ("老年人权益保障法对不和老人住在一起的子女有什么要求?", ["law"], ["law"]),
    ("反家庭暴力法第二十三条说什么", [], ["law"]),                 # a 第N条
    ("儿童规划对普惠性幼儿园覆盖率定了多少目标?学前教育法所说的普惠性幼儿园包括哪些?", ["law"], ["law", "plan"]),
    ("妇女和儿童的法律援助有哪些规定?", [], []),                     # 法律援助 is aid, not a law word
    ("母婴保健法规定婚前医学检查主要检查哪几类疾病?", [], []),         # 保健法|规定 holds no 法规 (the named law counts)
    ("相关法律法规是怎么规定的?", [], ["law"]),                     # 法规 heads 法律法规
    ("校车安全管理条例规定校车最高能开多快?", [], ["law"]),           # 条例 heads 管理条例
])
def test_asked_families(q, named, families, segmenter):
    """The cue words of the yaml count as the heads of whole words (kb.segment words)."""
    assert asked_families(q, named, segmenter.words(q)) == families


@pytest.mark.parametrize("q,number", [
    ("儿童与法律保护的策略措施第8条讲的是什么", 8),
    ("妇女与健康主要目标第十二项", 12),
    ("妇女与环境的策略措施一共有几条?最后一条是什么?", LAST),
    ("儿童安全策略措施的最后1项", LAST),
    ("主要目标的末条", LAST),
    ("妇女与环境的策略措施倒数第二条是什么", -2),                  # counted from the end
    ("最后的目标是什么", None),                                    # 最后 without 条/项 is no ordinal
    ("2030年新生儿死亡率目标是多少", None),
])
def test_ordinal(q, number):
    """第N条/第N项 give N; 最后一条 the section's last clause (kb.search boosts it)."""
    assert ordinal(q) == number


def test_article_number_is_not_read_inside_a_count_from_the_end():
    from kb.search import article_number

    assert article_number("反家庭暴力法第二十三条") == 23 and article_number("倒数第二条") is None
