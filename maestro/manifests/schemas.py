"""The JSON Schemas of the v1 kinds (package data) and turning schema errors into findings.

Findings say what to do: unknown keys get a "did you mean", enums list their values, and a secret written
inline is its own rule. Values from the document are echoed only when short and only for enum mismatches,
so a secret pasted into the wrong field never reaches the output.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from maestro.manifests import kinds
from maestro.manifests.diagnostics import json_path

if TYPE_CHECKING:
    import jsonschema
    from jsonschema.exceptions import ValidationError

API_VERSION = "maestro.dev/v1"
KINDS: dict[str, str] = {name: kind.schema for name, kind in kinds.KINDS.items()}  # kind -> its schema file
_ECHO_LIMIT = 32


@dataclass(frozen=True, slots=True)
class Finding:
    """A schema problem at ``path`` (at the key itself when ``at_key``)."""

    rule: str
    message: str
    path: tuple[str | int, ...]
    at_key: bool = False
    key: str = ""  # schema.unknown-key: the key it likely meant; schema.required: the missing key


def schema_text(name: str) -> str:
    """The text of one schema file shipped with maestro (``route.json``, ``manifest.json``)."""
    return (resources.files("maestro") / "builtin" / "schemas" / name).read_text(encoding="utf-8")


def kind_for(text: str) -> str | None:
    """The kind named by ``text``, case-insensitively, or None."""
    for kind in KINDS:
        if kind.lower() == text.lower():
            return kind
    return None


class SchemaSet:
    """Compiled validators for every kind; build one per run and share it."""

    def __init__(self) -> None:
        self.schemas: dict[str, dict[str, Any]] = {kind: json.loads(schema_text(f)) for kind, f in KINDS.items()}
        # The Rust engine (jsonschema-rs) answers "is it valid?" about 10x faster; the Python engine runs only
        # on documents that fail, to explain why with relevance ordering and best matches.
        self.gates = {kind: jsonschema_rs.validator_for(schema).is_valid for kind, schema in self.schemas.items()}

    @cached_property
    def validators(self) -> dict[str, jsonschema.Draft202012Validator]:
        """The Python engine's validators, built (and jsonschema imported) when a document first fails."""
        import jsonschema
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012

        registry: Registry[Any] = Registry().with_resources(
            (KINDS[k], Resource.from_contents(s, default_specification=DRAFT202012)) for k, s in self.schemas.items()
        )
        return {
            kind: jsonschema.Draft202012Validator(schema, registry=registry) for kind, schema in self.schemas.items()
        }

    def check(self, data: Any) -> list[Finding]:
        """Every schema finding for one document, the most relevant first."""
        if not isinstance(data, dict):
            return [
                Finding(
                    "schema.not-a-mapping",
                    "a manifest must be a mapping with apiVersion, kind, metadata, spec",
                    (),
                )
            ]
        head = list(_check_head(data))
        if head:
            return head
        if self.gates[data["kind"]](data):
            return []
        from jsonschema.exceptions import relevance

        errors = sorted(self.validators[data["kind"]].iter_errors(data), key=relevance)
        findings: list[Finding] = []
        seen: set[tuple[str, tuple[str | int, ...]]] = set()
        for error in errors:
            for finding in _findings(_deepest(error)):
                if (finding.message, finding.path) not in seen:
                    seen.add((finding.message, finding.path))
                    findings.append(finding)
        return _one_per_mistake(findings)


def _one_per_mistake(findings: list[Finding]) -> list[Finding]:
    """A misspelt required key is one mistake: keep "unknown key 'modle'; did you mean 'model'?" and drop
    "missing the required key 'model'" at the same mapping."""
    meant = {(f.path[:-1], f.key) for f in findings if f.rule == "schema.unknown-key" and f.key}
    return [f for f in findings if not (f.rule == "schema.required" and (f.path, f.key) in meant)]


def _check_head(data: dict[str, Any]) -> Iterator[Finding]:
    version = data.get("apiVersion")
    if version != API_VERSION:
        what = "is missing" if version is None else f"is {_echo(version)}"
        yield Finding("schema.api-version", f"apiVersion {what}; set apiVersion: {API_VERSION}", ("apiVersion",))
    kind = data.get("kind")
    if kind is None:
        yield Finding("schema.kind", f"kind is missing; set one of: {', '.join(KINDS)}", ())
    elif not isinstance(kind, str) or kind not in KINDS:
        hint = _did_you_mean(str(kind), list(KINDS)) or kind_for(str(kind))
        tail = f"; did you mean '{hint}'?" if hint else f"; use one of: {', '.join(KINDS)}"
        yield Finding("schema.kind", f"unknown kind {_echo(kind)}{tail}", ("kind",))


def _deepest(error: ValidationError) -> ValidationError:
    """For oneOf/anyOf, the sub-error that best explains the failure (as check-jsonschema does)."""
    from jsonschema.exceptions import relevance

    while error.context:
        best = sorted(error.context, key=relevance)[0]
        if len(best.absolute_path) < len(error.absolute_path):
            break
        error = best
    return error


