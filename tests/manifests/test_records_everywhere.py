"""Records everywhere: outside ``maestro/manifests/`` a manifest is read through its kind's record, not its spec.

What counts as a raw read, found in the syntax tree of every module outside ``maestro/manifests/`` (which
builds the records) and ``maestro/chaos/`` (whose ``spec`` is a drill scenario's dict, not a manifest):

* an item or ``.get`` of ``X.spec`` (``doc.spec["route"]``, ``doc.spec.get("tools")``);
* an item or ``.get`` of a name ``spec`` (``spec = doc.spec`` then ``spec["steps"]``);
* an item or ``.get`` of ``"spec"`` itself (``data["spec"]``).

Attribute reads of a typed record named ``spec`` (``stored.spec.route``) do not count.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "maestro"
EXEMPT = ("manifests", "chaos")
# None left once maestro/runtime/ and maestro/delivery/spec.py read their records (issue 14 asked for at most 10).
CEILING = 0


def _is_spec(node: ast.expr) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "spec") or (
        isinstance(node, ast.Name) and node.id == "spec"
    )


def _reads(tree: ast.AST) -> list[int]:
    """Lines of the raw spec reads in one module's tree."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript):
            key = node.slice
            if _is_spec(node.value) or (isinstance(key, ast.Constant) and key.value == "spec"):
                lines.append(node.lineno)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
            first = node.args[0] if node.args else None
            if _is_spec(node.func.value) or (isinstance(first, ast.Constant) and first.value == "spec"):
                lines.append(node.lineno)
    return lines


def raw_spec_reads() -> list[str]:
    """Every raw read as ``path:line``, in a stable order."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in EXEMPT:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        found += [f"maestro/{relative.as_posix()}:{line}" for line in sorted(_reads(tree))]
    return found


def test_the_counter_finds_each_shape_of_raw_read() -> None:
    text = (
        'a = doc.spec["x"]\nb = doc.spec.get("y")\nspec = doc.spec\nc = spec["z"]\nd = data["spec"]\ne = s.spec.name\n'
    )
    assert _reads(ast.parse(text)) == [1, 2, 4, 5]


def test_raw_spec_reads_outside_manifests_stay_under_the_ceiling() -> None:
    reads = raw_spec_reads()
    assert len(reads) <= CEILING, (
        f"{len(reads)} raw reads of a manifest's spec outside maestro/manifests/ (ceiling {CEILING}); read the "
        "kind's record instead (ManifestSet.records(Kind), Document.record):\n" + "\n".join(reads)
    )
