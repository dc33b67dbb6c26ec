"""Plain-words explanations of manifests: what a document does and what follows from it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Final

from maestro.errors import UsageError
from maestro.explain.agents import explain_agent
from maestro.explain.evalsuites import explain_eval
from maestro.explain.governance import explain_level, explain_policy
from maestro.explain.model import Explanation, Section
from maestro.explain.pipelines import explain_pipeline
from maestro.explain.providers import explain_provider
from maestro.explain.rollouts import explain_rollout
from maestro.explain.routes import explain_route
from maestro.manifests.diagnostics import Diagnostic
from maestro.manifests.kinds import UnknownKind, kind
from maestro.manifests.loader import Document, ManifestSet
from maestro.manifests.schemas import KINDS, kind_for

Explainer = Callable[[ManifestSet, Document], Explanation]

# Each registered kind's explanation (explain sits above manifests, so it cannot hang on the kind's registry
# entry); tests/explain checks that every kind in maestro.manifests.kinds.KINDS has one.
EXPLAINERS: Final[Mapping[str, Explainer]] = {
    "Provider": explain_provider,
    "Route": explain_route,
    "Policy": explain_policy,
    "AutonomyLevel": explain_level,
    "Agent": explain_agent,
    "Pipeline": lambda _, doc: explain_pipeline(doc),
    "EvalSuite": lambda _, doc: explain_eval(doc),
    "Rollout": lambda _, doc: explain_rollout(doc),
}


def explain(manifests: ManifestSet, doc: Document) -> Explanation:
    """Explain ``doc`` in the context of the whole set it belongs to; a kind maestro does not know is an error."""
    entry = kind(doc.kind)  # UnknownKind for a kind no registry line names
    explainer = EXPLAINERS.get(entry.name)
    if explainer is None:
        raise UnknownKind(f"{doc.kind} is a known kind but has no explanation; add one to maestro/explain")
    return explainer(manifests, doc)


def resolve(manifests: ManifestSet, target: str, diagnostics: Sequence[Diagnostic] = ()) -> list[Document]:
    """The documents ``target`` names: every valid document of a file, or one ``KIND/NAME``."""
    path = Path(target)
    if path.is_file():
        docs = [d for d in manifests.documents if Path(d.file).resolve() == path.resolve()]
        if docs:
            return docs
        errors = [d for d in diagnostics if d.severity == "error" and Path(d.file).resolve() == path.resolve()]
        if errors:
            first = errors[0]
            raise UsageError(
                f"{target} has {len(errors)} error(s), first {first.file}:{first.line}:{first.column}: "
                f"{first.message}; run `maestro validate` and fix them"
            )
        raise UsageError(f"{target} holds no manifest documents")
    kind_text, _, name = target.partition("/")
    kind = kind_for(kind_text)
    if kind is None or not name:
        raise UsageError(
            f"'{target}' is neither a file nor KIND/NAME (e.g. Route/support-chat); kinds: {', '.join(KINDS)}"
        )
    doc = manifests.get(kind, name)
    if doc is not None:
        return [doc]
    if manifests.exists(kind, name):
        raise UsageError(f"{kind}/{name} has errors; run `maestro validate` and fix them first")
    known = ", ".join(sorted(manifests.index(kind))) or "none"
    raise UsageError(f"no {kind} named '{name}'; known: {known}")


__all__ = ["EXPLAINERS", "Explanation", "Section", "explain", "resolve"]
