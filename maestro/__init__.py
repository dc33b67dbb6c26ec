"""maestro: the control plane around AI systems, driven by GitOps manifests."""

from __future__ import annotations

__version__ = "0.1.0"
