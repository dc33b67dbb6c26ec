"""Comparing two sets of manifests, and saying how risky each change is and why.

The core is pure: it takes already-read sources (and, optionally, functions that read a file a manifest
refers to, such as a prompt file) and returns plain records (``model``). The flow of ``diff_sources``
(``changes``):

1. ``documents`` parses each side into documents and matches them by kind and name; an unmatched removed
   document and an unmatched added one of the same kind with (nearly) the same spec are a rename.
2. ``walk`` compares each matched pair field by field into deltas: lists of named things are matched by
   name or id and their order ignored, except where order means something (a route's fallback chain, a
   rollout's steps); lists of scalars such as jurisdictions compare as sets. ``files`` adds changed
   contents of files the documents refer to.
3. ``risk`` classifies each delta with the rule table of its kind (``risk_governance``, ``risk_routing``,
   ``risk_delivery``, built from the rule kinds in ``handlers``), and ``values`` redacts what may be a
   secret.

Risk: ``high`` loosens a guard rail (more autonomy, fewer approvals, data reaching a new jurisdiction, a
weaker policy, a removed fallback or eval check), ``medium`` changes behaviour (prompts, models, weights,
any other setting), ``low`` changes only words for people (labels, descriptions).
"""

from __future__ import annotations

from maestro.manifests.diff.changes import diff_sources
from maestro.manifests.diff.model import Change, DiffResult, FileReader, Op, Risk
from maestro.manifests.diff.values import MISSING, REDACTED

__all__ = ["MISSING", "REDACTED", "Change", "DiffResult", "FileReader", "Op", "Risk", "diff_sources"]
