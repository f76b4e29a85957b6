"""A server follows new generations (kb/follow.py, api/app.py): 20 parallel readers while the
CLI ingests twice in another process; 0 errors, 0 reads from a deleted generation, and the
server ends on the committed generation with the new document visible."""
from __future__ import annotations

import subprocess
import threading
import time

from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from conftest import OTHER_DOC, HashEmbedder, kb_cli_with_fake_embedder
from kb import layout
from kb.base import KnowledgeBase
from kb.follow import Follower

READERS = 20


def test_server_switches_to_cli_ingested_generations_under_20_readers(fake_index_copy, tmp_path):
    idx = fake_index_copy
    first = layout.read_manifest(idx)["generation"]
    doc = tmp_path / "elderly.txt"
    doc.write_text(OTHER_DOC, "utf-8")
    stop = threading.Event()
    errors, stale, seen = [], [], set()

    def reader(c: TestClient, n: int) -> None:
        while not stop.is_set():
            try:
                if n % 2:
                    r = c.get("/health")
                    gen = r.json()["generation"] if r.status_code == 200 else None
                    if gen:
                        seen.add(gen)
                        if not (idx / gen / layout.STORE_FILE).exists():
                            stale.append(gen)
                else:
                    r = c.get("/api/search", params={"q": "儿童溺水", "k": 3, "mode": "bm25"})
                if r.status_code != 200:
                    errors.append((r.status_code, r.text[:200]))
            except Exception as e:  # a transport error counts as an error too
                errors.append(repr(e))

    with TestClient(create_app(Settings(index_dir=idx), embedder=HashEmbedder())) as c:
        threads = [threading.Thread(target=reader, args=(c, n)) for n in range(READERS)]
        for t in threads:
            t.start()
        try:
            for _ in range(2):  # the second commit prunes `first`, unless a reader still holds it
                done = subprocess.run(kb_cli_with_fake_embedder("ingest", str(doc), "--index", str(idx)),
                                      capture_output=True, text=True, timeout=300)
                assert done.returncode == 0, done.stderr
            committed = layout.read_manifest(idx)["generation"]
            deadline = time.monotonic() + 60
            while c.get("/health").json()["generation"] != committed and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            stop.set()
            for t in threads:
                t.join(30)
        assert errors == []
        assert stale == []
        assert c.get("/health").json()["generation"] == committed
        assert [d["id"] for d in c.get("/api/documents").json()] == ["czf-2022-8", "elderly"]
        assert c.get("/api/search", params={"q": "养老服务体系", "mode": "bm25"}).json()[0]["doc_id"] == "elderly"
    assert first in seen and committed in seen
    assert not (idx / first).exists()  # released by the server once it switched, then pruned


def test_lease_keeps_the_old_generation_until_the_request_ends(fake_index_copy, tmp_path, fake_embedder):
    from kb.build import ingest

    doc = tmp_path / "elderly.txt"
    doc.write_text(OTHER_DOC, "utf-8")
    follower = Follower(fake_index_copy, lambda index, previous: KnowledgeBase.open(index, embedder=fake_embedder))
    follower.start()
    old = follower.generation
    with follower.lease() as kb:
        ingest([doc], fake_index_copy, embedder=fake_embedder)
        assert follower.refresh() != old  # new requests get the new generation
        assert kb.manifest["generation"] == old  # this request stays on the old one, still open
        assert len(kb.documents()) == 1
    with follower.lease() as kb:
        assert [d["id"] for d in kb.documents()] == ["czf-2022-8", "elderly"]
    follower.close()
