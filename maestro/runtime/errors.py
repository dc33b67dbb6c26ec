"""The runtime's exceptions (all ``maestro.errors.MaestroError``, so the CLI maps them to exit 2)::

RunError                the run cannot be started, found or steered as asked; the message says what to do
├── InterruptError      an approval names a stale or unknown interrupt, or the approver may not approve it
└── NodeError           a node failed (a tool, a model call, an edge); recorded on the node, never raised
    │                   out of a run
    └── LimitError      a node's limit is reached: its or the run's cost cap, the Agent's maxSteps, tokens or
                        cost per step (stops the node; not retried)
"""

from __future__ import annotations

from maestro.errors import MaestroError


class RunError(MaestroError):
    """A run cannot be started, found or steered as asked."""


class InterruptError(RunError):
    """An approval or rejection cannot be applied to this interrupt."""


class NodeError(RunError):
    """A node failed; the run records it on the node and stops with the reason."""


class LimitError(NodeError):
    """A node's limit is reached (a cost cap, an Agent's limit per step); another attempt would reach it too."""
