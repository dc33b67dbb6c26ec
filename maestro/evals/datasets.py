"""A suite's cases: written inline, or read from a JSONL or CSV file, each with the file and line it came from.

Every row is checked against the case schema (``$defs/case`` of ``schemas/evalsuite.json``). A row that
cannot be read (bad JSON, bad UTF-8, a missing ``input``, an unknown column) becomes a ``Problem`` with its
line; the other rows still load. CSV columns: ``id``, ``input``, ``expected``, ``context`` (text, or a JSON
list of texts), and ``vars.NAME`` for each variable.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from maestro.evals.errors import EvalError, Problem
from maestro.evals.suite import FileReader, Suite
from maestro.manifests.loader import ManifestSet, display_name
from maestro.manifests.schemas import schema_text

_MISSING = object()


@dataclass(frozen=True, slots=True)
class Case:
    """One row of the dataset. ``fields`` is the row as written; use ``get`` to tell absent from null."""

    id: str
    file: str
    line: int
    fields: Mapping[str, Any] = field(default_factory=dict)

    @property
    def input(self) -> Any:
        return self.fields["input"]

    @property
    def vars(self) -> Mapping[str, Any]:
        value = self.fields.get("vars", {})
        return value if isinstance(value, Mapping) else {}

    def has(self, name: str) -> bool:
        return name in self.fields

    @property
    def context(self) -> list[str]:
        value = self.fields.get("context", [])
        return [value] if isinstance(value, str) else list(value)

    def input_text(self) -> str:
        value = self.input
        return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


@dataclass(frozen=True, slots=True)
class Dataset:
    cases: tuple[Case, ...]
    problems: tuple[Problem, ...]


@cache
def _case_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(schema_text("evalsuite.json"))
    return jsonschema.Draft202012Validator({**schema["$defs"]["case"], "$defs": schema["$defs"]})


def load_dataset(suite: Suite, manifests: ManifestSet | None, read: FileReader) -> Dataset:
    """The suite's cases and the rows that could not be read."""
    if "inline" in suite.dataset:
        return _inline(suite, manifests)
    relative = suite.dataset["file"]
    raw = read(suite.base_dir, relative)
    shown = shown_path(suite.base_dir, relative)
    if raw is None:
        raise EvalError(
            f"{suite.file}:{suite.line}: {suite.name}: cannot read the dataset {shown}; "
            "the path is relative to the manifest file"
        )
    rows = _csv_rows(shown, raw) if relative.endswith(".csv") else _jsonl_rows(shown, raw)
    return _admit(suite, shown, rows)


def shown_path(base_dir: str, relative: str) -> str:
    """How to name a file a manifest refers to: relative to the working directory when it lies below it."""
    path = Path(base_dir, relative)
    if path.is_absolute():
        return display_name(path)
    return path.as_posix()


def _inline(suite: Suite, manifests: ManifestSet | None) -> Dataset:
    rows: list[tuple[int, Any, str | None]] = []
    doc = manifests.get("EvalSuite", suite.name) if manifests is not None else None
    for i, row in enumerate(suite.dataset["inline"]):
        line = manifests.locator.at(doc, ("spec", "dataset", "inline", i))[0] if manifests and doc else suite.line
        rows.append((line, row, None))
    return _admit(suite, suite.file, rows)


def _admit(suite: Suite, file: str, rows: list[tuple[int, Any, str | None]]) -> Dataset:
    cases: list[Case] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for line, row, read_error in rows:
        given = row.get("id") if isinstance(row, dict) else None
        case_id = given if isinstance(given, str) else f"line-{line}"
        error = read_error or _row_error(row)
        if error is None and case_id in seen:
            error = f"the id '{case_id}' is already used on line {seen[case_id]}; give each case its own id"
        if error is not None:
            problems.append(Problem(suite.name, file, line, case_id, error))
            continue
        seen[case_id] = line
        cases.append(Case(case_id, file, line, row))
    return Dataset(tuple(cases), tuple(problems))


def _row_error(row: Any) -> str | None:
    errors = sorted(_case_validator().iter_errors(row), key=lambda e: list(e.path))
    if not errors:
        return None
    first = errors[0]
    where = ".".join(str(p) for p in first.path)
    return f"not a valid case{f' at {where}' if where else ''}: {first.message}"


def _jsonl_rows(file: str, raw: bytes) -> list[tuple[int, Any, str | None]]:
    rows: list[tuple[int, Any, str | None]] = []
    for number, line in enumerate(raw.split(b"\n"), 1):
        if not line.strip():
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as e:
            rows.append((number, {}, f"not UTF-8 at column {e.start + 1} ({e.reason}); save the file as UTF-8"))
            continue
        try:
            rows.append((number, json.loads(text), None))
        except json.JSONDecodeError as e:
            rows.append((number, {}, f"not valid JSON at column {e.colno}: {e.msg}"))
    return rows


def _csv_rows(file: str, raw: bytes) -> list[tuple[int, Any, str | None]]:
    text = raw.decode("utf-8", "surrogateescape").removeprefix("\ufeff")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    unknown = [c for c in header if c not in ("id", "input", "expected", "context") and not c.startswith("vars.")]
    if "input" not in header or unknown:
        what = f"unknown column(s) {', '.join(unknown)}" if unknown else "no 'input' column"
        raise EvalError(f"{file}:1: {what}; columns are id, input, expected, context and vars.NAME")
    rows: list[tuple[int, Any, str | None]] = []
    line = reader.line_num
    for record in reader:
        start, line = line + 1, reader.line_num
        bad = next((c for c, v in record.items() if isinstance(v, str) and _has_surrogates(v)), None)
        if bad is not None:
            rows.append((start, {}, f"column '{bad}' is not UTF-8 text; save the file as UTF-8"))
            continue
        if None in record:
            rows.append((start, {}, f"more values than the {len(header)} columns of the header"))
            continue
        rows.append((start, _csv_case(record), None))
    return rows


def _has_surrogates(value: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in value)


def _csv_case(record: Mapping[str, str | None]) -> dict[str, Any]:
    case: dict[str, Any] = {}
    variables: dict[str, Any] = {}
    for column, value in record.items():
        if value is None or value == "":
            continue
        if column.startswith("vars."):
            variables[column[5:]] = value
        elif column == "context":
            case["context"] = _context(value)
        else:
            case[column] = value
    if variables:
        case["vars"] = variables
    return case


def _context(value: str) -> str | list[str]:
    if value.startswith("["):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            return value
        if isinstance(parsed, list) and all(isinstance(p, str) for p in parsed):
            return parsed
    return value
