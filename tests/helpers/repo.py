"""Breaking one thing in a copy of the example repository, and knowing where the break landed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

EXAMPLE_DIRS = ("manifests", "policies")


@dataclass(frozen=True)
class Break:
    """Replace ``old`` by ``new`` in ``file`` (or append ``new`` as a document when ``old`` is empty).

    ``at`` is the text, inside ``new``, that a diagnostic about the break should point at.
    """

    file: str
    old: str
    new: str
    at: str = ""

    def apply(self, repo: Path) -> tuple[int, int]:
        """Write the break into ``repo``; return the 1-based line and column of ``at``."""
        path = repo / self.file
        text = path.read_text(encoding="utf-8")
        if self.old:
            start = text.index(self.old)
            text = text[:start] + self.new + text[start + len(self.old) :]
        else:
            text = text if text.endswith("\n") else text + "\n"
            text += "---\n"
            start = len(text)
            text += self.new
        path.write_text(text, encoding="utf-8")
        return position(text, text.index(self.at, start))


def spot(path: Path, marker: str) -> tuple[int, int]:
    """Where ``|`` stands in the first occurrence of ``marker`` (without the ``|``) in the file at ``path``.

    A marker without ``|`` names the place of its first character.
    """
    before, _, after = marker.rpartition("|") if "|" in marker else ("", "", marker)
    text = path.read_text(encoding="utf-8")
    return position(text, text.index(before + after) + len(before))


def position(text: str, offset: int) -> tuple[int, int]:
    """The 1-based line and column of character ``offset`` in ``text``."""
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def example_paths(repo: Path) -> list[Path]:
    return [repo / d for d in EXAMPLE_DIRS]
