"""Manifests: reading YAML (``yamlio``, the one module that imports the YAML library), each kind's JSON Schema
(``schemas``), whole-set checks (``checks``), validation (``validate``), explanations' inputs and the semantic
diff (``diff``). Nothing is imported here, so ``maestro validate`` in a pre-commit hook loads only what it uses."""
