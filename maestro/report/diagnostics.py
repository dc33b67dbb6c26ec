"""Validation diagnostics as compiler-style text, JSON, SARIF 2.1.0, JUnit XML or GitHub workflow commands."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from xml.etree import ElementTree as ET

from maestro import __version__
from maestro.manifests.diagnostics import Diagnostic, Severity, Summary
from maestro.manifests.rules import RULES

_RULES_DOC = "https://github.com/maestro-dev/maestro/blob/main/docs/rules.md"
FORMATS = ("text", "json", "sarif", "junit", "github")
_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_GITHUB_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
_SECRET_RULES = frozenset({"secret.inline"})  # these, and findings under an apiKey, may hold a secret: never echo


def render(fmt: str, diagnostics: Sequence[Diagnostic], summary: Summary, sources: Mapping[str, str]) -> str:
    renderers: dict[str, Callable[[Sequence[Diagnostic], Summary, Mapping[str, str]], str]] = {
        "text": text,
        "json": as_json,
        "sarif": sarif,
        "junit": junit,
        "github": github,
    }
    return renderers[fmt](diagnostics, summary, sources)


def text(diagnostics: Sequence[Diagnostic], summary: Summary, sources: Mapping[str, str]) -> str:
    lines: list[str] = []
    split: dict[str, list[str]] = {}
    secrets: dict[tuple[str, int], int] = {}  # (file, line) -> column where a secret starts
    for d in diagnostics:
        if d.rule in _SECRET_RULES or "apiKey" in d.path:
            secrets[d.file, d.line] = min(d.column, secrets.get((d.file, d.line), d.column))
    for d in diagnostics:
        lines.append(f"{d.file}:{d.line}:{d.column}: {d.severity} {d.rule} {d.message}")
        source = sources.get(d.file)
        if source is None:
            continue
        file_lines = split.setdefault(d.file, source.splitlines())
        if 0 < d.line <= len(file_lines):
            code = file_lines[d.line - 1].replace("\t", " ")
            if (d.file, d.line) in secrets:
                code = code[: secrets[d.file, d.line] - 1] + "<redacted>"
            lines.append(f"    {code}")
            lines.append("    " + " " * (d.column - 1) + "^")
    lines.append(summary_line(summary))
    return "\n".join(lines) + "\n"


def summary_line(summary: Summary) -> str:
    status = "failed" if summary.errors else "passed"
    return (
        f"{status}: {summary.files} file(s), {summary.documents} valid document(s): {summary.errors} error(s), "
        f"{summary.warnings} warning(s), {summary.info} info"
    )


def as_json(diagnostics: Sequence[Diagnostic], summary: Summary, sources: Mapping[str, str]) -> str:
    payload = {
        "diagnostics": [
            {
                "file": d.file,
                "line": d.line,
                "column": d.column,
                "severity": str(d.severity),
                "rule": d.rule,
                "message": d.message,
                "path": d.path,
            }
            for d in diagnostics
        ],
        "summary": {
            "files": summary.files,
            "documents": summary.documents,
            "errors": summary.errors,
            "warnings": summary.warnings,
            "info": summary.info,
            "ok": summary.errors == 0,
        },
    }
    return json.dumps(payload, indent=2) + "\n"


def sarif(diagnostics: Sequence[Diagnostic], summary: Summary, sources: Mapping[str, str]) -> str:
    used = sorted({d.rule for d in diagnostics})
    index = {rule: i for i, rule in enumerate(used)}
    run = {
        "tool": {
            "driver": {
                "name": "maestro",
                "version": __version__,
                "informationUri": "https://github.com/maestro-dev/maestro",
                "rules": [
                    {
                        "id": rule,
                        "shortDescription": {"text": RULES[rule].summary},
                        "defaultConfiguration": {"level": _SARIF_LEVEL[RULES[rule].severity]},
                        "helpUri": f"{_RULES_DOC}#{rule.replace('.', '')}",
                    }
                    for rule in used
                ],
            }
        },
        "results": [
            {
                "ruleId": d.rule,
                "ruleIndex": index[d.rule],
                "level": _SARIF_LEVEL[d.severity],
                "message": {"text": d.message},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": d.file},
                            "region": {"startLine": d.line, "startColumn": d.column},
                        }
                    }
                ],
            }
            for d in diagnostics
        ],
    }
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    }
    return json.dumps(doc, indent=2) + "\n"


def junit(diagnostics: Sequence[Diagnostic], summary: Summary, sources: Mapping[str, str]) -> str:
    """One test case per file; each error or warning is a failure of it."""
    by_file: dict[str, list[Diagnostic]] = {f: [] for f in sources}
    for d in diagnostics:
        by_file.setdefault(d.file, []).append(d)
    failing = [d for d in diagnostics if d.severity != Severity.INFO]
    suite = ET.Element(
        "testsuite",
        name="maestro validate",
        tests=str(len(by_file)),
        failures=str(len({d.file for d in failing})),
        errors="0",
    )
    for file, found in sorted(by_file.items()):
        case = ET.SubElement(suite, "testcase", classname="maestro.validate", name=file)
        problems = [d for d in found if d.severity != Severity.INFO]
        if problems:
            failure = ET.SubElement(case, "failure", message=f"{len(problems)} finding(s)", type=problems[0].rule)
            failure.text = "\n".join(
                f"{d.file}:{d.line}:{d.column}: {d.severity} {d.rule} {d.message}" for d in problems
            )
    suites = ET.Element("testsuites")
    suites.append(suite)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def github(diagnostics: Sequence[Diagnostic], summary: Summary, sources: Mapping[str, str]) -> str:
    lines = [
        f"::{_GITHUB_LEVEL[d.severity]} file={_prop(d.file)},line={d.line},col={d.column},"
        f"title={_prop(d.rule)}::{_data(d.message)}"
        for d in diagnostics
    ]
    lines.append(summary_line(summary))
    return "\n".join(lines) + "\n"


def _data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(value: str) -> str:
    return _data(value).replace(":", "%3A").replace(",", "%2C")
