"""CEL expressions in manifests: compiled at load time and checked against the variables of their context.

Library choice: ``common-expression-language`` (Rust ``cel`` bindings) over the pure-Python ``cel-python``:
it compiled about 60,000 expressions/s here against about 5,700/s (10x), reports syntax errors with a
column and a caret, and lists the variables an expression uses. Field reads (``request.tokens``) are
checked against each context's fields with a scan of the source with its string literals blanked out.

Types: the package exposes no parsed AST and no type checker, so an expression of a context whose fields
have declared types (``request``, ``policy``, ``rollout`` with known metrics, ``eval`` when it does not read
``expected``, whose type is the dataset's) is evaluated against typed
sample values: each field's zero value, then again with the tags the expression tests present (so
``'pii' in request.tags && request.tokens > '100'`` reaches its right side, which ``&&`` would otherwise
skip). A "no such overload" error (an int compared with a string) or a result that is not a boolean is a
finding. Lookups that fail only because the sample map is empty (``request.headers['x']``) are not. A type
error behind a condition that no sample makes true is not found: that is the limit of sampling.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from maestro.manifests.celengine import engine

if TYPE_CHECKING:
    from cel import Program

_REQUEST = frozenset({"tags", "caller", "team", "alias", "tokens", "headers", "metadata"})
_PROVIDER = frozenset({"name", "type", "jurisdiction", "region", "dataRetentionDays", "trainingUse"})
ANY = None  # a variable whose fields are free (a map or dynamic value)

# context -> variable -> allowed fields (None: any field)
CONTEXTS: dict[str, dict[str, frozenset[str] | None]] = {
    "request": {"request": _REQUEST},
    "policy": {"request": _REQUEST, "provider": _PROVIDER},
    "edge": {"output": ANY, "state": ANY, "steps": ANY},
    "eval": {"output": ANY, "expected": ANY, "vars": ANY, "case": ANY},
    "rollout": {"metrics": ANY, "baseline": ANY},
}
_STRING = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_BOUND = re.compile(r"\.\s*(?:exists_one|exists|all|map|filter)\s*\(\s*([A-Za-z_]\w*)\s*,")
_SYNTAX_AT = re.compile(r"<input>:(\d+):(\d+): (.*)")
_EXPECTED = re.compile(r"(?<![\w.])expected(?!\w)")
_TAG_TEST = re.compile(r"""(['"])([^'"]+)\1\s+in\s+request\.tags""")


# Typed sample values of each context's fields: (zero values, the same with the tested tags present).
_REQUEST_SAMPLE: dict[str, object] = {
    "tags": [],
    "caller": "",
    "team": "",
    "alias": "",
    "tokens": 0,
    "headers": {},
    "metadata": {},
}
_PROVIDER_SAMPLE: dict[str, object] = {
    "name": "",
    "type": "",
    "jurisdiction": "",
    "region": "",
    "dataRetentionDays": 0,
    "trainingUse": False,
}
_TYPE_ERRORS = (TypeError,)


@dataclass(frozen=True, slots=True)
class Problem:
    """A finding about an expression; ``column`` (1-based, on the expression's ``line``) when it has a place."""

    rule: str
    message: str
    line: int | None = None
    column: int | None = None


def check(expression: str, context: str, fields: Mapping[str, Collection[str]] | None = None) -> list[Problem]:
    """Problems in ``expression`` for ``context``; ``fields`` narrows free variables (rollout metrics).

    The answer depends only on its arguments, so it is remembered (bounded): a repository repeats its
    conditions (``'pii.email' in request.tags`` on many routes), and each is compiled and sampled once.
    """
    frozen = tuple(sorted((k, frozenset(v)) for k, v in fields.items())) if fields else ()
    return list(_check(expression, context, frozen))


@lru_cache(maxsize=4096)
def _check(expression: str, context: str, frozen: tuple[tuple[str, frozenset[str]], ...]) -> tuple[Problem, ...]:
    return tuple(_problems(expression, context, dict(frozen) or None))


def _problems(expression: str, context: str, fields: Mapping[str, Collection[str]] | None) -> list[Problem]:
    try:
        program = engine().compile(expression)
    except ValueError as e:
        return [_syntax_problem(str(e))]
    variables = CONTEXTS[context]
    bound = set(_BOUND.findall(expression))
    problems = []
    stripped = _STRING.sub(lambda m: " " * len(m.group()), expression)
    for name in program.variables():
        if name not in variables and name not in bound:
            first = re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", stripped)
            problems.append(
                Problem(
                    "cel.unknown-variable",
                    f"CEL variable '{name}' does not exist here; use {_names(variables)}",
                    *(_line_column(expression, first.start()) if first else (None, None)),
                )
            )
    for var, allowed in variables.items():
        narrowed = fields.get(var) if fields else None
        allowed_fields = frozenset(narrowed) if narrowed is not None else allowed
        if allowed_fields is None:
            continue
        for match in re.finditer(rf"(?<![\w.]){var}\.([A-Za-z_]\w*)", stripped):
            field = match.group(1)
            if field not in allowed_fields:
                problems.append(
                    Problem(
                        "cel.unknown-field",
                        f"'{var}.{field}' does not exist; fields: {', '.join(sorted(allowed_fields))}",
                        *_line_column(expression, match.start()),
                    )
                )
    if problems:
        return problems
    return _type_problems(program, expression, context, fields)


def _line_column(expression: str, offset: int) -> tuple[int, int]:
    """The 1-based line and column of character ``offset`` in ``expression``."""
    line = expression.count("\n", 0, offset) + 1
    return line, offset - (expression.rfind("\n", 0, offset) + 1) + 1


def _samples(expression: str, context: str, fields: Mapping[str, Collection[str]] | None) -> list[dict[str, object]]:
    """Typed activations for ``context``, or none when its variables' types are not declared."""
    if context in ("request", "policy"):
        zero: dict[str, object] = {"request": _REQUEST_SAMPLE}
        if context == "policy":
            zero["provider"] = _PROVIDER_SAMPLE
        tagged = {**zero, "request": {**_REQUEST_SAMPLE, "tags": tags_tested(expression), "tokens": 1}}
        return [zero, tagged]
    if context == "rollout" and fields and all(fields.get(v) is not None for v in ("metrics", "baseline")):
        return [{v: dict.fromkeys(fields[v], 0.0) for v in ("metrics", "baseline")}]
    if context == "eval" and not _EXPECTED.search(_STRING.sub("", expression)):
        # output is the answer (a string); vars and case are maps, empty here; expected has no declared type
        return [{"output": "", "vars": {}, "case": {}}]
    return []


def _type_problems(
    program: Program, expression: str, context: str, fields: Mapping[str, Collection[str]] | None
) -> list[Problem]:
    for activation in _samples(expression, context, fields):
        try:
            result = program.execute(activation)
        except _TYPE_ERRORS:
            return [
                Problem(
                    "cel.type",
                    "CEL types do not match: an operator or function is applied to values of the wrong type "
                    "(an int compared with a string, say); CEL does not convert: write the literal in the "
                    "field's type or convert with int(), double() or string()",
                )
            ]
        except (ValueError, LookupError, ArithmeticError, RuntimeError):
            continue  # a missing map key, an index, a division by the sample's zero: not a type error
        if not isinstance(result, bool):
            return [
                Problem(
                    "cel.type",
                    f"a condition must be a boolean, and this expression is {_cel_type(result)}; compare it "
                    "(e.g. `request.tokens > 1000`)",
                )
            ]
    return []


def _cel_type(value: object) -> str:
    names = {int: "an int", float: "a double", str: "a string", list: "a list", dict: "a map", bytes: "bytes"}
    return "null" if value is None else names.get(type(value), f"a {type(value).__name__}")


def place_in_file(
    text: str | None, line: int, column: int, expression: str, problem: Problem
) -> tuple[int, int] | None:
    """The file line and column of ``problem``'s place, given that the expression's YAML scalar starts at
    ``line``:``column``; None when the scalar's text is not the expression itself there (escapes, folding).
    """
    if text is None or problem.column is None or problem.line != 1:
        return None
    lines = text.splitlines()
    if not 0 < line <= len(lines):
        return None
    source, start = lines[line - 1], column - 1
    if source[start : start + 1] in ("'", '"'):
        start += 1
    elif source[start : start + 1] in (">", "|"):  # a block scalar: the text starts on the next line
        line += 1
        if line > len(lines):
            return None
        source = lines[line - 1]
        start = len(source) - len(source.lstrip(" "))
    prefix = expression[: problem.column - 1]
    if source[start : start + len(prefix)] != prefix:
        return None
    return line, start + problem.column


def tags_tested(expression: str) -> list[str]:
    """Tag names an expression tests with ``'tag' in request.tags``."""
    return [m.group(2) for m in _TAG_TEST.finditer(expression)]


def _syntax_problem(message: str) -> Problem:
    """The parser's first error, in words, at its line and column in the expression."""
    match = _SYNTAX_AT.search(message)
    if not match:
        return Problem("cel.syntax", f"CEL does not compile: {message.splitlines()[0]}")
    line, column, text = int(match.group(1)), int(match.group(2)), match.group(3)
    return Problem("cel.syntax", f"CEL does not compile: {_in_words(text)}", line, column)


_EXTRANEOUS = re.compile(r"(?:Syntax error: )?(?:extraneous|mismatched) input '(.*)' expecting (.*)$")
_MISSING = re.compile(r"(?:Syntax error: )?missing '(.*)' at '(.*)'$")
_TOKEN = re.compile(r"(?:Syntax error: )?token recognition error at: '(.*)'$")


def _in_words(text: str) -> str:
    """ANTLR's 'extraneous input ... expecting {...}' as a sentence, without the token list."""
    if match := _EXTRANEOUS.match(text):
        found, expected = match.groups()
        if found == "<EOF>":
            return "the expression ends too early: an operand or a closing bracket is missing"
        if expected == "<EOF>":
            return f"unexpected '{found}' after a complete expression"
        return f"unexpected '{found}' here"
    if match := _MISSING.match(text):
        wanted, at = match.groups()
        return f"'{wanted}' is missing " + ("at the end" if at == "<EOF>" else f"before '{at}'")
    if match := _TOKEN.match(text):
        found = match.group(1)
        if found[:1] in ("'", '"'):
            return "a string is not closed: add the closing quote"
        return f"'{found.strip()[:1] or found}' is not part of CEL"
    return text.removeprefix("Syntax error: ")


def _names(variables: Mapping[str, object]) -> str:
    return ", ".join(sorted(variables))