def _findings(error: ValidationError) -> Iterator[Finding]:
    path = tuple(error.absolute_path)
    where = json_path(path) or "the document"
    keyword = error.validator
    schema = error.schema if isinstance(error.schema, dict) else {}
    if keyword == "additionalProperties" and isinstance(error.instance, dict):
        allowed = list(schema.get("properties", {}))
        for key in error.instance:
            if key in allowed or _pattern_allows(schema, key):
                continue
            hint = _did_you_mean(key, allowed)
            tail = f"did you mean '{hint}'?" if hint else f"allowed keys: {', '.join(allowed) or 'none'}"
            yield Finding(
                "schema.unknown-key", f"unknown key '{key}' in {where}; {tail}", (*path, key), True, hint or ""
            )
    elif keyword == "required":
        missing: Any = error.validator_value
        names = [m for m in missing if isinstance(error.instance, dict) and m not in error.instance]
        for name in names:
            yield Finding("schema.required", f"{where} is missing the required key '{name}'; add it", path, True, name)
    elif keyword == "type":
        if path and path[-1] == "apiKey" and isinstance(error.instance, str):
            yield Finding(
                "secret.inline",
                "apiKey holds a literal value: never commit a secret; write apiKey: {env: YOUR_API_KEY} and set it "
                "in the environment",
                path,
            )
            return
        expected = error.validator_value
        expected_text = " or ".join(expected) if isinstance(expected, list) else str(expected)
        yield Finding(
            "schema.type",
            f"{where} must be {_article(expected_text)}, not {_type_name(error.instance)}",
            path,
        )
    elif keyword in ("enum", "const"):
        value: Any = error.validator_value
        allowed_values: list[Any] = value if keyword == "enum" else [value]
        hint = _did_you_mean(str(error.instance), [str(v) for v in allowed_values])
        tail = f"did you mean '{hint}'?" if hint else "allowed: " + ", ".join(str(v) for v in allowed_values)
        yield Finding("schema.value", f"{where} is {_echo(error.instance)}; {tail}", path)
    elif keyword in ("pattern", "format"):
        desc = schema.get("description", "")
        extra = f" ({desc})" if desc else ""
        yield Finding("schema.format", f"{where} does not have the expected form{extra}", path)
    elif keyword in (
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minItems",
        "maxItems",
        "minLength",
        "maxLength",
        "minProperties",
        "maxProperties",
        "multipleOf",
    ):
        yield Finding("schema.range", f"{where}: {_range_text(keyword, error.validator_value)}", path)
    elif keyword in ("oneOf", "anyOf", "not"):
        desc = schema.get("description", "")
        extra = f": {desc}" if desc else ""
        yield Finding("schema.variant", f"{where} matches none of the allowed shapes{extra}", path)
    else:
        yield Finding("schema.invalid", f"{where}: {_safe_message(error)}", path)


def _pattern_allows(schema: dict[str, Any], key: str) -> bool:
    return any(re.search(p, key) for p in schema.get("patternProperties", {}))


def _did_you_mean(word: str, options: list[str]) -> str | None:
    matches = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if matches:
        return matches[0]
    lowered = {o.lower(): o for o in options}
    return lowered.get(word.lower())


def _echo(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else f"'{value}'"
    return text if len(text) <= _ECHO_LIMIT else f"a {_type_name(value)} of {len(str(value))} characters"


def _type_name(value: Any) -> str:
    names = {
        dict: "a mapping",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        type(None): "null",
    }
    return names.get(type(value), type(value).__name__)


def _article(type_text: str) -> str:
    words = {
        "object": "a mapping",
        "array": "a list",
        "string": "a string",
        "integer": "an integer",
        "number": "a number",
        "boolean": "a boolean",
        "null": "null",
    }
    return " or ".join(words.get(t.strip(), t.strip()) for t in type_text.split(" or "))


def _range_text(keyword: str, limit: Any) -> str:
    texts = {
        "minimum": f"must be at least {limit}",
        "maximum": f"must be at most {limit}",
        "exclusiveMinimum": f"must be more than {limit}",
        "exclusiveMaximum": f"must be less than {limit}",
        "minItems": f"needs at least {limit} item(s)",
        "maxItems": f"allows at most {limit} item(s)",
        "minLength": f"must be at least {limit} character(s) long",
        "maxLength": f"must be at most {limit} characters",
        "minProperties": f"needs at least {limit} key(s)",
        "maxProperties": f"allows at most {limit} key(s)",
        "multipleOf": f"must be a multiple of {limit}",
    }
    return texts[keyword]


def _safe_message(error: ValidationError) -> str:
    """jsonschema's message without the offending value, which may be a secret."""
    return f"breaks the schema's '{error.validator}' rule; see `maestro schema` for the allowed shape"
