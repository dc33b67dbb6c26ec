"""How risky a change is, and why: the rule table by kind, and the risk of a whole document changing.

A delta's path shape (list keys as ``[]``) is matched against the rules of its kind, then the rules
common to all kinds; the first match wins and ``*`` matches anything. Anything else is medium.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Final

from maestro.manifests.diff.documents import Ctx, Doc, Sides
from maestro.manifests.diff.handlers import Rules, Verdict, fixed
from maestro.manifests.diff.model import LOW, MEDIUM, Change, Op
from maestro.manifests.diff.risk_routing import jurisdiction
from maestro.manifests.diff.values import shown
from maestro.manifests.diff.walk import Delta

_COMMON: Final[Rules] = (
    ("metadata.labels*", fixed(LOW, "label '{leaf}' {op}")),
    ("metadata.annotations*", fixed(LOW, "annotation '{leaf}' {op}")),
    ("*description", fixed(LOW, "description text {op}")),
    ("*.message", fixed(LOW, "message text {op}")),
)


def change(ctx: Ctx, delta: Delta) -> Change:
    """The change a delta inside a document makes, with its risk, and its values as a report may show them."""
    verdict = _classify(ctx, delta)
    fields = delta.fields
    return ctx.new.change(
        delta.path,
        delta.op,
        old=shown(fields, delta.old),
        new=shown(fields, delta.new),
        risk=verdict.risk,
        reason=verdict.reason,
    )


def _classify(ctx: Ctx, delta: Delta) -> Verdict:
    shape = delta.shape
    for pattern, handler in (*_kind_rules(ctx.new.kind), *_COMMON):
        if _pattern(pattern).fullmatch(shape):
            return handler(delta, ctx)
    if delta.op is Op.MOVED:
        return Verdict(MEDIUM, "order changed")
    return Verdict(MEDIUM, "behaviour setting changed")


def _kind_rules(kind: str) -> Rules:
    """A kind's risk rules (from its registry entry); a document of no known kind gets only the common rules."""
    from maestro.manifests.kinds import KINDS  # the kinds name the risk rules of this package's modules

    entry = KINDS.get(kind)
    return entry.risk if entry is not None else ()


@cache
def _pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(re.escape(pattern).replace(r"\*", ".*"))


# --- whole documents ------------------------------------------------------------------------------------


def renamed(ctx: Ctx) -> Change:
    reason = f"renamed from '{ctx.old.name}': anything that refers to it by name must change too"
    return ctx.new.change("metadata.name", Op.RENAMED, old=ctx.old.name, new=ctx.new.name, risk=MEDIUM, reason=reason)


def removed_document(doc: Doc) -> Change:
    from maestro.manifests.kinds import KINDS

    entry = KINDS.get(doc.kind)
    risk, reason = (entry.removed if entry else None) or (MEDIUM, f"{doc.kind} removed")
    return doc.change("", Op.REMOVED, risk=risk, reason=reason)


def added_document(doc: Doc, sides: Sides) -> Change:
    reason = f"{doc.kind} added"
    if doc.kind == "Provider":
        where = jurisdiction(sides.new, doc.name)
        reason = f"provider added in jurisdiction '{where}': routes may send data to it" if where else reason
    return doc.change("", Op.ADDED, risk=MEDIUM, reason=reason)
