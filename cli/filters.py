"""The document filter options every listing and search command takes (issue 9):
``--doc``, ``--type``, ``--level``, ``--issuer``, ``--versions``; see kb.docfilter."""
from __future__ import annotations

import typer

DocOpt = typer.Option(None, "--doc", help="Document id or short title (妇女权益保障法); an id may name a 历史版本.")
TypeOpt = typer.Option(None, "--type", help="Document type: 规划, 通知, 法律, 行政法规…")
LevelOpt = typer.Option(None, "--level", help="Issuer level: 国家, 省, 市, 县区.")
IssuerOpt = typer.Option(None, "--issuer", help="Issuing body as stored, e.g. 国务院.")
VersionsOpt = typer.Option("current", "--versions", help="current: leave out superseded versions (历史版本); all: keep them.")
AllVersionsOpt = typer.Option("all", "--versions", help="all (default): every version; current: leave out 历史版本.")


def doc_filters(doc, doc_type, level, issuer, versions) -> dict:
    """The keyword arguments of the KnowledgeBase calls (``doc_type`` for ``--type``)."""
    return dict(doc=doc, doc_type=doc_type, level=level, issuer=issuer, versions=versions)
