"""The runtime: Pipelines run durably on DBOS, with human approvals, autonomy gates and MCP tools.

Modules, one concept each::

    snapshot    pinning a run to the manifests it started with (content and digest)
    graph       a Pipeline as typed nodes and edges; which edge a finished node takes (CEL)
    tools       an Agent's MCP servers and tools; one checked call with an idempotency key
    autonomy    a tool's action judged against the AutonomyLevel: allow, approval, forbid
    approvals   interrupt ids; signed approve/reject decisions and whose count
    nodes       running one model, agent or tool node into a node record
    evidence    ledger entries for nodes, calls, approvals and refusals
    workflow    the one DBOS workflow that interprets a Pipeline, and its steps
    engine      DBOS configured for a repository: launch/destroy, a read-only client
    runs        a run's states and the events that drive them (start, decide, cancel, resume, follow)

Errors: see ``maestro.runtime.errors``.
"""
