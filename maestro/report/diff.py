"""A manifest diff as text, JSON or Markdown (a table for a pull-request comment).

Values are shown short: strings are cut at 60 characters, and the core has already redacted anything
that may be a secret.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from itertools import groupby
from typing import Any

from maestro.manifests.diff import Change, DiffResult, Op, Risk

FORMATS = ("text", "json", "markdown")
MAX_VALUE = 60
_BADGE = {Risk.HIGH: "HIGH", Risk.MEDIUM: "MEDIUM", Risk.LOW: "LOW"}
_MARK = {Risk.HIGH: "🔴 high", Risk.MEDIUM: "🟠 medium", Risk.LOW: "🟢 low"}


def render(fmt: str, result: DiffResult, old: str = "", new: str = "") -> str:
    renderers: dict[str, Callable[[DiffResult, str, str], str]] = {"text": text, "json": as_json, "markdown": markdown}
    return renderers[fmt](result, old, new)


def summary_line(result: DiffResult) -> str:
    counts = result.counts()
    total = len(result.changes)
    noun = "change" if total == 1 else "changes"
    return f"{total} {noun}: {counts[Risk.HIGH]} high, {counts[Risk.MEDIUM]} medium, {counts[Risk.LOW]} low"


def text(result: DiffResult, old: str = "", new: str = "") -> str:
    lines = [f"maestro diff {old} -> {new}", ""] if old or new else []
    for (ref, file), changes in groupby(result.changes, key=lambda c: (c.ref, c.file)):
        lines.append(f"{ref}  ({file})" if file else ref)
        for c in changes:
            lines.append(f"  {'[' + _BADGE[c.risk] + ']':<8} {describe(c)}")
            lines.append(f"  {'':<8} {c.reason}")
        lines.append("")
    lines.append(summary_line(result))
    return "\n".join(lines) + "\n"


def describe(c: Change) -> str:
    """What changed, in one line: the path, the operation and the values."""
    if not c.path:
        return f"document {c.op.value}"
    if c.op is Op.RENAMED:
        return f"renamed {short(c.old)} -> {short(c.new)}"
    if c.op is Op.CHANGED:
        return f"{c.path}: {short(c.old)} -> {short(c.new)}"
    if c.op is Op.MOVED:
        return f"{c.path}: order {short(c.old)} -> {short(c.new)}"
    value = c.new if c.op is Op.ADDED else c.old
    sign = "+" if c.op is Op.ADDED else "-"
    return f"{c.path}: {c.op.value} {sign} {short(value)}"


def short(value: Any) -> str:
    """A one-line representation of ``value``, at most 60 characters long."""
    if value is None:
        return "(none)"
    text = json.dumps(_cut(value), ensure_ascii=False)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def _cut(value: Any) -> Any:
    if isinstance(value, str):
        return value if len(value) <= MAX_VALUE else value[: MAX_VALUE - 1] + "…"
    if isinstance(value, dict):
        return {k: _cut(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_cut(v) for v in value]
    return value


def as_json(result: DiffResult, old: str = "", new: str = "") -> str:
    counts = result.counts()
    payload = {
        "old": old,
        "new": new,
        "changes": [
            {
                "kind": c.kind,
                "name": c.name,
                "path": c.path,
                "op": c.op.value,
                "old": _cut(c.old),
                "new": _cut(c.new),
                "risk": c.risk.value,
                "reason": c.reason,
                "file": c.file,
            }
            for c in result.changes
        ],
        "summary": {
            "total": len(result.changes),
            "high": counts[Risk.HIGH],
            "medium": counts[Risk.MEDIUM],
            "low": counts[Risk.LOW],
            "max_risk": result.max_risk.value if result.max_risk else None,
        },
    }
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def markdown(result: DiffResult, old: str = "", new: str = "") -> str:
    title = f"### maestro diff: `{_code(old)}` → `{_code(new)}`" if old or new else "### maestro diff"
    lines = [title, "", f"**{summary_line(result)}**", ""]
    if not result.changes:
        return "\n".join([*lines, "No changes.", ""])
    lines += ["| Risk | Document | Path | Change | Why |", "| --- | --- | --- | --- | --- |"]
    for c in sorted(result.changes, key=lambda c: -c.risk.rank):
        path = f"`{_code(c.path)}`" if c.path else "(document)"
        lines.append(f"| {_MARK[c.risk]} | {_cell(c.ref)} | {path} | {_cell(_change_cell(c))} | {_cell(c.reason)} |")
    return "\n".join([*lines, ""])


def _change_cell(c: Change) -> str:
    if c.op in (Op.CHANGED, Op.RENAMED, Op.MOVED) and c.path:
        return f"{c.op.value}: {short(c.old)} → {short(c.new)}"
    if not c.path:
        return c.op.value
    return f"{c.op.value}: {short(c.new if c.op is Op.ADDED else c.old)}"


def _cell(value: str) -> str:
    return value.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("`", "'")


def _code(value: str) -> str:
    return value.replace("`", "'").replace("|", "\\|").replace("\n", " ")
