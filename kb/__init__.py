"""policy-kb (政策文件知识库): parse, tag and search Chinese government plan documents.

>>> from kb import KnowledgeBase
>>> kb = KnowledgeBase.open("index")
>>> kb.ask("2030年新生儿死亡率目标是多少").answer

Nothing heavy is imported here: models, FAISS and jieba load on first use.
"""
from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["KnowledgeBase", "ingest", "__version__"]


def __getattr__(name: str):
    if name == "KnowledgeBase":
        from kb.base import KnowledgeBase

        return KnowledgeBase
    if name == "ingest":
        from kb.build import ingest

        return ingest
    raise AttributeError(f"module 'kb' has no attribute {name!r}")
