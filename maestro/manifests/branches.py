"""Whether a node's conditional edges always leave one to take: a proof from the conditions' text.

The CEL library exposes no syntax tree, so this reads each condition's top level itself (string literals
blanked, whitespace outside them dropped, enclosing parentheses removed) and proves exhaustiveness only in
the forms pipelines write:

- a condition that is ``true``;
- a condition and its negation: ``x`` and ``!x`` (or ``!(x)``);
- a comparison and its complement on the same operands: ``a == b`` / ``a != b``, ``a < b`` / ``a >= b``,
  ``a > b`` / ``a <= b`` (either operand order);
- comparisons of one operand with numbers that together cover every number: ``a > 100`` and ``a <= 100``,
  ``a >= 10`` and ``a < 50``.

Anything else is "not proven", and validate asks for a default edge (one with no ``when``). A condition that
fails to evaluate (a missing field) is the runtime's error on the node, not a gap in the branches.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_STRING = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_COMPARISON = re.compile(r"==|!=|<=|>=|<|>")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?u?")
_COMPLEMENT = {"==": "!=", "!=": "==", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}
_FLIP = {"==": "==", "!=": "!=", "<": ">", ">": "<", "<=": ">=", ">=": "<="}


@dataclass(frozen=True, slots=True)
class _Comparison:
    left: str
    op: str
    right: str


def exhaustive(conditions: Sequence[str]) -> bool:
    """True when, whatever the values, at least one of ``conditions`` holds (as far as this module can prove)."""
    forms = [normal(c) for c in conditions]
    if "true" in forms:
        return True
    if any(_negated(a) == b for a in forms for b in forms):
        return True
    comparisons = [c for c in (_comparison(f) for f in forms) if c is not None]
    pairs = [(a, b) for a in comparisons for b in comparisons]
    if any(a.left == b.left and a.right == b.right and _COMPLEMENT[a.op] == b.op for a, b in pairs):
        return True
    return any(_covers(a, b) for a, b in pairs)


def normal(expression: str) -> str:
    """``expression`` with no whitespace outside string literals but between words, and no enclosing parentheses."""
    out: list[str] = []
    last = 0
    for m in _STRING.finditer(expression):
        out.extend((_squeeze(expression[last : m.start()]), m.group()))
        last = m.end()
    out.append(_squeeze(expression[last:]))
    text = "".join(out).strip()
    while text.startswith("(") and text.endswith(")") and _closes_at_end(text):
        text = text[1:-1]
    return text


def _squeeze(code: str) -> str:
    """Code outside string literals with a space kept only between two words (``x in y``)."""
    return re.sub(r" ?([^\w ]) ?", r"\1", re.sub(r"\s+", " ", code))


def _blank(text: str) -> str:
    """``text`` with each string literal's contents replaced by underscores (same length)."""
    return _STRING.sub(lambda m: m.group()[0] + "_" * (len(m.group()) - 2) + m.group()[-1], text)


def _closes_at_end(text: str) -> bool:
    """Whether the parenthesis opening ``text`` is the one closing it."""
    depth = 0
    for i, ch in enumerate(_blank(text)):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0:
            return i == len(text) - 1
    return False


def _top_level(text: str) -> str:
    """``text`` (blanked) with everything inside parentheses or brackets replaced by spaces."""
    out, depth = [], 0
    for ch in _blank(text):
        if ch in "([{":
            depth += 1
        out.append(ch if depth == 0 else " ")
        if ch in ")]}":
            depth -= 1
    return "".join(out)


def _negated(form: str) -> str | None:
    """What ``form`` negates (``!x`` -> ``x``), or None."""
    if form.startswith("!") and not form.startswith("!="):
        rest = form[1:]
        top = _top_level(rest)
        if not any(op in top for op in ("&&", "||", "?", "==", "!=", "<", ">", "+", "-", "*", "/", "%", " in ")):
            return normal(rest)
    return None


def _comparison(form: str) -> _Comparison | None:
    top = _top_level(form)
    if any(op in top for op in ("&&", "||", "?")):
        return None
    found = list(_COMPARISON.finditer(top))
    if len(found) != 1:
        return None
    m = found[0]
    left, right = form[: m.start()], form[m.end() :]
    if not left or not right:
        return None
    if _NUMBER.fullmatch(left) and not _NUMBER.fullmatch(right):
        return _Comparison(right, _FLIP[m.group()], left)
    return _Comparison(left, m.group(), right)


def _covers(up: _Comparison, down: _Comparison) -> bool:
    """``left > c1`` (or ``>=``) and ``left < c2`` (or ``<=``) together hold for every number."""
    if up.left != down.left or up.op not in (">", ">=") or down.op not in ("<", "<="):
        return False
    if not (_NUMBER.fullmatch(up.right) and _NUMBER.fullmatch(down.right)):
        return False
    low, high = float(up.right.rstrip("u")), float(down.right.rstrip("u"))
    return high > low or (high == low and (up.op == ">=" or down.op == "<="))
