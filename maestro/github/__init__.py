"""GitHub for the eval gate: one pull-request comment kept up to date, a check run with annotations on the
failing cases' lines, and the Actions step summary. PyGithub talks to the API (``base_url`` from
``GITHUB_API_URL``, so GitHub Enterprise and a local stand-in work alike).

    publish(client, context, result, cards, forecasts)    # what `maestro gate --github` does

    GitHubError(MaestroError)    the API refused or the Actions context is incomplete; exit 2
"""

from __future__ import annotations

from maestro.github.context import ActionsContext, GitHubError
from maestro.github.publish import client, publish, publish_from_environment

__all__ = ["ActionsContext", "GitHubError", "client", "publish", "publish_from_environment"]
