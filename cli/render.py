"""Rich rendering shared by commands: tag badges, highlighted text."""
from __future__ import annotations

from kb.types import Clause

from cli.common import out


def target_text(t) -> str:
    """A target as one short line: 2030年 孕产妇死亡率 <= 9/100000."""
    year = f"{t.year}年 " if t.year else ""
    return f"{year}{t.indicator} {t.comparator_display()} {t.value_display()}".strip()


def print_tags(c: Clause) -> None:
    """Print a clause's departments (explicit in bold, inferred dim with cue) and targets."""
    if c.departments:
        parts = []
        for d in c.departments:
            lead = "★" if d.role == "lead" else ""
            parts.append(f"[bold]{lead}{d.name}[/]" if d.explicit else f"[dim]{d.name}(推断:{d.cue})[/]")
        out.print("部门: " + "  ".join(parts), highlight=False)
    for t in c.targets:
        out.print(f"[green]目标[/] {target_text(t)}", highlight=False)
