"""The kinds of risk rule: a handler takes a delta in its document and returns a verdict (a risk and why).

Most rules are built from the factories here: a fixed verdict, a list item added or removed, a limit that
loosens when raised (``rises``) or a floor that loosens when lowered (``falls``), a switch (``flag``), an
enum ordered from loosest to strictest (``ranked``) and a set of scalars (``set_rule``). A reason is a
template filled from ``words``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

from maestro.manifests.diff.documents import Ctx
from maestro.manifests.diff.model import HIGH, LOW, MEDIUM, Op, Risk
from maestro.manifests.diff.values import MISSING, brief, same
from maestro.manifests.diff.walk import Delta
from maestro.manifests.durations import seconds


@dataclass(frozen=True, slots=True)
class Verdict:
    risk: Risk
    reason: str


Handler: TypeAlias = Callable[[Delta, Ctx], Verdict]
Rules: TypeAlias = tuple[tuple[str, Handler], ...]
"""Path shapes (``*`` matches anything) and their handlers; the first match wins."""


def words(d: Delta, ctx: Ctx) -> dict[str, str]:
    """What a reason template may say: ``{key}`` of the list item, ``{leaf}`` field, ``{old}``, ``{new}``…"""
    keys, fields = d.keys, d.fields
    value = d.new if d.op is Op.ADDED else d.old
    return {
        "key": keys[-1] if keys else ctx.new.name,
        "leaf": fields[-1] if fields else "",
        "parent": str(fields[-2]) if len(fields) > 1 else "",
        "name": ctx.new.name,
        "op": d.op.value,
        "old": brief(d.old),
        "new": brief(d.new),
        "e": brief(value),
    }


def fixed(risk: Risk, template: str) -> Handler:
    return lambda d, ctx: Verdict(risk, template.format(**words(d, ctx)))


def item(removed: tuple[Risk, str], added: tuple[Risk, str]) -> Handler:
    """A whole list item added or removed."""
    on_removed, on_added = fixed(*removed), fixed(*added)
    return lambda d, ctx: (on_removed if d.op is Op.REMOVED else on_added)(d, ctx)


WRITTEN_DEFAULT: Final = Verdict(LOW, "now written out as its default value (or no longer); no behaviour change")


def effective(value: Any, default: Any) -> Any:
    return default if value is MISSING else value


_Judge: TypeAlias = Callable[[Delta, Ctx, Any, Any], Verdict]


def _defaulted(default: Any, judge: _Judge) -> Handler:
    """A setting that has ``default`` where absent: writing the default out (or no longer) changes nothing;
    any other change goes to ``judge`` with the effective old and new values."""

    def handler(d: Delta, ctx: Ctx) -> Verdict:
        old, new = effective(d.old, default), effective(d.new, default)
        return WRITTEN_DEFAULT if same(old, new) else judge(d, ctx, old, new)

    return handler


def _magnitude(value: Any) -> float | None:
    """A number, or a duration in seconds; None for anything else."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, str):
        return None
    try:
        return seconds(value)
    except ValueError:
        return None


def rises(what: str, risk: Risk, *, default: Any = MISSING, missing_loose: bool = True) -> Handler:
    """A limit: raising it (or removing it, when that means no limit) loosens."""
    return _bound(what, risk, default=default, missing_loose=missing_loose, up_loosens=True)


def falls(what: str, risk: Risk, *, default: Any = MISSING, missing_loose: bool = True) -> Handler:
    """A floor such as an approval count or a threshold: lowering it (or removing it) loosens."""
    return _bound(what, risk, default=default, missing_loose=missing_loose, up_loosens=False)


def _bound(what: str, risk: Risk, *, default: Any, missing_loose: bool, up_loosens: bool) -> Handler:
    def judge(d: Delta, ctx: Ctx, old: Any, new: Any) -> Verdict:
        label = what.format(**words(d, ctx))
        if new is MISSING:
            return Verdict(risk if missing_loose else MEDIUM, f"{label} removed (was {brief(old)})")
        if old is MISSING:
            return Verdict(MEDIUM, f"{label} set to {brief(new)}")
        before, after = _magnitude(old), _magnitude(new)
        if before is None or after is None:
            return Verdict(MEDIUM, f"{label} changed from {brief(old)} to {brief(new)}")
        raised = after > before
        verb = "raised" if raised else "lowered"
        if raised == up_loosens:
            return Verdict(risk, f"{label} {verb} from {brief(old)} to {brief(new)}")
        return Verdict(MEDIUM, f"{label} {verb} from {brief(old)} to {brief(new)} (tighter)")

    return _defaulted(default, judge)


def flag(loose_when: bool, default: bool, loose: str, tight: str) -> Handler:
    """A switch: turning it to ``loose_when`` loosens; an absent switch has its ``default``."""

    def judge(d: Delta, ctx: Ctx, old: Any, new: Any) -> Verdict:
        said = words(d, ctx)
        if not isinstance(new, bool):
            return Verdict(MEDIUM, f"{said['leaf']} changed from {said['old']} to {said['new']}")
        return Verdict(HIGH, loose.format(**said)) if new is loose_when else Verdict(MEDIUM, tight.format(**said))

    return _defaulted(default, judge)


def ranked(order: tuple[str, ...], what: str, *, default: Any = MISSING, why: str = "") -> Handler:
    """An enum ordered from loosest to strictest: a move towards the start loosens."""

    def judge(d: Delta, ctx: Ctx, old: Any, new: Any) -> Verdict:
        label = what.format(**words(d, ctx))
        change = f"from {brief(old)} to {brief(new)}"
        if old in order and new in order:
            if order.index(new) < order.index(old):
                return Verdict(HIGH, f"{label} weakened {change}{why}")
            return Verdict(MEDIUM, f"{label} strengthened {change} (tighter)")
        return Verdict(MEDIUM, f"{label} changed {change}")

    return _defaulted(default, judge)


def set_rule(loose_on: Op, loose: str, tight: str, *, absent_means_any: str = "") -> Handler:
    """A set of scalars; ``loose_on`` (adding or removing members) loosens.

    With ``absent_means_any`` (the text to say), a missing list means "no restriction", so removing the
    whole list loosens and adding one tightens, whatever ``loose_on`` says.
    """

    def handler(d: Delta, ctx: Ctx) -> Verdict:
        said = words(d, ctx)
        if absent_means_any and not d.element:
            if d.op is Op.REMOVED:
                return Verdict(HIGH, absent_means_any.format(**said))
            return Verdict(MEDIUM, f"{said['leaf']} now restricted to {said['e']} (tighter)")
        if d.op is loose_on:
            return Verdict(HIGH, loose.format(**said))
        return Verdict(MEDIUM, tight.format(**said))

    return handler
