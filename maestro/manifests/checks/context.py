"""What every whole-set check shares: the set, the taxonomy, and a place to put findings."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from maestro.manifests import expressions
from maestro.manifests.diagnostics import Diagnostic
from maestro.manifests.loader import Document, ManifestSet

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """Tags and jurisdictions defined by every Policy in the set."""

    jurisdictions: frozenset[str]
    tags: Mapping[str, Mapping[str, Any]]

    @classmethod
    def of(cls, manifests: ManifestSet) -> Taxonomy:
        jurisdictions: set[str] = set()
        tags: dict[str, Mapping[str, Any]] = {}
        for policy in manifests.of_kind("Policy"):
            taxonomy = policy.spec.get("taxonomy", {})
            jurisdictions.update(j["name"] for j in taxonomy.get("jurisdictions", []))
            for tag in taxonomy.get("tags", []):
                tags.setdefault(tag["name"], tag)
        return cls(frozenset(jurisdictions), tags)


@dataclass
class Checker:
    manifests: ManifestSet
    taxonomy: Taxonomy
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def report(self, doc: Document, path: Path, rule: str, message: str, *, key: bool = False) -> None:
        self.diagnostics.append(self.manifests.locator.diagnostic(doc, path, rule, message, key=key))

    def ref(self, doc: Document, path: Path, kind: str, name: str) -> Document | None:
        """The document ``kind/name``, or a ref.unresolved finding at ``path``."""
        target = self.manifests.get(kind, name)
        if target is None and not self.manifests.exists(kind, name):
            known = sorted(self.manifests.index(kind))
            hint = _closest(name, known)
            tail = (
                f"did you mean '{hint}'?" if hint else (f"known: {', '.join(known)}" if known else f"define a {kind}")
            )
            self.report(doc, path, "ref.unresolved", f"{kind} '{name}' does not exist; {tail}")
        return target

    def provider_model(self, doc: Document, path: Path, pair: Mapping[str, Any]) -> Document | None:
        """Resolve a {provider, model} pair, reporting a missing provider or a model it does not offer."""
        provider = self.ref(doc, (*path, "provider"), "Provider", pair["provider"])
        if provider is None:
            return None
        models = [m["name"] for m in provider.spec.get("models", [])]
        if pair["model"] not in models:
            hint = _closest(pair["model"], models)
            tail = f"did you mean '{hint}'?" if hint else f"it offers: {', '.join(models)}"
            self.report(
                doc,
                (*path, "model"),
                "ref.model",
                f"provider '{provider.name}' does not offer model '{pair['model']}'; {tail}",
            )
            return None
        return provider

    def cel(
        self,
        doc: Document,
        path: Path,
        expression: str,
        context: str,
        fields: Mapping[str, Collection[str]] | None = None,
    ) -> None:
        for problem in expressions.check(expression, context, fields):
            self.diagnostics.append(self._cel_diagnostic(doc, path, expression, problem))
        if context in ("request", "policy"):
            for tag in expressions.tags_tested(expression):
                self.tag(doc, path, tag)

    def _cel_diagnostic(self, doc: Document, path: Path, expression: str, problem: expressions.Problem) -> Diagnostic:
        """At the problem's own column inside the expression when it has one, else at the expression."""
        found = self.manifests.locator.diagnostic(
            doc, path, problem.rule, f"{problem.message} (in `{_short(expression)}`)"
        )
        texts = self.manifests.locator.texts
        place = problem if problem.column is not None else replace(problem, line=1, column=1)  # its first character
        spot = expressions.place_in_file(texts.get(doc.file), found.line, found.column, expression, place)
        if spot is not None:
            return replace(found, line=spot[0], column=spot[1])
        if problem.column is not None:
            where = f"line {problem.line}, column {problem.column}" if problem.line != 1 else f"column {problem.column}"
            return replace(found, message=f"{found.message}, at {where} of the expression")
        return found

    def tag(self, doc: Document, path: Path, tag: str) -> None:
        if tag not in self.taxonomy.tags:
            hint = _closest(tag, list(self.taxonomy.tags))
            tail = f"did you mean '{hint}'?" if hint else "add it to a Policy's taxonomy"
            self.report(
                doc,
                path,
                "policy.unknown-tag",
                f"tag '{tag}' is not in the taxonomy and would be denied; {tail}",
            )

    def jurisdiction(self, doc: Document, path: Path, name: str) -> None:
        if name not in self.taxonomy.jurisdictions:
            known = ", ".join(sorted(self.taxonomy.jurisdictions)) or "none defined"
            self.report(
                doc,
                path,
                "policy.unknown-jurisdiction",
                f"jurisdiction '{name}' is not in the taxonomy (known: {known}); add it to a Policy or fix it",
            )


def _closest(word: str, options: list[str]) -> str | None:
    import difflib

    matches = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return matches[0] if matches else None


def _short(expression: str) -> str:
    return expression if len(expression) <= 60 else expression[:57] + "..."
