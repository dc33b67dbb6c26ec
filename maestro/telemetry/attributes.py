"""Span attribute names: OpenTelemetry GenAI semantic conventions, plus maestro's own."""

from __future__ import annotations

OPERATION = "gen_ai.operation.name"
PROVIDER = "gen_ai.provider.name"
REQUEST_MODEL = "gen_ai.request.model"
RESPONSE_MODEL = "gen_ai.response.model"
INPUT_TOKENS = "gen_ai.usage.input_tokens"
OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
ERROR_TYPE = "error.type"
ROUTE = "maestro.route"
DECISION_ID = "maestro.decision.id"
COST_USD = "maestro.cost.usd"
DEPLOYMENT = "maestro.deployment"
ATTEMPT = "maestro.attempt"
SERVED_BY = "maestro.served_by"
