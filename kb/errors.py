"""Named exceptions of policy-kb. The CLI and API translate them at the edge.

Every message says what to do next.
"""


class KbError(Exception):
    """Base class of every error policy-kb raises on purpose."""


class InputError(KbError):
    """A path or file that cannot be read as a document (missing, empty, binary, unsupported)."""


class ParseError(KbError):
    """Text that was read but has no recognisable plan structure."""


class LexiconError(KbError):
    """A broken department lexicon file; the message names the file and line."""


class IndexMissing(KbError):
    """No index at the given directory: run `kb ingest` first."""


class IndexStale(KbError):
    """The index was built with another model, dictionary or version: rebuild it."""


class NotFound(KbError):
    """An id, path or name that is not in the index."""


class QueryError(KbError):
    """A query or filter the engine cannot accept (e.g. an unknown filter value)."""


class IndexLocked(KbError):
    """Another writer holds the index's writer lock (see ``kb.lock``)."""


class ActualsRejected(InputError):
    """A file of actual values with rows that cannot be stored; nothing from it was stored.
    ``problems`` lists ``(row, message)`` pairs, row numbers as a spreadsheet shows them."""

    def __init__(self, message: str, problems: list[tuple[int, str]] | None = None):
        super().__init__(message)
        self.problems = problems or []
class LossRefused(KbError):
    """An ingest would shrink a stored document or store a plan twice (see ``kb.guard``);
    rerun with ``--force`` (upload: ``force=true``) when that is intended."""
