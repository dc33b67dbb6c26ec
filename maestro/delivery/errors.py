"""The delivery package's errors (all ``MaestroError``, so the CLI maps them to exit 2)::

DeliveryError           the rollout store cannot be used as asked
├── RolloutError        a Rollout that cannot start: no such rollout or route, no ``to`` deployment, a second one
└── TransitionError     an event the rollout's phase does not allow (promote in a freeze, resume a finished one)
"""

from __future__ import annotations

from maestro.errors import MaestroError


class DeliveryError(MaestroError):
    """Something about rollouts went wrong; the message says what and what to do."""


class RolloutError(DeliveryError):
    """A Rollout that cannot run as written."""


class TransitionError(DeliveryError):
    """An event the rollout's current phase does not allow."""
