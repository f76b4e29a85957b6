"""A long-lived reader that follows new generations of an index (the HTTP API uses one).

Many threads answer requests from one :class:`Follower`. Each request takes a
:class:`Lease` on the knowledge base being served and releases it when done. Before each
lease the follower looks at ``manifest.json`` (one ``stat``; the file is read only when it
changed); when another process — ``kb ingest``, ``kb remove`` — has committed a newer
generation, a background thread opens and warms it while requests go on being answered
from the old one, then the reference is swapped under a lock: requests that started on
the old generation finish there, later ones get the new one. The old knowledge base is
closed (and its generation released for pruning, see ``kb.layout.hold_generation``) when
its last lease ends.

>>> f = Follower(Path("index"), opener=KnowledgeBase.open)   # doctest: +SKIP
>>> f.start()
>>> with f.lease() as kb:
...     kb.search("儿童溺水").hits[0].clause.short_path
'儿童/儿童安全/策略措施/3'
"""
from __future__ import annotations

import logging
import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Optional

from kb import layout
from kb.base import KnowledgeBase
from kb.errors import IndexMissing, KbError

log = logging.getLogger("kb.follow")
Opener = Callable[[Path, Optional[KnowledgeBase]], KnowledgeBase]


class _Served:
    """A knowledge base with the number of requests using it."""

    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self.users = 0
        self.retired = False


class Follower:
    """Serve the newest committed generation of ``index_dir`` to many threads.

    ``opener(index_dir, previous)`` opens (and warms) a KnowledgeBase; ``previous`` is the
    one being served, or None, so that the opener can reuse its loaded embedding model.
    ``error`` says why nothing is served (no index yet, a damaged one)."""

    def __init__(self, index_dir: Path, opener: Opener):
        self.index_dir = Path(index_dir)
        self._opener = opener
        self._lock = threading.Lock()
        self._current: Optional[_Served] = None
        self._seen: Optional[tuple] = None  # stat signature of the manifest last looked at
        self._switching = False
        self.error = "the knowledge base is not open yet"

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Open the committed generation now; raises IndexMissing / IndexStale."""
        self._seen = self._signature()
        try:
            self._swap(self._opener(self.index_dir, None))
        except KbError as e:
            self.error = str(e)
            raise

    def close(self) -> None:
        """Close the served knowledge base (at shutdown)."""
        with self._lock:
            served, self._current = self._current, None
        if served is not None:
            served.kb.close()

    @property
    def generation(self) -> Optional[str]:
        """Name of the generation being served, or None."""
        served = self._current
        return served.kb.manifest["generation"] if served else None

    # ------------------------------------------------------------------ leases
    @contextmanager
    def lease(self) -> Iterator[KnowledgeBase]:
        """The knowledge base to answer one request from, kept open until the block ends.
        Raises IndexMissing (with ``error``) when none is served."""
        self.check()
        with self._lock:
            served = self._current
            if served is None:
                raise IndexMissing(self.error)
            served.users += 1
        try:
            yield served.kb
        finally:
            with self._lock:
                served.users -= 1
                done = served.retired and served.users == 0
            if done:
                served.kb.close()

    def check(self) -> None:
        """Start switching (in a background thread) when the manifest names a generation
        other than the one served. Cheap: one ``stat`` when nothing changed."""
        signature = self._signature()
        if signature == self._seen or self._switching:
            return
        with self._lock:
            if self._switching:
                return
            self._switching = True
        self._seen = signature
        threading.Thread(target=self._switch, name="kb-follow", daemon=True).start()

    def refresh(self) -> Optional[str]:
        """Switch now, in this thread, when a newer generation is committed (after an
        upload, so that its answer and the next request agree); returns the generation
        served. Raises what opening the new generation raises."""
        with self._lock:
            self._switching = True
        try:
            self._seen = self._signature()
            if self.committed() != self.generation:
                self._swap(self._opener(self.index_dir, self._current.kb if self._current else None))
        finally:
            self._switching = False
        return self.generation

    # ------------------------------------------------------------------ internals
    def _switch(self) -> None:
        try:
            if self.committed() not in (None, self.generation):
                self._swap(self._opener(self.index_dir, self._current.kb if self._current else None))
        except KbError as e:  # keep serving the old generation; try again when the manifest changes
            self.error = str(e)
            log.warning("not switching to the new index generation: %s", e)
        except Exception:  # never let a background thread die silently
            log.exception("not switching to the new index generation")
        finally:
            self._switching = False

    def _swap(self, kb: KnowledgeBase) -> None:
        with self._lock:
            old, self._current = self._current, _Served(kb)
            close_now = old is not None and old.users == 0
            if old is not None:
                old.retired = True
        if close_now:
            old.kb.close()
        log.info("serving index generation %s", kb.manifest["generation"])

    def committed(self) -> Optional[str]:
        """The generation the manifest names now (None when there is none): newer than
        :attr:`generation` while a switch is pending or warming."""
        try:
            return layout.read_manifest(self.index_dir)["generation"]
        except KbError:
            return None

    def _signature(self) -> Optional[tuple]:
        try:
            st = os.stat(self.index_dir / layout.MANIFEST)
        except OSError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size
