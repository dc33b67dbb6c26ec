"""The deterministic checks: equals, contains, regex, json-schema, cel, python, cost, latency.

Each is a plain function ``(check, case, generation, context) -> Grade``; it raises ``CaseError`` when the
case lacks what the check reads (no ``expected``, a variable the CEL expression names) or the check itself
fails (a Python scorer that raises). ``GRADERS`` is the registry by assertion type.
"""

from __future__ import annotations

import json
import re
import traceback
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

import cel
import jsonschema

from maestro.evals.datasets import Case
from maestro.evals.errors import CaseError
from maestro.evals.generate import Generation
from maestro.evals.grade import Context, Grade, Grader
from maestro.evals.suite import Check

_FENCE = re.compile(r"^\s*```(?:json)?\s*\n(.*?)\n\s*```\s*$", re.DOTALL)


def expected_of(check: Check, case: Case) -> Any:
    if check.has_value:
        return check.value
    if not case.has("expected"):
        raise CaseError(
            f"{check.name} ({check.type}, line {check.line}) compares with the case's 'expected', "
            "which this case does not have; add it, or give the assertion a value"
        )
    return case.fields["expected"]


def equals(check: Check, case: Case, gen: Generation, ctx: Context) -> Grade:
    expected = expected_of(check, case)
    if isinstance(expected, str):
        ok = gen.output.strip() == expected.strip()
    else:
        try:
            ok = parse_json(gen.output) == expected
        except ValueError:
            ok = False
    return Grade(1.0 if ok else 0.0, ok, "" if ok else f"expected {json.dumps(expected)[:80]}")


def contains(check: Check, case: Case, gen: Generation, ctx: Context) -> Grade:
    expected = expected_of(check, case)
    if not isinstance(expected, str):
        raise CaseError(
            f"{check.name} (contains, line {check.line}) needs text to look for, not {type(expected).__name__}"
        )
    ok = expected in gen.output
    return Grade(1.0 if ok else 0.0, ok, "" if ok else f"'{expected[:60]}' not in the output")


@cache
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def regex(check: Check, case: Case, gen: Generation, ctx: Context) -> Grade:
    try:
        pattern = _regex(str(check.value))
    except re.error as e:
        raise CaseError(f"{check.name} (regex, line {check.line}): the pattern does not compile: {e}") from e
    ok = pattern.search(gen.output) is not None
    return Grade(1.0 if ok else 0.0, ok, "" if ok else f"no match for /{check.value}/")


def parse_json(text: str) -> Any:
    """The output as JSON, allowing one Markdown code fence around it."""
    match = _FENCE.match(text)
    try:
        return json.loads(match.group(1) if match else text)
    except json.JSONDecodeError as e:
        raise ValueError(f"not JSON: {e.msg} at column {e.colno}") from e


def json_schema(check: Check, case: Case, gen: Generation, ctx: Context) -> Grade:
    try:
        data = parse_json(gen.output)
    except ValueError as e:
        return Grade(0.0, False, f"the output is {e}")
    errors = sorted(jsonschema.Draft202012Validator(check.value).iter_errors(data), key=lambda e: list(e.path))
    if errors:
        return Grade(0.0, False, f"schema: {errors[0].message[:120]}")
    return Grade(1.0, True)


@cache
def _program(expression: str) -> Any:
    return cel.compile(expression)


def cel_check(check: Check, case: Case, gen: Generation, ctx: Context) -> Grade:
    variables = {
        "output": gen.output,
        "expected": case.fields.get("expected"),
        "vars": dict(case.vars),
        "case": {"id": case.id, "input": case.input, "context": case.context},
    }
    try:
        result = _program(str(check.value)).execute(variables)
    except KeyError as e:
        raise CaseError(
            f"{check.name} (cel, line {check.line}) reads {e.args[0]!r}, which this case does not have; "
            "add it to the case's vars"
        ) from e
    except (ValueError, TypeError, RuntimeError) as e:
        raise CaseError(f"{check.name} (cel, line {check.line}) could not be evaluated: {e}") from e
    if isinstance(result, bool):
        return Grade(1.0 if result else 0.0, result)
    if isinstance(result, int | float):
        score = float(result)
        return Grade(score, score >= check.threshold)
    raise CaseError(f"{check.name} (cel, line {check.line}) gave {type(result).__name__}, not true/false")


def _function(check: Check, ctx: Context) -> Callable[..., Any]:
    if not ctx.allow_code:
        raise CaseError(
            f"{check.name} (python, line {check.line}) runs code from the repository, which needs "
            "`maestro eval --allow-code`; never pass it for an untrusted pull request"
        )
    path, _, name = str(check.value).rpartition(":")
    key = f"{ctx.suite.base_dir}/{path}:{name}"
    if key in ctx.loaded:
        return ctx.loaded[key]  # type: ignore[no-any-return]
    raw = ctx.read(ctx.suite.base_dir, path)
    if raw is None:
        raise CaseError(f"{check.name} (python, line {check.line}): cannot read {path} (relative to the manifest)")
    namespace: dict[str, Any] = {"__name__": f"maestro_eval_{name}", "__file__": path}
    try:
        exec(compile(raw.decode("utf-8"), path, "exec"), namespace)  # the suite's own scorer code, by design
    except Exception as e:  # any error in the user's module is reported on the case, not raised
        raise CaseError(f"{check.name} (python, line {check.line}): {path} does not load: {_last(e)}") from e
    fn = namespace.get(name)
    if not callable(fn):
        raise CaseError(f"{check.name} (python, line {check.line}): {path} has no function '{name}'")
    ctx.loaded[key] = fn
    return fn  # type: ignore[no-any-return]


def python_check(check: Check, case: Case, gen: Generation, ctx: Context) -> Grade:
    fn = _function(check, ctx)
    row = {"id": case.id, **case.fields}
    try:
        result = fn(gen.output, row)
    except Exception as e:  # a scorer that raises fails its case only, with its message
        raise CaseError(f"{check.name} (python, line {check.line}) raised {_last(e)}") from e
    return _python_result(check, result)


def _python_result(check: Check, result: Any) -> Grade:
    if isinstance(result, bool):
        return Grade(1.0 if result else 0.0, result)
    if isinstance(result, int | float):
        return Grade(float(result), float(result) >= check.threshold)
    if isinstance(result, Mapping) and isinstance(result.get("score", result.get("pass")), int | float | bool):
        score = float(result.get("score", 1.0 if result.get("pass") else 0.0))
        passed = bool(result["pass"]) if "pass" in result else score >= check.threshold
        return Grade(score, passed, str(result.get("reason", "")))
    raise CaseError(
        f"{check.name} (python, line {check.line}) returned {type(result).__name__}; return a bool, a score "
        "in [0, 1], or {'score': ..., 'pass': ..., 'reason': ...}"
    )


def _last(e: BaseException) -> str:
    return traceback.format_exception_only(type(e), e)[-1].strip()


def cost(check: Check, case: Case, gen: Generation, ctx: Context) -> Grade:
    ok = gen.cost_usd <= float(check.max or 0)
    return Grade(1.0 if ok else 0.0, ok, f"{gen.cost_usd:.6f} USD")


def latency(check: Check, case: Case, gen: Generation, ctx: Context) -> Grade:
    ok = gen.latency_ms <= float(check.max or 0)
    return Grade(1.0 if ok else 0.0, ok, f"{gen.latency_ms:.0f} ms")


GRADERS: dict[str, Grader] = {
    "equals": equals,
    "contains": contains,
    "regex": regex,
    "json-schema": json_schema,
    "cel": cel_check,
    "python": python_check,
    "cost": cost,
    "latency": latency,
}
