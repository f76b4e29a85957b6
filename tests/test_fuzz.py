"""A bounded run of the fuzz harness (benchmarks/fuzz.py; the full run and its figures are in
docs/reliability.md): generated hostile documents and queries through the library, the
API and the CLI give no crash, no 5xx, and a message with every rejection."""
from __future__ import annotations

from conftest import load_benchmark


def test_fuzz_subset_has_no_failures():
    fuzz = load_benchmark("fuzz")
    result = fuzz.run(docs=36, queries=30, ingest=3, api_docs=6, cli_docs=3, cli_queries=10, seed=7,
                      log=lambda *a, **k: None)
    assert result["failures"] == []
    counts = result["counts"]
    assert sum(counts["library documents"].values()) == 36
    assert sum(counts["api queries"].values()) == 30 * 5
    assert sum(counts["cli queries"].values()) == 10 * 2
    # every mutation kind ran, and some documents and queries were rejected, some accepted
    assert counts["library documents"]["ok"] > 0 and counts["library documents"]["rejected"] > 0
    assert counts["api queries"]["ok"] > 0 and counts["api queries"]["rejected"] > 0
