"""The shared tree builder: nodes under construction, a stack of open nodes, ids and the
flattened output. Each grammar subclasses :class:`TreeBuilder` with its own state machine."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Optional

from kb import ids
from kb.grammars.lines import Line
from kb.types import Node


@dataclass
class Open:
    """A node under construction, with its children and its numbering counters."""

    node: Node
    children: list["Open"] = field(default_factory=list)
    next_clause: int = 1
    next_item: int = 1
    inline_text: bool = False  # an item whose own line carries text (plan parts 三/四)
    parent: Optional["Open"] = None
    code: str = ""  # this node's level in the id (p2, d2, m3, c1, a23…)
    extra: dict = field(default_factory=dict)


class TreeBuilder:
    """A stack of open nodes under a document root; ``open`` adds a child to a node and makes
    it the innermost open node."""

    def __init__(self, doc_id: str, title: str):
        self.root = Open(Node(id=doc_id, doc_id=doc_id, kind="document", title=title))
        self.stack: list[Open] = [self.root]
        self.warnings: list[str] = []

    def top(self, *kinds: str) -> Optional[Open]:
        """The innermost open node of one of ``kinds`` (None when there is none)."""
        for o in reversed(self.stack):
            if o.node.kind in kinds:
                return o
        return None

    def pop_to(self, o: Open) -> None:
        while self.stack[-1] is not o:
            self.stack.pop()

    def open(self, parent: Open, kind: str, code: str, title: str, ln: Line, number=None) -> Open:
        """Add a ``kind`` node titled ``title`` under ``parent`` (closing what was open below
        ``parent``) and push it; its id is ``parent.id + "." + code``."""
        child = self.add(parent, kind, code, title, ln, number)
        self.pop_to(parent)
        self.stack.append(child)
        return child

    def add(self, parent: Open, kind: str, code: str, title: str, ln: Line, number=None) -> Open:
        """Add a ``kind`` node under ``parent`` without touching the stack of open nodes."""
        n = Node(id=ids.child_id(parent.node.id, code), doc_id=self.root.node.id, kind=kind, title=title,
                 parent_id=parent.node.id, number=number, line_start=ln.start, line_end=ln.end,
                 path=parent.node.path + [title] if parent.node.kind != "document" else [title])
        child = Open(n, parent=parent, code=code)
        parent.children.append(child)
        return child

    def walk(self, o: Optional[Open] = None) -> Iterator[Open]:
        o = o or self.root
        yield o
        for c in o.children:
            yield from self.walk(c)

    def flatten(self) -> list[Node]:
        """All nodes in document order, ``ord`` numbered from 0."""
        out: list[Node] = []
        for o in self.walk():
            o.node.ord = len(out)
            out.append(o.node)
        return out

    @staticmethod
    def chain(o: Open) -> dict[str, Node]:
        """The nearest ancestor of each kind: {"plan": …, "part": …, "domain": …}."""
        found: dict[str, Node] = {}
        p = o.parent
        while p is not None:
            found.setdefault(p.node.kind, p.node)
            p = p.parent
        return found


def append_text(text: str, more: str, after_blank: bool) -> str:
    """``text`` + ``more``: a new paragraph after a blank line, else joined without a space
    (a wrapped Chinese sentence)."""
    if not text:
        return more
    return text + "\n" + more if after_blank else text + more
